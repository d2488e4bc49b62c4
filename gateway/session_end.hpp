// Every way a session can end. One cleanup path logs the reason (and, later, audits it).
#pragma once

#include <string_view>

namespace phigate {

enum class session_end {
  client_terminate,      ///< the client sent Terminate
  client_eof,            ///< the client closed the connection (also: psql probing for a password prompt)
  server_eof,            ///< the upstream server closed the connection
  cancel_request,        ///< the connection carried a CancelRequest and nothing else
  startup_refused,       ///< bad protocol version, forbidden startup parameter, TLS required, ...
  auth_failed,           ///< the person did not authenticate
  tls_failed,            ///< a TLS handshake failed (client or upstream side)
  upstream_unavailable,  ///< could not connect or authenticate to the upstream server
  startup_timeout,       ///< the client did not finish startup and authentication in time
  idle_timeout,          ///< the client was idle longer than allowed
  protocol_violation,    ///< malformed or unexpected bytes: phigate lost the ability to judge the stream
  message_too_large,     ///< a frame beyond max_message_bytes
  shutdown,              ///< the gateway is stopping
};

constexpr std::string_view to_string(session_end e) {
  switch (e) {
    case session_end::client_terminate:
      return "client_terminate";
    case session_end::client_eof:
      return "client_eof";
    case session_end::server_eof:
      return "server_eof";
    case session_end::cancel_request:
      return "cancel_request";
    case session_end::startup_refused:
      return "startup_refused";
    case session_end::auth_failed:
      return "auth_failed";
    case session_end::tls_failed:
      return "tls_failed";
    case session_end::upstream_unavailable:
      return "upstream_unavailable";
    case session_end::startup_timeout:
      return "startup_timeout";
    case session_end::idle_timeout:
      return "idle_timeout";
    case session_end::protocol_violation:
      return "protocol_violation";
    case session_end::message_too_large:
      return "message_too_large";
    case session_end::shutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace phigate

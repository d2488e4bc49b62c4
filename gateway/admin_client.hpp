// A small synchronous client for the admin HTTP API (`/api/v1/...`), used by `phigate approvals` and
// `phigate review`. One connection per call, HTTP/1.1 over TCP or TLS, bearer token, a deadline on every
// call.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "approvals/request.hpp"

namespace phigate {

/// Where the admin API lives, parsed from a base URL such as `https://gw.example:6480` or
/// `http://127.0.0.1:6480/phigate` (a path prefix is kept and the API paths are appended to it).
struct admin_endpoint {
  bool tls = false;
  std::string host;         ///< as written in the URL (brackets removed from IPv6 literals)
  std::string port;         ///< explicit port, or 80 / 443 from the scheme
  std::string path_prefix;  ///< "" or "/prefix" without a trailing slash
  std::string display;      ///< the URL as shown in messages, without a trailing slash
};

/// Parses a base URL: scheme http or https, a host, an optional port and path; no user info, query or
/// fragment. Returns the endpoint or a message saying what is wrong with the URL.
std::variant<admin_endpoint, std::string> parse_admin_url(std::string_view url);

/// Why a call gave no usable answer.
enum class admin_failure_kind {
  none,         ///< the call succeeded
  unreachable,  ///< no HTTP answer: name lookup, connect, TLS handshake, timeout or a dropped connection
  rejected,     ///< the API answered with a non-2xx status; `message` is its {"error"} text
  malformed,    ///< the API answered 2xx but not with the JSON the contract describes
};

/// A failed call: what kind, the HTTP status (0 when there was no answer) and a message for a person.
struct admin_failure {
  admin_failure_kind kind = admin_failure_kind::none;
  unsigned status = 0;
  std::string message;
};

/// The outcome of one call: `value` on success, otherwise `failure`. `raw` is the JSON body as received
/// (also for API errors), so callers can print it unchanged.
template <class T>
struct admin_result {
  std::optional<T> value;
  admin_failure failure;
  boost::json::value raw;

  bool ok() const noexcept { return value.has_value(); }
};

/// GET /api/v1/whoami.
struct admin_identity {
  std::string identity;
  std::vector<std::string> groups;
};

/// GET /api/v1/changes: the store's last sequence number and the requests changed after `since`.
struct admin_changes {
  std::uint64_t seq = 0;
  std::vector<approvals::request> requests;
};

struct admin_client_options {
  std::string token;                          ///< sent as `Authorization: Bearer <token>`
  std::string ca_file;                        ///< https: trust this CA file ("" = system store)
  std::chrono::milliseconds timeout{10'000};  ///< whole call: connect, send, receive
  std::stop_token stop;                       ///< a stop request ends a call in progress (unreachable)
  static constexpr std::size_t max_body_bytes = 64 * 1024 * 1024;
};

class admin_client {
 public:
  admin_client(admin_endpoint endpoint, admin_client_options options);

  /// GET /api/v1/requests?state=...&limit=...; no state = every state. Newest first.
  admin_result<std::vector<approvals::request>> list(std::optional<approvals::request_state> state,
                                                     std::size_t limit = 200) const;
  /// GET /api/v1/requests/<id>.
  admin_result<approvals::request> get(std::string_view id) const;
  /// POST /api/v1/requests/<id>/approve with {"reason": ...} (reason may be empty).
  admin_result<approvals::request> approve(std::string_view id, std::string_view reason) const;
  /// POST /api/v1/requests/<id>/deny with {"reason": ...}.
  admin_result<approvals::request> deny(std::string_view id, std::string_view reason) const;
  /// GET /api/v1/changes?since=...&timeout=...: long-poll; the call's deadline is extended by `timeout_s`.
  admin_result<admin_changes> changes(std::uint64_t since, unsigned timeout_s) const;
  /// GET /api/v1/whoami.
  admin_result<admin_identity> whoami() const;

  const admin_endpoint& endpoint() const noexcept { return endpoint_; }

 private:
  struct http_answer;
  http_answer call(std::string_view method, const std::string& target, const std::string& body,
                   std::chrono::milliseconds timeout) const;
  template <class T, class Convert>
  admin_result<T> fetch(std::string_view method, const std::string& target, const std::string& body,
                        std::chrono::milliseconds timeout, Convert convert) const;
  std::string target(std::initializer_list<std::string_view> segments,
                     std::initializer_list<std::pair<std::string_view, std::string>> query = {}) const;

  admin_endpoint endpoint_;
  admin_client_options options_;
};

}  // namespace phigate

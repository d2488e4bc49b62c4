// Startup phase: TLS negotiation, the startup packet, cancel requests, and SCRAM authentication of the
// person.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/pg_session.hpp"
#include "protocol/postgres/auth.hpp"

namespace phigate {

namespace {

// Startup parameters a client may set. Everything else is refused: `replication` would open a walsender that
// bypasses statement policy, and `options` (-c name=value) could change settings such as search_path or role
// behind the policy's back.
constexpr std::array allowed_startup_params = {
    std::string_view{"user"},
    std::string_view{"database"},
    std::string_view{"application_name"},
    std::string_view{"client_encoding"},
    std::string_view{"DateStyle"},
    std::string_view{"TimeZone"},
    std::string_view{"extra_float_digits"},
    std::string_view{"IntervalStyle"},
};

// PostgreSQL setting names are case-insensitive (libpq sends "datestyle" for PGDATESTYLE).
bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool is_allowed_param(std::string_view key) {
  return std::any_of(allowed_startup_params.begin(), allowed_startup_params.end(),
                     [key](std::string_view allowed) { return iequals(key, allowed); });
}

// An Authentication message phigate sends: SASL offers SCRAM-SHA-256 only; continue/final carry `data`.
pg::authentication auth_request(pg::auth_code code, std::string_view data = {}) {
  pg::authentication a;
  a.code = code;
  if (code == pg::auth_code::sasl) a.mechanisms = {pg::scram::mechanism};
  a.data = as_bytes(data);
  return a;
}

}  // namespace

asio::awaitable<pg_session::maybe_end> pg_session::negotiate_startup() {
  bool tls_done = false;
  bool gss_answered = false;
  for (;;) {
    error_code io;
    auto f = co_await client_reader_.next(client_, frame_reader::phase::startup, io);
    if (!f) {
      if (f.error().code == decode_errc::too_large || f.error().code == decode_errc::malformed) {
        if (!io && !watchdog_fired_)
          co_return co_await refuse(session_end::startup_refused, "08P01", "invalid startup packet layout");
      }
      co_return frame_error(f.error(), io, true);
    }
    auto packet = pg::decode_startup_packet(*f);
    if (!packet) {
      if (packet.error().code == decode_errc::unsupported)
        co_return co_await refuse(session_end::startup_refused, "0A000",
                                  "unsupported frontend protocol: phigate speaks protocol 3.0");
      co_return co_await refuse(session_end::startup_refused, "08P01",
                                "invalid startup packet: " + std::string(packet.error().what));
    }
    if (std::holds_alternative<pg::ssl_request>(*packet)) {
      if (tls_done)
        co_return co_await refuse(session_end::startup_refused, "08P01",
                                  "SSLRequest after TLS was already negotiated");
      if (auto end = co_await handle_ssl_request(tls_done)) co_return end;
      continue;
    }
    if (std::holds_alternative<pg::gssenc_request>(*packet)) {
      if (tls_done || gss_answered)
        co_return co_await refuse(session_end::startup_refused, "08P01", "unexpected GSSENCRequest");
      gss_answered = true;
      if (!co_await send_client("N")) co_return session_end::client_eof;
      continue;
    }
    if (auto* cancel = std::get_if<pg::cancel_request>(&*packet)) {
      co_await forward_cancel(*cancel);
      co_return session_end::cancel_request;
    }
    const auto& startup = std::get<pg::startup_message>(*packet);
    if (config().tls && config().tls->required && !client_.is_tls())
      co_return co_await refuse(session_end::startup_refused, "28000",
                                "phigate requires TLS: connect with sslmode=require or stronger");
    co_return co_await accept_startup_message(startup);
  }
}

asio::awaitable<pg_session::maybe_end> pg_session::handle_ssl_request(bool& tls_done) {
  if (!snapshot_->client_tls) {
    if (!co_await send_client("N")) co_return session_end::client_eof;
    co_return std::nullopt;
  }
  // Bytes that arrived together with the SSLRequest would be read as if they came over TLS once the
  // handshake is done, though nothing protected them (CVE-2021-23222 class). Refuse them, as PostgreSQL and
  // PgBouncer do.
  if (client_reader_.buffered() > 0 || client_.available() > 0) {
    end_detail_ = "data received before the TLS handshake";
    co_return session_end::protocol_violation;
  }
  if (!co_await send_client("S")) co_return session_end::client_eof;
  auto ec = co_await client_.tls_accept(*snapshot_->client_tls);
  if (ec) {
    end_detail_ = "client TLS handshake: " + ec.message();
    co_return watchdog_fired_ ? *watchdog_fired_ : session_end::tls_failed;
  }
  tls_done = true;
  co_return std::nullopt;
}

asio::awaitable<pg_session::maybe_end> pg_session::accept_startup_message(const pg::startup_message& m) {
  for (const auto& [key, value] : m.params) {
    if (key == "user")
      identity_.user = value;
    else if (key == "database")
      identity_.database = value;
    else if (key == "application_name")
      identity_.application_name = value;
    if (key == "replication")
      co_return co_await refuse(session_end::startup_refused, "28000",
                                "phigate does not allow replication connections");
    if (key.starts_with("_pq_.")) continue;  // protocol extensions: reported as unrecognized below
    if (!is_allowed_param(key))
      co_return co_await refuse(session_end::startup_refused, "08P01",
                                "startup parameter \"" + std::string(key) + "\" is not allowed by phigate");
    if (key != "user" && key != "database") client_params_.emplace_back(key, value);
  }
  if (identity_.user.empty())
    co_return co_await refuse(session_end::startup_refused, "28000",
                              "no PostgreSQL user name specified in startup packet");
  if (identity_.database.empty()) identity_.database = identity_.user;
  audit_.connected(snapshot_->audit, id_, identity_);
  // A client asking for a newer minor version, or for protocol extensions, is told what we speak.
  std::vector<std::string_view> unrecognized;
  for (const auto& [key, value] : m.params)
    if (key.starts_with("_pq_.")) unrecognized.push_back(key);
  if ((m.protocol & 0xFFFF) != 0 || !unrecognized.empty()) {
    std::string bytes;
    pg::negotiate_protocol_version{0, unrecognized}.encode(bytes);
    if (!co_await send_client(bytes)) co_return session_end::client_eof;
  }
  co_return std::nullopt;
}

asio::awaitable<void> pg_session::forward_cancel(const pg::cancel_request& c) {
  // A statement held for approval has not reached the server: the cancel abandons the request instead.
  if (ctx_->cancels().interrupt_hold(c.process_id, c.secret_key)) {
    end_detail_ = "abandoned a statement held for approval";
    co_return;
  }
  auto target = ctx_->cancels().find(c.process_id, c.secret_key);
  if (!target) {
    end_detail_ = "unknown cancel key";
    co_return;
  }
  end_detail_ = "forwarded to upstream backend " + std::to_string(target->process_id);
  try {
    tcp::resolver resolver(client_.socket().get_executor());
    auto endpoints =
        co_await resolver.async_resolve(target->host, std::to_string(target->port), asio::use_awaitable);
    tcp::socket sock(client_.socket().get_executor());
    co_await asio::async_connect(sock, endpoints, asio::use_awaitable);
    std::string bytes;
    pg::cancel_request{target->process_id, target->secret_key}.encode(bytes);
    transport t(std::move(sock));
    error_code ec;
    co_await t.write_all(bytes, ec);
    t.close();
  } catch (const boost::system::system_error& e) {
    end_detail_ = std::string("cancel could not reach the upstream server: ") + e.what();
  }
}

asio::awaitable<decoded<pg::frame>> pg_session::read_client_password_frame(maybe_end& end) {
  error_code io;
  auto f = co_await client_reader_.next(client_, frame_reader::phase::typed, io);
  if (!f) {
    end = frame_error(f.error(), io, true);
    co_return f;
  }
  if (f->type != pg::frontend_type::password) {
    end = protocol_violation("expected a password message during authentication");
    co_return decode_error{decode_errc::malformed, "unexpected message"};
  }
  co_return f;
}

asio::awaitable<pg_session::maybe_end> pg_session::authenticate_client() {
  auto it = config().users.find(identity_.user);
  const bool known = it != config().users.end();
  // An unknown user goes through the same exchange against a mock verifier, so the failure looks the same.
  pg::scram::server_exchange scram(known ? it->second.verifier
                                         : pg::scram::mock_verifier(identity_.user, ctx_->mock_secret()));
  std::string out;
  auth_request(pg::auth_code::sasl).encode(out);
  if (!co_await send_client(out)) co_return session_end::client_eof;

  maybe_end end;
  auto first = co_await read_client_password_frame(end);
  if (end) co_return end;
  auto initial = pg::sasl_initial_response::decode(*first);
  if (!initial || initial->mechanism != pg::scram::mechanism || !initial->data)
    co_return co_await refuse(session_end::auth_failed, "08P01",
                              "client selected an invalid SASL authentication mechanism");
  auto step1 = scram.on_client_first(as_chars(*initial->data));
  if (step1.result != pg::scram::status::ok)
    co_return co_await refuse(session_end::auth_failed, "08P01", "malformed SCRAM message");
  out.clear();
  auth_request(pg::auth_code::sasl_continue, step1.message).encode(out);
  if (!co_await send_client(out)) co_return session_end::client_eof;

  auto second = co_await read_client_password_frame(end);
  if (end) co_return end;
  auto response = pg::sasl_response::decode(*second);
  if (!response) co_return co_await refuse(session_end::auth_failed, "08P01", "malformed SCRAM message");
  auto step2 = scram.on_client_final(as_chars(response->data));
  if (step2.result == pg::scram::status::bad_message)
    co_return co_await refuse(session_end::auth_failed, "08P01", "malformed SCRAM message");
  if (step2.result != pg::scram::status::ok || !known) {
    spdlog::warn("session {}: password authentication failed for user \"{}\" from {}", id_, identity_.user,
                 identity_.client_address);
    audit_.authenticated(identity_, false, "password authentication failed");
    co_return co_await refuse(session_end::auth_failed, "28P01",
                              "password authentication failed for user \"" + identity_.user + "\"");
  }
  out.clear();
  auth_request(pg::auth_code::sasl_final, step2.message).encode(out);
  auth_request(pg::auth_code::ok).encode(out);
  if (!co_await send_client(out)) co_return session_end::client_eof;

  const user_config& user = it->second;
  identity_.groups = user.groups;
  identity_.upstream_role = user.role;
  identity_.upstream_user = config().roles.at(user.role).user;
  audit_.authenticated(identity_, true);
  co_return std::nullopt;
}

}  // namespace phigate

// Upstream phase: connect to the server as the person's role (credentials only phigate holds), negotiate TLS
// per the configured mode, authenticate, and relay the server's startup parameters to the client with
// phigate's own BackendKeyData in place of the server's.
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/pg_session.hpp"
#include "protocol/postgres/auth.hpp"

namespace phigate {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<pg_session::maybe_end> pg_session::connect_upstream() {
  if (auto end = co_await open_upstream_socket()) co_return end;
  if (auto end = co_await negotiate_upstream_tls()) co_return end;
  if (auto end = co_await authenticate_upstream()) co_return end;
  gate_ = gateway_context::make_gate(*snapshot_, identity_);
  rewriter_ = gateway_context::make_rewriter(*snapshot_, identity_);
  co_return co_await relay_upstream_startup();
}

asio::awaitable<pg_session::maybe_end> pg_session::open_upstream_socket() {
  const auto& up = config().upstream;
  auto executor = client_.socket().get_executor();
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(up.host, std::to_string(up.port), use_tuple);
  if (rec) {
    spdlog::error("session {}: cannot resolve upstream {}: {}", id_, up.host, rec.message());
    co_return co_await refuse(session_end::upstream_unavailable, "08006",
                              "phigate could not reach the upstream server");
  }
  tcp::socket sock(executor);
  asio::steady_timer timer(executor);
  timer.expires_after(config().limits.upstream_connect_timeout);
  timer.async_wait([&sock](error_code ec) {
    if (!ec) sock.close();
  });
  auto [cec, ep] = co_await asio::async_connect(sock, endpoints, use_tuple);
  timer.cancel();
  if (cec) {
    spdlog::error("session {}: cannot connect to upstream {}:{}: {}", id_, up.host, up.port, cec.message());
    co_return co_await refuse(session_end::upstream_unavailable, "08006",
                              "phigate could not connect to the upstream server");
  }
  sock.set_option(tcp::no_delay(true));
  upstream_.emplace(std::move(sock));
  co_return std::nullopt;
}

asio::awaitable<pg_session::maybe_end> pg_session::negotiate_upstream_tls() {
  const auto& up = config().upstream;
  if (up.tls == upstream_tls_mode::disable) co_return std::nullopt;
  std::string req;
  pg::ssl_request{}.encode(req);
  error_code ec;
  co_await upstream_->write_all(req, ec);
  char answer = 0;
  std::size_t n = ec ? 0 : co_await upstream_->read_some({&answer, 1}, ec);
  if (ec || n != 1) {
    end_detail_ = "upstream closed during SSLRequest";
    co_return co_await refuse(session_end::upstream_unavailable, "08006",
                              "phigate could not connect to the upstream server");
  }
  if (answer == 'N' && up.tls == upstream_tls_mode::prefer) co_return std::nullopt;
  if (answer != 'S') {
    spdlog::error("session {}: upstream refused TLS (tls mode requires it)", id_);
    co_return co_await refuse(
        session_end::upstream_unavailable, "08006",
        "the upstream server does not support TLS, which phigate is configured to require");
  }
  ec = co_await upstream_->tls_connect(*snapshot_->upstream_tls, up.host,
                                       up.tls == upstream_tls_mode::verify_full);
  if (ec) {
    spdlog::error("session {}: upstream TLS handshake failed: {}", id_, ec.message());
    co_return co_await refuse(session_end::tls_failed, "08006",
                              "phigate could not establish TLS with the upstream server");
  }
  co_return std::nullopt;
}

asio::awaitable<pg_session::maybe_end> pg_session::authenticate_upstream() {
  std::string out;
  pg::startup_message startup;
  startup.params.emplace_back("user", identity_.upstream_user);
  startup.params.emplace_back("database", identity_.database);
  for (const auto& [k, v] : client_params_) startup.params.emplace_back(k, v);
  startup.encode(out);
  error_code ec;
  co_await upstream_->write_all(out, ec);
  std::optional<pg::scram::client_exchange> scram;
  for (;;) {
    error_code io;
    auto f = co_await upstream_reader_.next(*upstream_, frame_reader::phase::typed, io);
    if (!f) co_return frame_error(f.error(), io, false);
    if (f->type == pg::backend_type::error_response) {
      auto err = pg::error_response::decode(*f);
      auto code = err ? err->field('C').value_or("") : std::string_view{};
      spdlog::error("session {}: upstream refused role {}: {} {}", id_, identity_.upstream_user, code,
                    err ? err->field('M').value_or("") : "");
      // Authentication problems of phigate's own role are the operator's business, not the person's; other
      // startup errors (database does not exist, too many connections) are relayed as the server words them.
      if (code.starts_with("28"))
        co_return co_await refuse(session_end::upstream_unavailable, "08004",
                                  "phigate could not authenticate to the upstream server");
      end_detail_ = "upstream refused the connection";
      co_await send_client(std::string(as_chars(f->whole)));
      co_return session_end::upstream_unavailable;
    }
    if (f->type != pg::backend_type::authentication)
      co_return protocol_violation("server: expected an authentication request");
    auto auth = pg::authentication::decode(*f);
    if (!auth) co_return protocol_violation("server: malformed authentication request");
    if (auth->code == pg::auth_code::ok) co_return std::nullopt;
    if (auto end = co_await answer_upstream_auth(*auth, scram)) co_return end;
  }
}

asio::awaitable<pg_session::maybe_end> pg_session::answer_upstream_auth(
    const pg::authentication& auth, std::optional<pg::scram::client_exchange>& scram) {
  const std::string& password = config().roles.at(identity_.upstream_role).password;
  std::string out;
  switch (auth.code) {
    case pg::auth_code::cleartext_password:
      pg::password_message{password}.encode(out);
      break;
    case pg::auth_code::md5_password:
      pg::password_message{pg::md5_password_response(identity_.upstream_user, password, auth.md5_salt)}
          .encode(out);
      break;
    case pg::auth_code::sasl: {
      if (std::find(auth.mechanisms.begin(), auth.mechanisms.end(), pg::scram::mechanism) ==
          auth.mechanisms.end())
        co_return co_await refuse(session_end::upstream_unavailable, "08004",
                                  "the upstream server offers no SASL mechanism phigate supports");
      scram.emplace(password);
      std::string first = scram->client_first();
      pg::sasl_initial_response{pg::scram::mechanism, as_bytes(first)}.encode(out);
      break;
    }
    case pg::auth_code::sasl_continue: {
      if (!scram) co_return protocol_violation("server: SASLContinue without SASL");
      auto step = scram->on_server_first(as_chars(auth.data));
      if (step.result != pg::scram::status::ok)
        co_return co_await refuse(session_end::upstream_unavailable, "08004",
                                  "phigate could not authenticate to the upstream server");
      pg::sasl_response{as_bytes(step.message)}.encode(out);
      break;
    }
    case pg::auth_code::sasl_final: {
      if (!scram || scram->on_server_final(as_chars(auth.data)).result != pg::scram::status::ok) {
        spdlog::error("session {}: upstream SCRAM server signature did not verify", id_);
        co_return co_await refuse(session_end::upstream_unavailable, "08004",
                                  "phigate could not verify the upstream server's identity");
      }
      co_return std::nullopt;
    }
    default:
      co_return co_await refuse(
          session_end::upstream_unavailable, "08004",
          "the upstream server asks for an authentication method phigate does not support");
  }
  error_code ec;
  co_await upstream_->write_all(out, ec);
  if (ec) co_return frame_error(decode_error{decode_errc::malformed, ""}, ec, false);
  co_return std::nullopt;
}

asio::awaitable<pg_session::maybe_end> pg_session::relay_upstream_startup() {
  std::string out;
  for (;;) {
    error_code io;
    auto f = co_await upstream_reader_.next(*upstream_, frame_reader::phase::typed, io);
    if (!f) co_return frame_error(f.error(), io, false);
    switch (f->type) {
      case pg::backend_type::backend_key_data: {
        auto key = pg::backend_key_data::decode(*f);
        if (!key) co_return protocol_violation("server: malformed BackendKeyData");
        upstream_key_ = *key;
        auto [pid, secret] = ctx_->cancels().issue(
            {config().upstream.host, config().upstream.port, key->process_id, key->secret_key});
        client_key_pid_ = pid;
        pg::backend_key_data{pid, secret}.encode(out);
        break;
      }
      case pg::backend_type::ready_for_query: {
        auto rfq = pg::ready_for_query::decode(*f);
        if (!rfq) co_return protocol_violation("server: malformed ReadyForQuery");
        transaction_status_ = rfq->status;
        out.append(as_chars(f->whole));
        if (!co_await send_client(out)) co_return session_end::client_eof;
        spdlog::info("session {} ready: user={} role={} database={} client={} tls={}", id_, identity_.user,
                     identity_.upstream_user, identity_.database, identity_.client_address, client_.is_tls());
        co_return std::nullopt;
      }
      case pg::backend_type::error_response:
        end_detail_ = "upstream error during startup";
        out.append(as_chars(f->whole));
        co_await send_client(out);
        co_return session_end::upstream_unavailable;
      case pg::backend_type::parameter_status:
      case pg::backend_type::notice_response:
        out.append(as_chars(f->whole));
        break;
      default:
        co_return protocol_violation("server: unexpected message during startup");
    }
  }
}

}  // namespace phigate

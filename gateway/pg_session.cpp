#include "gateway/pg_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace phigate {

pg_session::pg_session(tcp::socket socket, std::shared_ptr<gateway_context> ctx)
    : ctx_(std::move(ctx)),
      snapshot_(ctx_->snapshot()),
      id_(ctx_->next_session_id()),
      client_(std::move(socket)),
      client_reader_(config().limits.max_message_bytes),
      upstream_reader_(config().limits.max_server_message_bytes),
      client_write_idle_(client_.socket().get_executor()),
      watchdog_(client_.socket().get_executor()) {
  error_code ec;
  auto ep = client_.socket().remote_endpoint(ec);
  if (!ec) identity_.client_address = ep.address().to_string() + ":" + std::to_string(ep.port());
}

pg_session::~pg_session() {
  if (client_key_pid_) ctx_->cancels().release(*client_key_pid_);
}

asio::awaitable<void> pg_session::run() {
  arm_watchdog(config().limits.startup_timeout, session_end::startup_timeout);
  session_end end = co_await run_phases();
  co_await finish(end);
}

asio::awaitable<session_end> pg_session::run_phases() {
  if (auto end = co_await negotiate_startup()) co_return *end;
  state_ = pg_session_state::authenticating;
  if (auto end = co_await authenticate_client()) co_return *end;
  state_ = pg_session_state::connecting;
  if (auto end = co_await connect_upstream()) co_return *end;
  arm_watchdog(config().limits.idle_timeout, session_end::idle_timeout);  // replaces the startup deadline
  state_ = pg_session_state::ready;
  co_return co_await relay();
}

asio::awaitable<void> pg_session::finish(session_end why) {
  state_ = pg_session_state::closing;
  disarm_watchdog();
  if (!fatal_to_client_.empty() && client_.is_open()) {
    error_code ec;
    co_await client_.write_all(fatal_to_client_, ec);
  }
  if (upstream_ && upstream_->is_open()) {
    // Tell the server we are leaving so it does not log an unexpected EOF.
    std::string bye;
    pg::encode_empty(bye, pg::frontend_type::terminate);
    error_code ec;
    if (why != session_end::server_eof) co_await upstream_->write_all(bye, ec);
    upstream_->close();
  }
  client_.close();
  auto level = (why == session_end::client_terminate || why == session_end::client_eof ||
                why == session_end::cancel_request)
                   ? spdlog::level::info
                   : spdlog::level::warn;
  spdlog::log(level, "session {} ended: {}{}{} user={} client={}", id_, to_string(why),
              end_detail_.empty() ? "" : ": ", end_detail_, identity_.user.empty() ? "-" : identity_.user,
              identity_.client_address);
}

asio::awaitable<bool> pg_session::send_client(const std::string& bytes) {
  while (client_writing_) {
    // The timer is only a wake-up signal: the writer cancels it when done.
    client_write_idle_.expires_at(asio::steady_timer::time_point::max());
    co_await client_write_idle_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  client_writing_ = true;
  error_code ec;
  co_await client_.write_all(bytes, ec);
  client_writing_ = false;
  client_write_idle_.cancel();
  co_return !ec;
}

asio::awaitable<session_end> pg_session::refuse(session_end why, std::string_view sqlstate,
                                                std::string message) {
  std::string bytes;
  pg::encode_error(bytes, "FATAL", sqlstate, message);
  end_detail_ = std::move(message);
  co_await send_client(bytes);
  co_return why;
}

session_end pg_session::protocol_violation(std::string detail) {
  if (ending_) return session_end::protocol_violation;
  ending_ = true;
  fatal_to_client_.clear();
  pg::encode_error(fatal_to_client_, "FATAL", "08P01", "protocol violation: " + detail);
  end_detail_ = std::move(detail);
  return session_end::protocol_violation;
}

session_end pg_session::frame_error(const decode_error& e, error_code io, bool from_client) {
  if (ending_) return from_client ? session_end::client_eof : session_end::server_eof;
  ending_ = true;
  if (watchdog_fired_) {
    if (*watchdog_fired_ == session_end::idle_timeout) {
      pg::encode_error(fatal_to_client_, "FATAL", "57P05",
                       "terminating connection due to idle-session timeout");
    }
    return *watchdog_fired_;
  }
  if (io) {
    end_detail_ = io.message();
    if (from_client) return session_end::client_eof;
    pg::encode_error(fatal_to_client_, "FATAL", "08006",
                     "phigate lost the connection to the upstream server");
    return session_end::server_eof;
  }
  if (e.code == decode_errc::too_large) {
    end_detail_ =
        from_client ? "client message exceeds max_message_bytes" : "server message exceeds max_message_bytes";
    pg::encode_error(fatal_to_client_, "FATAL", "08P01",
                     from_client ? "message too large: exceeds the gateway's max_message_bytes"
                                 : "server message too large: exceeds the gateway's max_message_bytes");
    return session_end::message_too_large;
  }
  return protocol_violation(std::string(from_client ? "client: " : "server: ") + std::string(e.what));
}

void pg_session::arm_watchdog(std::chrono::milliseconds after, session_end reason) {
  if (after.count() <= 0) {
    disarm_watchdog();
    return;
  }
  watchdog_armed_ = true;
  watchdog_.expires_after(after);
  watchdog_.async_wait([this, reason](error_code ec) {
    // Runs after the session is gone when cancelled by the timer's destructor: touch nothing then.
    if (ec) return;
    watchdog_fired_ = reason;
    if (reason == session_end::idle_timeout) {
      // Wake the pending read; the socket stays writable so the client learns why (FATAL 57P05).
      client_.socket().shutdown(tcp::socket::shutdown_receive, ec);
      return;
    }
    client_.close();
    if (upstream_) upstream_->close();
  });
}

void pg_session::disarm_watchdog() {
  if (!watchdog_armed_) return;
  watchdog_armed_ = false;
  watchdog_.cancel();
}

void spawn_pg_session(tcp::socket socket, std::shared_ptr<gateway_context> ctx) {
  auto executor = socket.get_executor();
  auto session = std::make_shared<pg_session>(std::move(socket), std::move(ctx));
  asio::co_spawn(
      executor, [session]() -> asio::awaitable<void> { co_await session->run(); },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("session ended by an internal error: {}", ex.what());
        }
      });
}

}  // namespace phigate

// The admin HTTP listener (the `admin:` section): approvers list, inspect, approve and deny held statements
// over a small JSON API, and Slack posts button clicks to it. HTTP/1.1 with keep-alive, optionally TLS, on
// one io_context of its own so a slow approver never slows a database session.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <set>

#include "approvals/service.hpp"
#include "gateway/admin_routes.hpp"
#include "gateway/config.hpp"

namespace phigate {

/// Largest request body accepted (vote reasons, Slack payloads); larger → 413 and close.
inline constexpr std::size_t admin_max_body_bytes = 64 * 1024;
/// Largest request line plus headers.
inline constexpr std::size_t admin_max_header_bytes = 16 * 1024;
/// A client must send a whole request within this (slow-loris guard) and may idle this long between
/// keep-alive requests.
inline constexpr std::chrono::seconds admin_read_timeout{30};
inline constexpr std::chrono::seconds admin_write_timeout{30};

class admin_server {
 public:
  /// `config->admin` must be set. Nothing happens until start().
  admin_server(boost::asio::io_context& io, std::shared_ptr<approvals::service> service,
               std::shared_ptr<const gateway_config> config);
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  /// Builds the TLS context (if configured), binds, and starts accepting on the io_context. Throws
  /// std::runtime_error / boost::system::system_error when the certificate or the address is unusable.
  void start();
  /// Stops accepting and ends waiting long-polls; safe to call from any thread.
  void stop();
  /// The bound port (the kernel's choice when the config says 0); valid after start().
  std::uint16_t port() const noexcept { return port_; }
  /// How Slack clicks are answered (see admin_routes::set_slack_reply); before start().
  void set_slack_reply(admin_routes::slack_reply_fn reply);

  /// Shared with the sessions' coroutines; public so the implementation's free coroutines can reach it.
  struct shared_state;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<approvals::service> service_;
  std::shared_ptr<const gateway_config> config_;
  std::shared_ptr<shared_state> state_;
  std::uint64_t subscription_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace phigate

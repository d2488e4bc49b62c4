// The thread that serves approvers: the admin HTTP listener (`admin:`) and the chat notifier (`notify:`)
// share one io_context of their own, apart from the session workers.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "approvals/service.hpp"
#include "gateway/config.hpp"

namespace phigate {

class admin_server;
class chat_notifier;

class admin_runtime {
 public:
  /// Starts whatever the config asks for; null when it names neither an admin listener nor a chat channel.
  /// Throws (like the PostgreSQL listener) when the admin address cannot be bound or its TLS files load.
  static std::unique_ptr<admin_runtime> start(std::shared_ptr<approvals::service> service,
                                              std::shared_ptr<const gateway_config> config);
  ~admin_runtime();  ///< stops and joins the thread
  admin_runtime(const admin_runtime&) = delete;
  admin_runtime& operator=(const admin_runtime&) = delete;

  /// The admin listener's bound port; nullopt without `admin:`.
  std::optional<std::uint16_t> port() const noexcept;

  /// Stops accepting and ends pending long-polls, then the thread. Idempotent.
  void stop();

 private:
  admin_runtime() = default;

  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<admin_server> server_;
  std::unique_ptr<chat_notifier> notifier_;
  std::thread thread_;
};

}  // namespace phigate

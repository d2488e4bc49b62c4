// Connects the approvals service (store, rules) to the sessions that wait on it. A session that holds a
// statement watches its request; every change of that request, whoever made it (the admin API, chat, the
// expiry sweep), is posted to the session's own executor, so the session never touches another thread's
// state and never polls.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "approvals/service.hpp"

namespace phigate {

class approval_hub {
 public:
  using on_change = std::function<void(const approvals::request&)>;

  explicit approval_hub(std::shared_ptr<approvals::service> service);
  ~approval_hub();
  approval_hub(const approval_hub&) = delete;
  approval_hub& operator=(const approval_hub&) = delete;

  approvals::service& service() noexcept { return *service_; }
  const std::shared_ptr<approvals::service>& shared_service() const noexcept { return service_; }

  /// Posts `callback` to `executor` after every change of request `id`, until unwatch(token).
  std::uint64_t watch(std::string id, boost::asio::any_io_executor executor, on_change callback);
  void unwatch(std::uint64_t token);

 private:
  void dispatch(const approvals::request& changed);

  struct waiter {
    std::string id;
    boost::asio::any_io_executor executor;
    on_change callback;
  };
  std::shared_ptr<approvals::service> service_;
  std::uint64_t subscription_ = 0;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, waiter> waiters_;
  std::uint64_t next_token_ = 0;
};

}  // namespace phigate

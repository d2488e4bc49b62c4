#include "gateway/approval_hub.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace phigate {

approval_hub::approval_hub(std::shared_ptr<approvals::service> service) : service_(std::move(service)) {
  subscription_ = service_->subscribe([this](const approvals::request& r) { dispatch(r); });
}

approval_hub::~approval_hub() {
  service_->unsubscribe(subscription_);
}

std::uint64_t approval_hub::watch(std::string id, boost::asio::any_io_executor executor, on_change callback) {
  std::lock_guard lock(mutex_);
  const auto token = ++next_token_;
  waiters_.emplace(token, waiter{std::move(id), std::move(executor), std::move(callback)});
  return token;
}

void approval_hub::unwatch(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  waiters_.erase(token);
}

void approval_hub::dispatch(const approvals::request& changed) {
  // Runs on whichever thread changed the request; each waiter gets its own copy on its own executor.
  std::vector<std::pair<boost::asio::any_io_executor, on_change>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [token, w] : waiters_)
      if (w.id == changed.id) targets.emplace_back(w.executor, w.callback);
  }
  for (auto& [executor, callback] : targets)
    boost::asio::post(executor, [callback = std::move(callback), changed] { callback(changed); });
}

}  // namespace phigate

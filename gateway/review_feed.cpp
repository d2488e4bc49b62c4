#include "gateway/review_feed.hpp"

#include <algorithm>

namespace phigate {
namespace {

// Long enough to keep requests per minute low, short enough that a proxy with an idle timeout of 30 s or more
// never cuts the connection.
constexpr unsigned long_poll_seconds = 20;
// After a failed call: the UI shows the error while the feed waits this long before trying again.
constexpr std::chrono::milliseconds retry_pause_ms{2000};
// An API without the changes endpoint is polled with full lists this often instead.
constexpr std::chrono::milliseconds list_interval_ms{2000};
constexpr std::size_t list_limit = 500;

std::string failure_text(const admin_failure& failure) {
  if (failure.kind == admin_failure_kind::rejected) {
    return failure.message + " (HTTP " + std::to_string(failure.status) + ")";
  }
  return failure.message;
}

}  // namespace

review_feed::~review_feed() {
  stop_.request_stop();
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (actor_.joinable()) actor_.join();
}

void review_feed::start(admin_client poll_client, admin_client action_client) {
  poller_ = std::thread([this, client = std::move(poll_client)] { poll_loop(client); });
  actor_ = std::thread([this, client = std::move(action_client)] { action_loop(client); });
}

void review_feed::refresh() {
  {
    std::lock_guard lock(mutex_);
    actions_.push_back({action::type::refresh, {}, {}});
  }
  wake_.notify_all();
}

void review_feed::vote(std::string id, bool approve, std::string reason) {
  {
    std::lock_guard lock(mutex_);
    actions_.push_back(
        {approve ? action::type::approve : action::type::deny, std::move(id), std::move(reason)});
  }
  wake_.notify_all();
}

std::vector<review_event> review_feed::take_events() {
  std::lock_guard lock(mutex_);
  std::vector<review_event> out;
  out.swap(events_);
  return out;
}

void review_feed::push(review_event event) {
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
}

void review_feed::pause(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, stop_.get_token(), how_long, [] { return false; });
}

// Full list; on failure reports the error once (not every retry) and returns false.
bool review_feed::fetch_all(const admin_client& client, std::uint64_t& since) {
  auto listed = client.list(std::nullopt, list_limit);
  if (!listed.ok()) {
    auto text = failure_text(listed.failure);
    if (text != last_poll_error_) push({review_event::type::error, {}, {}, text});
    last_poll_error_ = text;
    return false;
  }
  if (!last_poll_error_.empty())
    push({review_event::type::notice, {}, {}, "connected to " + client.endpoint().display});
  last_poll_error_.clear();
  for (const auto& r : *listed.value) since = std::max(since, r.seq);
  push({review_event::type::replaced, std::move(*listed.value), {}, {}});
  return true;
}

void review_feed::poll_loop(const admin_client& client) {
  bool have_identity = false;
  bool need_list = true;
  bool long_poll = true;
  std::uint64_t since = 0;
  while (!stop_.stop_requested()) {
    if (!have_identity) {
      auto me = client.whoami();
      if (me.ok()) {
        have_identity = true;
        push({review_event::type::identity, {}, *me.value, {}});
      }
    }
    if (need_list) {
      if (!fetch_all(client, since)) {
        pause(retry_pause_ms);
        continue;
      }
      need_list = false;
    }
    if (!long_poll) {
      pause(list_interval_ms);
      need_list = true;
      continue;
    }
    auto changed = client.changes(since, long_poll_seconds);
    if (stop_.stop_requested()) break;
    if (!changed.ok()) {
      // An admin API without /changes still serves lists: fall back to polling them.
      if (changed.failure.kind == admin_failure_kind::rejected && changed.failure.status == 404) {
        long_poll = false;
        continue;
      }
      push({review_event::type::error, {}, {}, failure_text(changed.failure)});
      last_poll_error_ = failure_text(changed.failure);
      need_list = true;  // the store may have moved on while we could not see it
      pause(retry_pause_ms);
      continue;
    }
    for (const auto& r : changed.value->requests) since = std::max(since, r.seq);
    if (changed.value->requests.empty()) since = std::max(since, changed.value->seq);
    if (!changed.value->requests.empty()) {
      push({review_event::type::changed, std::move(changed.value->requests), {}, {}});
    }
  }
}

void review_feed::action_loop(const admin_client& client) {
  while (true) {
    action next;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop_.get_token(), [this] { return !actions_.empty(); })) return;
      next = std::move(actions_.front());
      actions_.pop_front();
    }
    if (next.what == action::type::refresh) {
      auto listed = client.list(std::nullopt, list_limit);
      if (listed.ok()) {
        push({review_event::type::replaced, std::move(*listed.value), {}, {}});
        push({review_event::type::notice, {}, {}, "refreshed"});
      } else {
        push({review_event::type::error, {}, {}, failure_text(listed.failure)});
      }
      continue;
    }
    const bool approve = next.what == action::type::approve;
    auto result = approve ? client.approve(next.id, next.reason) : client.deny(next.id, next.reason);
    const std::string verb = approve ? "approve" : "deny";
    if (!result.ok()) {
      push({review_event::type::error, {}, {}, verb + " " + next.id + ": " + failure_text(result.failure)});
      continue;
    }
    auto state = std::string(approvals::to_string(result.value->state));
    push({review_event::type::changed, {*result.value}, {}, {}});
    push({review_event::type::notice,
          {},
          {},
          verb + " recorded for " + next.id + ": request is now " + state});
  }
}

}  // namespace phigate

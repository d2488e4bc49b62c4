#include "gateway/cancel_registry.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <limits>

namespace phigate {

std::pair<std::int32_t, std::int32_t> cancel_registry::issue(upstream_backend_key upstream) {
  // The secret is what authorizes a cancel: it must be unguessable. The process id only has to be unique.
  std::int32_t secret = 0;
  unsigned char raw[sizeof secret];
  if (RAND_bytes(raw, sizeof raw) == 1) std::memcpy(&secret, raw, sizeof secret);
  std::lock_guard lock(mutex_);
  std::int32_t pid;
  do {
    pid = next_process_id_;
    next_process_id_ =
        next_process_id_ == std::numeric_limits<std::int32_t>::max() ? 1 : next_process_id_ + 1;
  } while (entries_.contains(pid));
  entries_.emplace(pid, entry{secret, std::move(upstream), {}});
  return {pid, secret};
}

void cancel_registry::release(std::int32_t process_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(process_id);
}

std::optional<upstream_backend_key> cancel_registry::find(std::int32_t process_id,
                                                          std::int32_t secret_key) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(process_id);
  if (it == entries_.end() || it->second.secret_key != secret_key) return std::nullopt;
  return it->second.upstream;
}

void cancel_registry::set_hold_hook(std::int32_t process_id, std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(process_id); it != entries_.end()) it->second.hold_hook = std::move(hook);
}

bool cancel_registry::interrupt_hold(std::int32_t process_id, std::int32_t secret_key) const {
  std::function<void()> hook;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(process_id);
    if (it == entries_.end() || it->second.secret_key != secret_key || !it->second.hold_hook) return false;
    hook = it->second.hold_hook;
  }
  hook();  // outside the lock: the hook may post work that sets a new hook
  return true;
}

}  // namespace phigate

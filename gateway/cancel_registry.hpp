// Maps the BackendKeyData phigate gives each client to the upstream backend that serves it, so a
// CancelRequest (which arrives on a fresh connection) reaches the right server process. Shared by all worker
// threads. A key phigate never issued maps to nothing and the request is dropped, as PostgreSQL does.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace phigate {

struct upstream_backend_key {
  std::string host;
  std::uint16_t port = 0;
  std::int32_t process_id = 0;
  std::int32_t secret_key = 0;
};

class cancel_registry {
 public:
  /// Issues a fresh client-facing key (random secret, unique process id) for `upstream`.
  std::pair<std::int32_t, std::int32_t> issue(upstream_backend_key upstream);
  /// Forgets a key when its session ends.
  void release(std::int32_t process_id);
  /// The upstream backend for a client key, if both parts match.
  std::optional<upstream_backend_key> find(std::int32_t process_id, std::int32_t secret_key) const;

  /// While a session holds a statement for approval, a cancel for its key calls `hook` (which must only
  /// post work to the session's own executor); an empty function removes it.
  void set_hold_hook(std::int32_t process_id, std::function<void()> hook);
  /// Calls the hold hook for a key, if both parts match and one is set; true when it did.
  bool interrupt_hold(std::int32_t process_id, std::int32_t secret_key) const;

 private:
  struct entry {
    std::int32_t secret_key;
    upstream_backend_key upstream;
    std::function<void()> hold_hook;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::int32_t, entry> entries_;
  std::int32_t next_process_id_ = 1;
};

}  // namespace phigate

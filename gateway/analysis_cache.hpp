// A bounded LRU of analyzer results keyed by the exact SQL text, one per worker thread: pgbench-style traffic
// repeats a few statements millions of times, and parsing each again would dominate the decide step.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policy/analyzer.hpp"
#include "policy/policy_model.hpp"

namespace phigate {

/// Analyses of recently seen statement texts. The analysis depends on the policy's function catalog, so
/// an entry remembers the policy it was made under and is recomputed for any other. Not thread-safe: use
/// one per thread (for_this_thread()).
class analysis_cache {
 public:
  static constexpr std::size_t default_capacity_entries = 4096;
  /// Longer texts are analyzed every time: bulk INSERTs with inline data rarely repeat, and caching them
  /// would let one session pin megabytes per entry.
  static constexpr std::size_t max_cached_sql_bytes = 16 * 1024;

  explicit analysis_cache(std::size_t capacity_entries = default_capacity_entries);

  /// The analysis of `sql` under `policy`'s function catalog, from the cache or freshly made.
  std::shared_ptr<const policy::analysis> get(std::string_view sql,
                                              const std::shared_ptr<const policy::policy_model>& policy);

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
  [[nodiscard]] std::size_t hits() const noexcept { return hits_; }
  [[nodiscard]] std::size_t misses() const noexcept { return misses_; }

  /// The calling thread's cache.
  static analysis_cache& for_this_thread();

 private:
  struct entry {
    std::string sql;
    std::shared_ptr<const policy::policy_model> policy;
    std::shared_ptr<const policy::analysis> result;
  };
  std::size_t capacity_;
  std::list<entry> order_;                                                  ///< most recently used first
  std::unordered_map<std::string_view, std::list<entry>::iterator> index_;  ///< views into order_'s sql
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

}  // namespace phigate

// Bounded LRUs of analyzer results, one set per worker thread: pgbench-style traffic repeats a few
// statements millions of times, and parsing each again would dominate the decide step. Results are
// found by the exact SQL text and, for plain DML, by the text with its literals taken out
// (policy/literal_key.hpp), so `... WHERE aid = 48213` and `... WHERE aid = 7` parse once between them.
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

/// True when `result` may stand for every statement that shares its literal key: one statement that
/// parsed, facts not marked literal_sensitive, and kinds no stricter than read and write (statements
/// that change sessions, privileges or the server are always analyzed from their own text).
bool reusable_across_literals(const policy::analysis& result);

/// True when two analyses agree on every fact apart from the statements' own text.
bool same_facts_apart_from_text(const policy::analysis& a, const policy::analysis& b);

/// Analyses of recently seen statement texts. The analysis depends on the policy's function catalog, so
/// an entry remembers the policy it was made under and is recomputed for any other. Not thread-safe: use
/// one per thread (for_this_thread()).
///
/// A literal key is trusted only after two different texts with that key were analyzed in full and gave
/// the same facts (and both were reusable_across_literals); a key whose texts disagreed is never trusted
/// while it stays cached. A hit by literal key returns a copy of the stored analysis with the
/// statement's own text in it.
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

  [[nodiscard]] std::size_t size() const noexcept { return exact_.index.size(); }
  [[nodiscard]] std::size_t hits() const noexcept { return hits_; }
  /// Hits by literal key (also counted in hits()).
  [[nodiscard]] std::size_t literal_hits() const noexcept { return literal_hits_; }
  [[nodiscard]] std::size_t misses() const noexcept { return misses_; }

  /// The calling thread's cache.
  static analysis_cache& for_this_thread();

 private:
  /// How far a literal key is trusted.
  enum class key_state : unsigned char {
    candidate,  ///< one text analyzed; waiting for a second one to compare with
    trusted,    ///< two texts agreed: the stored analysis stands for every text with this key
    refused,    ///< texts disagreed or were not reusable: always analyze in full
  };
  struct entry {
    std::string key;
    std::shared_ptr<const policy::policy_model> policy;
    std::shared_ptr<const policy::analysis> result;
    key_state state = key_state::candidate;
  };
  /// One LRU: most recently used first, index keys view the entries' own strings.
  struct lru {
    std::list<entry> order;
    std::unordered_map<std::string_view, std::list<entry>::iterator> index;

    entry* find(std::string_view key);
    entry& insert(std::string key, std::size_t capacity);
  };

  void learn_literal_key(std::string key, const std::shared_ptr<const policy::policy_model>& policy,
                         const std::shared_ptr<const policy::analysis>& result);

  std::size_t capacity_;
  lru exact_;
  lru by_literal_key_;
  std::size_t hits_ = 0;
  std::size_t literal_hits_ = 0;
  std::size_t misses_ = 0;
};

}  // namespace phigate

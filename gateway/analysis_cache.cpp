#include "gateway/analysis_cache.hpp"

#include <optional>

#include "policy/literal_key.hpp"

namespace phigate {

bool reusable_across_literals(const policy::analysis& result) {
  if (!result.ok() || result.statements.size() != 1) return false;
  const auto& facts = result.statements.front();
  if (facts.literal_sensitive) return false;
  // The normalized text must have every literal replaced (pg_query_normalize keeps some, such as
  // type modifiers): otherwise it would show one text's literals for another's.
  const auto normalized = policy::make_literal_key(facts.normalized);
  if (!normalized || !normalized->literals.empty()) return false;
  for (std::size_t k = 0; k < policy::statement_kind_count; ++k) {
    const auto kind = static_cast<policy::statement_kind>(k);
    if (kind != policy::statement_kind::read && kind != policy::statement_kind::write &&
        result.kinds.contains(kind))
      return false;
  }
  return true;
}

bool same_facts_apart_from_text(const policy::analysis& a, const policy::analysis& b) {
  if (a.kinds != b.kinds || a.ok() != b.ok() || a.statements.size() != b.statements.size()) return false;
  for (std::size_t i = 0; i < a.statements.size(); ++i) {
    policy::statement_facts other = b.statements[i];
    other.text = a.statements[i].text;
    if (!(a.statements[i] == other)) return false;
  }
  return true;
}

analysis_cache::entry* analysis_cache::lru::find(std::string_view key) {
  const auto it = index.find(key);
  if (it == index.end()) return nullptr;
  order.splice(order.begin(), order, it->second);
  return &*it->second;
}

analysis_cache::entry& analysis_cache::lru::insert(std::string key, std::size_t capacity) {
  if (index.size() >= capacity) {
    index.erase(order.back().key);
    order.pop_back();
  }
  order.push_front(entry{std::move(key), nullptr, nullptr, key_state::candidate});
  // The key views the entry's own string, which std::list never moves.
  index.emplace(order.front().key, order.begin());
  return order.front();
}

analysis_cache::analysis_cache(std::size_t capacity_entries)
    : capacity_(capacity_entries == 0 ? 1 : capacity_entries) {}

std::shared_ptr<const policy::analysis> analysis_cache::get(
    std::string_view sql, const std::shared_ptr<const policy::policy_model>& policy) {
  const auto analyze = [&] {
    return std::make_shared<const policy::analysis>(policy::analyze_sql(sql, policy->functions));
  };
  if (sql.size() > max_cached_sql_bytes) {
    ++misses_;
    return analyze();
  }
  entry* exact = exact_.find(sql);
  if (exact != nullptr && exact->policy == policy) {
    ++hits_;
    return exact->result;
  }
  std::optional<policy::literal_key> key;
  if (exact == nullptr) key = policy::make_literal_key(sql);
  if (key && !key->literals.empty()) {
    const entry* known = by_literal_key_.find(key->key);
    if (known != nullptr && known->policy == policy && known->state == key_state::trusted) {
      ++hits_;
      ++literal_hits_;
      // Every fact but the text is the same for all texts with this key (checked when it was trusted).
      auto copy = std::make_shared<policy::analysis>(*known->result);
      copy->statements.front().text = std::string(key->statement);
      return copy;
    }
  }
  ++misses_;
  // An entry made under a policy that has since been replaced (SIGHUP) is remade: the function catalog
  // may differ.
  if (exact == nullptr) exact = &exact_.insert(std::string(sql), capacity_);
  exact->policy = policy;
  exact->result = analyze();
  if (key && !key->literals.empty()) learn_literal_key(std::move(key->key), policy, exact->result);
  return exact->result;
}

void analysis_cache::learn_literal_key(std::string key,
                                       const std::shared_ptr<const policy::policy_model>& policy,
                                       const std::shared_ptr<const policy::analysis>& result) {
  const bool reusable = reusable_across_literals(*result);
  entry* known = by_literal_key_.find(key);
  if (known == nullptr || known->policy != policy) {
    if (known == nullptr) known = &by_literal_key_.insert(std::move(key), capacity_);
    known->policy = policy;
    known->result = result;
    known->state = reusable ? key_state::candidate : key_state::refused;
    return;
  }
  if (known->state != key_state::candidate) return;
  // A second text with this key: trusting the key needs both texts to give the same facts, which also
  // catches a literal-dependent fact that literal_sensitive failed to mark.
  known->state = reusable && same_facts_apart_from_text(*known->result, *result) ? key_state::trusted
                                                                                 : key_state::refused;
}

analysis_cache& analysis_cache::for_this_thread() {
  thread_local analysis_cache cache;
  return cache;
}

}  // namespace phigate

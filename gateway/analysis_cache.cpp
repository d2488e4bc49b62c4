#include "gateway/analysis_cache.hpp"

namespace phigate {

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
  if (const auto it = index_.find(sql); it != index_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    if (it->second->policy == policy) {
      ++hits_;
      return it->second->result;
    }
    // Made under a policy that has since been replaced (SIGHUP): its function catalog may differ.
    ++misses_;
    it->second->policy = policy;
    it->second->result = analyze();
    return it->second->result;
  }
  ++misses_;
  if (index_.size() >= capacity_) {
    index_.erase(order_.back().sql);
    order_.pop_back();
  }
  order_.push_front(entry{std::string(sql), policy, analyze()});
  // The key views the entry's own string, which std::list never moves.
  index_.emplace(order_.front().sql, order_.begin());
  return order_.front().result;
}

analysis_cache& analysis_cache::for_this_thread() {
  thread_local analysis_cache cache;
  return cache;
}

}  // namespace phigate

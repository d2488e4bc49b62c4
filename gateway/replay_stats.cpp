#include "gateway/replay_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace phigate::replay {

void latency_samples::add(std::int64_t latency_us, bool error) {
  if (sorted_ && !values_.empty() && latency_us < values_.back()) sorted_ = false;
  values_.push_back(latency_us);
  if (error) ++errors_;
}

void latency_samples::merge(const latency_samples& other) {
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  sorted_ = false;
  errors_ += other.errors_;
}

void latency_samples::sort() const {
  if (sorted_) return;
  std::sort(values_.begin(), values_.end());
  sorted_ = true;
}

std::int64_t latency_samples::percentile_us(double p) const {
  if (values_.empty()) return 0;
  sort();
  // Nearest rank: the smallest value with at least p of all samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values_.size())));
  return values_[std::clamp<std::size_t>(rank, 1, values_.size()) - 1];
}

latency_summary latency_samples::summary() const {
  latency_summary s;
  s.count = values_.size();
  s.errors = errors_;
  if (values_.empty()) return s;
  sort();
  const double sum = std::accumulate(values_.begin(), values_.end(), 0.0);
  s.mean_ms = sum / static_cast<double>(values_.size()) / 1000.0;
  s.p50_ms = static_cast<double>(percentile_us(0.50)) / 1000.0;
  s.p95_ms = static_cast<double>(percentile_us(0.95)) / 1000.0;
  s.p99_ms = static_cast<double>(percentile_us(0.99)) / 1000.0;
  s.max_ms = static_cast<double>(values_.back()) / 1000.0;
  return s;
}

void stats::record(std::uint32_t label, std::int64_t latency_us, bool error) {
  total_.add(latency_us, error);
  by_label_[label].add(latency_us, error);
}

void stats::merge(const stats& other) {
  total_.merge(other.total_);
  for (const auto& [label, samples] : other.by_label_) by_label_[label].merge(samples);
  other_errors_ += other.other_errors_;
  measured_seconds += other.measured_seconds;
  sessions_completed += other.sessions_completed;
  sessions_failed += other.sessions_failed;
}

}  // namespace phigate::replay

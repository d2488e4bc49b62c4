// Latency and error counts of a replay, per statement kind, per fingerprint and overall. Every latency is
// kept (8 bytes each), so percentiles are exact rather than bucketed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace phigate::replay {

/// Percentiles by the nearest-rank method over every sample.
struct latency_summary {
  std::uint64_t count = 0;   ///< statements that completed, errors included
  std::uint64_t errors = 0;  ///< of those, how many ended in ErrorResponse (or were skipped after one)
  double mean_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Latencies in microseconds.
class latency_samples {
 public:
  void add(std::int64_t latency_us, bool error);
  void merge(const latency_samples& other);
  /// The nearest-rank percentile (0 < p <= 1) in microseconds; 0 when empty.
  std::int64_t percentile_us(double p) const;
  latency_summary summary() const;
  std::uint64_t count() const noexcept { return values_.size(); }
  std::uint64_t errors() const noexcept { return errors_; }

 private:
  void sort() const;
  mutable std::vector<std::int64_t> values_;
  mutable bool sorted_ = true;
  std::uint64_t errors_ = 0;
};

/// Everything one replay (or one target over several rounds) measured.
class stats {
 public:
  void record(std::uint32_t label, std::int64_t latency_us, bool error);
  /// An ErrorResponse that belonged to no statement (a failed Parse without Execute, a startup error).
  void record_other_error() { ++other_errors_; }
  void merge(const stats& other);

  const latency_samples& total() const noexcept { return total_; }
  const std::map<std::uint32_t, latency_samples>& by_label() const noexcept { return by_label_; }
  std::uint64_t other_errors() const noexcept { return other_errors_; }

  /// Seconds during which samples were recorded (after the warm-up); summed over merged runs.
  double measured_seconds = 0;
  std::uint64_t sessions_completed = 0;
  std::uint64_t sessions_failed = 0;  ///< could not connect, or the connection broke mid-session

 private:
  latency_samples total_;
  std::map<std::uint32_t, latency_samples> by_label_;
  std::uint64_t other_errors_ = 0;
};

}  // namespace phigate::replay

// Replay statistics: nearest-rank percentiles, error counts, merging per-thread and per-round samples.
#include <catch2/catch.hpp>

#include "gateway/replay_stats.hpp"

using phigate::replay::latency_samples;
using phigate::replay::stats;

TEST_CASE("percentiles use the nearest rank over every sample", "[replay]") {
  latency_samples s;
  for (int v = 100; v >= 1; --v) s.add(v, false);  // out of order on purpose
  CHECK(s.percentile_us(0.50) == 50);
  CHECK(s.percentile_us(0.95) == 95);
  CHECK(s.percentile_us(0.99) == 99);
  CHECK(s.percentile_us(1.0) == 100);
  CHECK(s.percentile_us(0.001) == 1);
  const auto sum = s.summary();
  CHECK(sum.count == 100);
  CHECK(sum.p50_ms == Approx(0.050));
  CHECK(sum.max_ms == Approx(0.100));
  CHECK(sum.mean_ms == Approx(0.0505));
}

TEST_CASE("a single sample is every percentile and an empty set is all zero", "[replay]") {
  latency_samples one;
  one.add(1234, true);
  CHECK(one.percentile_us(0.5) == 1234);
  CHECK(one.percentile_us(0.99) == 1234);
  CHECK(one.summary().errors == 1);
  latency_samples none;
  CHECK(none.percentile_us(0.5) == 0);
  CHECK(none.summary().count == 0);
  CHECK(none.summary().max_ms == 0);
}

TEST_CASE("p99 of 1000 samples with ten slow ones lands on the last fast one", "[replay]") {
  latency_samples s;
  for (int i = 0; i < 990; ++i) s.add(100, false);
  for (int i = 0; i < 10; ++i) s.add(10'000, false);
  CHECK(s.percentile_us(0.99) == 100);
  CHECK(s.percentile_us(0.991) == 10'000);
}

TEST_CASE("merged stats keep every sample, error and session count per label", "[replay]") {
  stats a, b;
  a.record(0, 10, false);
  a.record(1, 20, true);
  a.sessions_completed = 2;
  b.record(1, 30, false);
  b.record_other_error();
  b.sessions_failed = 1;
  b.measured_seconds = 1.5;
  a.merge(b);
  CHECK(a.total().count() == 3);
  CHECK(a.total().errors() == 1);
  CHECK(a.by_label().at(1).count() == 2);
  CHECK(a.by_label().at(1).percentile_us(1.0) == 30);
  CHECK(a.other_errors() == 1);
  CHECK(a.sessions_completed == 2);
  CHECK(a.sessions_failed == 1);
  CHECK(a.measured_seconds == Approx(1.5));
}

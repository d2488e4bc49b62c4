// What a replay prints and writes: Markdown tables (one target: overall, per statement kind, top
// fingerprints; several targets: side by side with ratios against the first), a JSON document, and an SVG
// chart of latency percentiles and throughput per target.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/replay_client.hpp"
#include "gateway/replay_plan.hpp"
#include "gateway/replay_stats.hpp"

namespace phigate::replay {

/// One target's measurements over every round.
struct target_outcome {
  target where;
  stats measured;
  double elapsed_s = 0;
  unsigned rounds = 0;
  std::vector<std::string> failures;

  /// Measured statements per second (after warm-ups).
  double throughput() const;
  /// Statement errors, ErrorResponses outside statements and failed sessions.
  std::uint64_t error_count() const;
};

/// Samples merged by the statement kind of their label.
std::map<std::string, latency_samples> by_kind(const plan& p, const stats& s);

/// Overall, per-kind and top-fingerprint tables for one target.
std::string markdown_summary(const plan& p, const target_outcome& t, std::size_t top_fingerprints = 15);
/// Targets side by side, ratios against the first, and p50/p95 per kind per target.
std::string markdown_comparison(const plan& p, const std::vector<target_outcome>& targets);
/// Everything measured, for --json. `run` holds the settings and machine description.
boost::json::value json_report(const plan& p, const std::vector<target_outcome>& targets,
                               boost::json::object run);
/// A self-contained SVG: p50/p95/p99 latency bars and throughput bars per target.
std::string svg_chart(const std::vector<target_outcome>& targets, std::string_view title);

}  // namespace phigate::replay

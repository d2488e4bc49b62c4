// Runs a plan against one target: N connections, each taking the next session from a shared queue and
// playing its steps in order on a fresh connection (prepared statement and portal names stay as recorded),
// either as fast as the server answers or at the recorded pace times a factor.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/replay_client.hpp"
#include "gateway/replay_plan.hpp"
#include "gateway/replay_stats.hpp"

namespace phigate::replay {

struct run_options {
  unsigned connections = 1;
  unsigned threads = 0;  ///< 0 = min(connections, hardware threads)
  /// Play at the recorded pace times this factor (2 = twice as fast); absent = as fast as possible.
  std::optional<double> pace;
  double warmup_s = 0;    ///< statements started in the first seconds are played but not measured
  unsigned repeat = 1;    ///< passes over the capture (ignored when duration_s > 0)
  double duration_s = 0;  ///< > 0: loop over the capture until this many seconds have passed
  bool keep_results = false;
};

/// Counters a progress display reads while the run goes on.
struct live_progress {
  std::atomic<std::uint64_t> statements{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> sessions{0};
};

struct run_result {
  stats measured;
  double elapsed_s = 0;
  std::vector<statement_result> results;  ///< when keep_results, ordered by session then step
  std::vector<std::string> failures;      ///< connection-level problems (the first few, with counts)
};

run_result run(const plan& p, const target& t, const run_options& options, live_progress* progress);

}  // namespace phigate::replay

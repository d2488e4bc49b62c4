// Statement classification cost on pgbench's statements as the gateway sees them, three ways:
//   uncached     the whole analyzer (parse, JSON tree, walk, normalize, fingerprint) every time, with
//                fresh literals per iteration the way pgbench -M simple sends them;
//   exact hit    the per-thread analysis cache finding the same text again (pgbench -M prepared, BEGIN);
//   literal hit  the cache finding a text with new literals under its literal key (pgbench -M simple).
// Prints p50/p90/p99 of the uncached runs and p50/p99 of both cached paths, per statement and overall.
//
// usage: policy_bench [iterations per statement]   (default 20000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gateway/analysis_cache.hpp"
#include "policy/analyzer.hpp"
#include "policy/policy_loader.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct workload {
  const char* name;
  std::string (*make)(int i);
};

// pgbench's built-in TPC-B script and -S, literals varying per iteration, `;` included as pgbench sends.
const std::vector<workload> workloads = {
    {"select-only (-S)",
     [](int i) { return "SELECT abalance FROM pgbench_accounts WHERE aid = " + std::to_string(i) + ";"; }},
    {"update accounts",
     [](int i) {
       return "UPDATE pgbench_accounts SET abalance = abalance + " + std::to_string(i % 5000 - 2500) +
              " WHERE aid = " + std::to_string(i) + ";";
     }},
    {"update tellers",
     [](int i) {
       return "UPDATE pgbench_tellers SET tbalance = tbalance + " + std::to_string(i % 97) +
              " WHERE tid = " + std::to_string(i % 10) + ";";
     }},
    {"insert history",
     [](int i) {
       return "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + std::to_string(i % 10) +
              ", 1, " + std::to_string(i) + ", " + std::to_string(i % 300) + ", CURRENT_TIMESTAMP);";
     }},
    {"begin", [](int) { return std::string("BEGIN;"); }},
    {"prepared select ($1)",
     [](int) { return std::string("SELECT abalance FROM pgbench_accounts WHERE aid = $1"); }},
};

struct samples {
  std::vector<double> uncached, exact, literal;
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

template <typename F>
double time_us(F&& f) {
  const auto start = clock_type::now();
  f();
  return std::chrono::duration<double, std::micro>(clock_type::now() - start).count();
}

samples run(const workload& w, int iterations,
            const std::shared_ptr<const phigate::policy::policy_model>& policy, std::size_t& checksum) {
  samples out;
  for (int i = 0; i < iterations; ++i) {
    const std::string sql = w.make(i);
    out.uncached.push_back(time_us([&] { checksum += phigate::policy::analyze_sql(sql).statements.size(); }));
  }
  phigate::analysis_cache cache;
  const std::string same = w.make(1);
  cache.get(same, policy);
  for (int i = 0; i < iterations; ++i)
    out.exact.push_back(time_us([&] { checksum += cache.get(same, policy)->statements.size(); }));
  // Two texts make a literal key trusted; from then on new literals are hits (texts without literals,
  // BEGIN and the $1 statement, have no literal key and show the exact-hit path instead).
  cache.get(w.make(2), policy);
  for (int i = 0; i < iterations; ++i) {
    const std::string sql = w.make(1000 + i);
    out.literal.push_back(time_us([&] { checksum += cache.get(sql, policy)->statements.size(); }));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20000;
  const auto policy = std::make_shared<const phigate::policy::policy_model>(phigate::policy::parse_policy(
      "rules:\n  - id: all\n    kinds: [read, write, session]\n    action: allow\n", "policy_bench.yaml"));
  samples all;
  std::printf("%-22s %9s %9s %9s | %9s %9s | %9s %9s   (microseconds, %d iterations each)\n", "statement",
              "uncached", "p90", "p99", "exact hit", "p99", "lit. hit", "p99", iterations);
  for (const auto& w : workloads) {
    std::size_t checksum = 0;
    const samples s = run(w, iterations, policy, checksum);
    if (checksum != 3 * static_cast<std::size_t>(iterations)) {
      std::fprintf(stderr, "%s: expected one statement per iteration\n", w.name);
      return 1;
    }
    std::printf("%-22s %9.2f %9.2f %9.2f | %9.2f %9.2f | %9.2f %9.2f\n", w.name, percentile(s.uncached, 0.5),
                percentile(s.uncached, 0.9), percentile(s.uncached, 0.99), percentile(s.exact, 0.5),
                percentile(s.exact, 0.99), percentile(s.literal, 0.5), percentile(s.literal, 0.99));
    all.uncached.insert(all.uncached.end(), s.uncached.begin(), s.uncached.end());
    all.exact.insert(all.exact.end(), s.exact.begin(), s.exact.end());
    all.literal.insert(all.literal.end(), s.literal.begin(), s.literal.end());
  }
  std::printf("%-22s %9.2f %9.2f %9.2f | %9.2f %9.2f | %9.2f %9.2f\n", "all", percentile(all.uncached, 0.5),
              percentile(all.uncached, 0.9), percentile(all.uncached, 0.99), percentile(all.exact, 0.5),
              percentile(all.exact, 0.99), percentile(all.literal, 0.5), percentile(all.literal, 0.99));
  return 0;
}

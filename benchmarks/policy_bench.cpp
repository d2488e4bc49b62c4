// Statement classification cost, uncached: every iteration runs the whole analyzer (parse, JSON tree,
// walk, normalize, fingerprint) on pgbench's statements as the gateway sees them, with fresh literals
// per iteration the way pgbench -M simple sends them. Prints p50/p90/p99 per statement and overall.
//
// usage: policy_bench [iterations per statement]   (default 20000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/analyzer.hpp"

namespace {

using phigate::policy::analyze_sql;
using clock_type = std::chrono::steady_clock;

struct workload {
  const char* name;
  std::string (*make)(int i);
};

// pgbench's built-in TPC-B script and -S, literals varying per iteration.
const std::vector<workload> workloads = {
    {"select-only (-S)",
     [](int i) { return "SELECT abalance FROM pgbench_accounts WHERE aid = " + std::to_string(i); }},
    {"update accounts",
     [](int i) {
       return "UPDATE pgbench_accounts SET abalance = abalance + " + std::to_string(i % 5000 - 2500) +
              " WHERE aid = " + std::to_string(i);
     }},
    {"update tellers",
     [](int i) {
       return "UPDATE pgbench_tellers SET tbalance = tbalance + " + std::to_string(i % 97) +
              " WHERE tid = " + std::to_string(i % 10);
     }},
    {"insert history",
     [](int i) {
       return "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + std::to_string(i % 10) +
              ", 1, " + std::to_string(i) + ", " + std::to_string(i % 300) + ", CURRENT_TIMESTAMP)";
     }},
    {"begin", [](int) { return std::string("BEGIN"); }},
    {"prepared select ($1)",
     [](int) { return std::string("SELECT abalance FROM pgbench_accounts WHERE aid = $1"); }},
};

double percentile(std::vector<double>& samples, double p) {
  const auto index = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index), samples.end());
  return samples[index];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20000;
  std::vector<double> all;
  std::printf("%-22s %10s %10s %10s   (microseconds, %d iterations each)\n", "statement", "p50", "p90", "p99",
              iterations);
  for (const auto& w : workloads) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(iterations));
    std::size_t checksum = 0;
    for (int i = 0; i < iterations; ++i) {
      const std::string sql = w.make(i);
      const auto start = clock_type::now();
      const auto result = analyze_sql(sql);
      const auto stop = clock_type::now();
      checksum += result.statements.size();
      samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    }
    if (checksum != static_cast<std::size_t>(iterations)) {
      std::fprintf(stderr, "%s: expected one statement per iteration\n", w.name);
      return 1;
    }
    all.insert(all.end(), samples.begin(), samples.end());
    const double p50 = percentile(samples, 0.50);
    const double p90 = percentile(samples, 0.90);
    const double p99 = percentile(samples, 0.99);
    std::printf("%-22s %10.1f %10.1f %10.1f\n", w.name, p50, p90, p99);
  }
  const double p50 = percentile(all, 0.50);
  const double p99 = percentile(all, 0.99);
  std::printf("%-22s %10.1f %10s %10.1f\n", "all", p50, "", p99);
  return 0;
}

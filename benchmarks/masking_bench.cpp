// Masking throughput: cells per second through the detector set on short (17-byte) cells, at 1% and 10%
// cells carrying PHI, next to RE2::Set over the same expressions reporting match ids only (no spans, no
// validation), which is the cheapest thing RE2 can be asked. detector_set runs twice: scan() one cell a call,
// and scan_batch() 64 cells a call. Rates are cells per second of the scanning thread's CPU time (one core).
// Deterministic input (fixed seed).
//
// usage: masking_bench [cells] [cell_bytes]   (defaults 200000 and 17; longer cells are padded with
// ordinary words, which shows how the fixed cost of a scan spreads over longer text)
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "masking/detector_set.hpp"
#include "masking/pattern_spec.hpp"

namespace {

using namespace phigate::masking;
std::size_t cell_bytes = 17;

std::string pad(std::string s) {
  static constexpr std::string_view filler = " stable, follow up as planned, no change to dose";
  while (s.size() < cell_bytes) s += filler.substr(0, std::min(filler.size(), cell_bytes - s.size()));
  s.resize(cell_bytes, ' ');
  return s;
}

// Clean cells look like ordinary short values: words, codes, amounts, versions.
std::string clean_cell(std::mt19937& rng) {
  static constexpr std::array<const char*, 8> shapes = {
      "follow up in %dwk", "E11.9 stable %04d", "SKU-%04d-M ok   ",  "$%d,123.45 paid",
      "v%d.2.33 deployed", "lot %06d closed",   "room %d bed B    ", "dose %d mg daily "};
  char buf[64];
  std::snprintf(buf, sizeof buf, shapes[rng() % shapes.size()], static_cast<int>(rng() % 1000));
  return pad(buf);
}

std::string phi_cell(std::mt19937& rng) {
  static constexpr std::array<const char*, 6> cells = {"SSN 123-45-6789", "(617) 555-0123", "a.b@example.com",
                                                       "DOB 1966-05-11",  "NPI 1234567893", "DEA AB1234563"};
  return pad(cells[rng() % cells.size()]);
}

std::vector<std::string> make_cells(std::size_t n, double phi_share) {
  std::mt19937 rng(20261204);
  std::bernoulli_distribution phi(phi_share);
  std::vector<std::string> cells;
  cells.reserve(n);
  for (std::size_t i = 0; i < n; ++i) cells.push_back(phi(rng) ? phi_cell(rng) : clean_cell(rng));
  return cells;
}

// Seconds of CPU time this thread has used: on a shared machine the wall clock also counts time the thread
// waited for a core, which says nothing about the engines.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

template <typename F>
double cells_per_second(const std::vector<std::string>& cells, F&& scan_one, std::size_t& hits) {
  hits = 0;
  const double begin = thread_seconds();
  for (const std::string& c : cells) hits += scan_one(c);
  return static_cast<double>(cells.size()) / (thread_seconds() - begin);
}

std::unique_ptr<RE2::Set> build_re2_set(const detector_config& config) {
  RE2::Options options;
  options.set_log_errors(false);
  auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (const pattern_spec& s : builtin_pattern_specs(config)) {
    std::string expression = s.caseless ? "(?i:" + s.expression + ")" : s.expression;
    if (set->Add(expression, nullptr) < 0) std::fprintf(stderr, "RE2 rejects %s\n", expression.c_str());
  }
  if (!set->Compile()) return nullptr;
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  if (argc > 2) cell_bytes = std::max<std::size_t>(17, std::strtoul(argv[2], nullptr, 10));
  detector_config config;
  auto compiled = detector_set::compile(config);
  auto re2_set = build_re2_set(config);
  if (!compiled.set || !re2_set) {
    std::fprintf(stderr, "compile failed: %s\n", compiled.error.c_str());
    return 1;
  }
  std::printf(
      "%zu cells of %zu bytes, %zu expressions (detector_set: stage-1 DFA, Hyperscan spans, checks)\n", n,
      cell_bytes, compiled.set->expression_count());
  std::printf("%-6s %-34s %14s %10s\n", "PHI", "engine", "cells/s", "hits");
  for (double share : {0.01, 0.10}) {
    std::vector<std::string> cells = make_cells(n, share);
    scan_context context;
    std::size_t hits = 0;
    double hs = cells_per_second(
        cells, [&](const std::string& c) { return compiled.set->scan(c, "notes", context).size(); }, hits);
    std::printf("%4.0f%%  %-34s %14.0f %10zu\n", share * 100, "detector_set, one cell a call", hs, hits);
    // The same cells through scan_batch, 64 cells a call (a block of rows), one column hint for all.
    constexpr std::size_t batch = 64;
    std::vector<std::string_view> views(cells.begin(), cells.end());
    const std::string_view hint[] = {"notes"};
    detector_set::batch_result found;
    hits = 0;
    const double begin = thread_seconds();
    for (std::size_t i = 0; i < views.size(); i += batch) {
      std::span<const std::string_view> block(views.data() + i, std::min(batch, views.size() - i));
      compiled.set->scan_batch(block, hint, context, found);
      hits += found.detections.size();
    }
    const double batched = static_cast<double>(n) / (thread_seconds() - begin);
    std::printf("%4.0f%%  %-34s %14.0f %10zu\n", share * 100, "detector_set, batch of 64 cells", batched,
                hits);
    std::vector<int> ids;
    double re2 = cells_per_second(
        cells,
        [&](const std::string& c) {
          ids.clear();
          re2_set->Match(c, &ids);
          return ids.empty() ? std::size_t{0} : std::size_t{1};
        },
        hits);
    std::printf("%4.0f%%  %-34s %14.0f %10zu\n", share * 100, "RE2::Set (match ids only)", re2, hits);
    std::printf("%4.0f%%  %-34s %13.2fx %9.2fx\n", share * 100, "vs RE2::Set: one cell, batch", hs / re2,
                batched / re2);
  }
  return 0;
}

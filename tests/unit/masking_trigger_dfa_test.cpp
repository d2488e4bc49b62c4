#include <catch2/catch.hpp>

#include <hs/hs.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "masking/detector_config.hpp"
#include "masking/hyperscan_handles.hpp"
#include "masking/pattern_spec.hpp"
#include "masking/trigger_dfa.hpp"

using namespace phigate::masking;

TEST_CASE("trigger DFA reads the PCRE subset and reports which expressions match", "[masking]") {
  trigger_dfa dfa = trigger_dfa::build({{R"(\d{3}-\d{2}-\d{4})", false},
                                        {"(?:https?|ftp)://[^\\s<>]+", true},
                                        {R"([A-Z]\d{7,9})", false},
                                        {"acct", true}});
  for (std::size_t i = 0; i < 4; ++i) CHECK(dfa.covers(i));
  CHECK(dfa.scan("SSN 123-45-6789 ok") == 0b0001);
  CHECK(dfa.scan("see HTTPS://x.org and ACCT 1") == 0b1010);
  CHECK(dfa.scan("ref A1234567") == 0b0100);
  CHECK(dfa.scan("nothing here, 12-34") == 0);
  CHECK(dfa.scan("") == 0);
}

TEST_CASE("trigger DFA leaves expressions it cannot read to Hyperscan", "[masking]") {
  trigger_dfa dfa = trigger_dfa::build(
      {{"^id\\d+", false}, {R"(\bssn\b)", false}, {"(a)\\1", false}, {"(?=x)y", false}, {"x\\d+", false}});
  for (std::size_t i = 0; i < 4; ++i) CHECK_FALSE(dfa.covers(i));
  CHECK(dfa.covers(4));
  CHECK(dfa.scan("id12 ssn aa x7") == 0b10000);
}

// Stage 1 must never miss: wherever Hyperscan reports a built-in stage-1 expression, the DFA has its bit;
// and the bit of an expression the DFA holds exactly is set only where Hyperscan finds it. Small tables force
// the expressions into several tables and relax what fits in none.
TEST_CASE("trigger DFA never misses what Hyperscan finds for the built-in catalogue", "[masking]") {
  const std::size_t max_states = GENERATE(32768u, 1024u);
  std::vector<pattern_spec> specs = builtin_pattern_specs(detector_config{});
  std::vector<trigger_source> sources;
  for (const pattern_spec& s : specs) {
    std::string e = s.trigger.empty() ? s.expression : s.trigger;
    bool seen = false;
    for (const auto& t : sources) seen = seen || t.expression == e;
    if (!seen) sources.push_back({e, s.caseless});
  }
  trigger_dfa dfa = trigger_dfa::build(sources, max_states);
  INFO("tables of at most " << max_states << " states");
  CHECK(dfa.table_count() <= trigger_dfa::max_tables);
  std::uint64_t exact_mask = 0;
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (dfa.exact(i)) exact_mask |= std::uint64_t{1} << i;
  // At the detectors' size every expression is held exactly; small tables relax some and leave others out.
  if (max_states == 32768u) CHECK(exact_mask == (std::uint64_t{1} << sources.size()) - 1);
  if (max_states == 1024u) CHECK(exact_mask != (std::uint64_t{1} << sources.size()) - 1);
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    expressions.push_back(sources[i].expression.c_str());
    flags.push_back(HS_FLAG_SINGLEMATCH | (sources[i].caseless ? HS_FLAG_CASELESS : 0u));
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* raw = nullptr;
  hs_compile_error_t* error = nullptr;
  REQUIRE(hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(ids.size()),
                           HS_MODE_BLOCK, nullptr, &raw, &error) == HS_SUCCESS);
  hs_database_ptr db(raw);
  hs_scratch_t* scratch_raw = nullptr;
  REQUIRE(hs_alloc_scratch(db.get(), &scratch_raw) == HS_SUCCESS);
  hs_scratch_ptr scratch(scratch_raw);

  std::vector<std::string> cells = {"SSN 123-45-6789",
                                    "(617) 555-0123 x12",
                                    "a.b@example.com",
                                    "DOB 1966-05-11",
                                    "NPI 1234567893",
                                    "DEA AB1234563",
                                    "Dr. Robbie Mraz",
                                    "12 W Elm Street",
                                    "www.x.org/a",
                                    "http://a.b",
                                    "DE89 3704 0044 0532 0130 00",
                                    "1EG4-TE5-MK73",
                                    "4111 1111 1111 1111",
                                    "March 3rd, 2020",
                                    "3rd Mar 2020",
                                    "acct#123456",
                                    "MRN 12345678",
                                    "fe80::1",
                                    "10.0.0.1",
                                    "01105-1234"};
  std::mt19937 rng(7);
  static constexpr char alphabet[] = "0123456789 -./:()@#ABCDEFMNRSTWabcdehilmnorstuwxy";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 32, ' ');
    for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    cells.push_back(s);
  }
  auto on_hit = [](unsigned id, unsigned long long, unsigned long long, unsigned, void* user) -> int {
    *static_cast<std::uint64_t*>(user) |= std::uint64_t{1} << id;
    return 0;
  };
  std::size_t found = 0;
  for (const std::string& cell : cells) {
    std::uint64_t exact = 0;
    REQUIRE(hs_scan(db.get(), cell.data(), static_cast<unsigned>(cell.size()), 0, scratch.get(), on_hit,
                    &exact) == HS_SUCCESS);
    for (std::size_t i = 0; i < sources.size(); ++i)
      if (!dfa.covers(i)) exact &= ~(std::uint64_t{1} << i);
    INFO("cell: " << cell);
    const std::uint64_t maybe = dfa.scan(cell);
    CHECK((exact & ~maybe) == 0);
    CHECK((maybe & exact_mask) == (exact & exact_mask));
    found += exact != 0;
  }
  CHECK(found > 20);  // the sample does exercise the expressions
}

TEST_CASE("trigger DFA scans a batch four cells at a time with the same answers", "[masking]") {
  std::vector<trigger_source> sources = {
      {R"(\d{3}-\d{2}-\d{4})", false}, {"acct", true}, {R"([A-Z]\d{7,9})", false}, {R"(\d{5})", false}};
  // Small tables: the four expressions spread over several, so each lane walks more than one.
  trigger_dfa dfa = trigger_dfa::build(sources, 16);
  CHECK(dfa.table_count() > 1);
  std::mt19937 rng(11);
  static constexpr char alphabet[] = "0123456789 -ACTXacty";
  std::vector<std::string> texts;
  for (int i = 0; i < 1001; ++i) {  // not a multiple of four, lengths from 0 to 40
    std::string s(rng() % 41, ' ');
    for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    texts.push_back(s);
  }
  texts.push_back("ACCT 123-45-6789 A1234567 12345");
  std::vector<std::string_view> cells(texts.begin(), texts.end());
  std::vector<std::uint64_t> bits(cells.size());
  dfa.scan_many(cells, bits.data());
  std::size_t hits = 0;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    INFO("cell: " << texts[i]);
    CHECK(bits[i] == dfa.scan(cells[i]));
    hits += bits[i] != 0;
  }
  CHECK(bits.back() == 0b1111);
  CHECK(hits > 50);
}

#include <catch2/catch.hpp>

#include <hs/hs.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "masking/detector_config.hpp"
#include "masking/hyperscan_handles.hpp"
#include "masking/pattern_spec.hpp"
#include "masking/span_dfa.hpp"

using namespace phigate::masking;

namespace {

using spans = std::vector<std::pair<std::size_t, std::size_t>>;

spans dfa_spans(const span_dfa& finder, const std::string& text) {
  spans out;
  finder.find(text, [&](std::size_t from, std::size_t to) {
    out.emplace_back(from, to);
    return true;
  });
  return out;
}

spans hyperscan_spans(const hs_database_t* db, hs_scratch_t* scratch, const std::string& text) {
  spans out;
  auto on_match = [](unsigned, unsigned long long from, unsigned long long to, unsigned, void* user) -> int {
    static_cast<spans*>(user)->emplace_back(from, to);
    return 0;
  };
  REQUIRE(hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch, on_match, &out) ==
          HS_SUCCESS);
  return out;
}

}  // namespace

TEST_CASE("span DFA reads only what it can match exactly", "[masking]") {
  CHECK(span_dfa::build(R"(\d{3}-\d{2}-\d{4})", false, 4096));
  CHECK_FALSE(span_dfa::build("a.b", false, 4096));                       // "." is read as a superset
  CHECK_FALSE(span_dfa::build(R"(x\sy)", false, 4096));                   // so is \s
  CHECK_FALSE(span_dfa::build(R"(\bssn\b)", false, 4096));                // word boundaries look around
  CHECK_FALSE(span_dfa::build(R"([2-6](?:[- ]?\d){12,18})", false, 64));  // too many states
}

TEST_CASE("span DFA reports what Hyperscan reports with leftmost starts", "[masking]") {
  std::vector<std::string> cells = {"SSN 123-45-6789 and 987-65-4321",
                                    "(617) 555-0123 x12, 617.555.0199",
                                    "a.b@example.com,c@d.org",
                                    "DOB 1966-05-11 / 05/11/1966",
                                    "NPI 1234567893",
                                    "DEA AB1234563",
                                    "Dr. Robbie Mraz met Jo O'Hara",
                                    "12 W Elm Street, 413 Broadway",
                                    "DE89 3704 0044 0532 0130 00",
                                    "1EG4-TE5-MK73",
                                    "4111 1111 1111 1111",
                                    "March 3rd, 2020 and 3 Mar 2020",
                                    "acct#123456 MRN 12345678",
                                    "01105-1234 01105",
                                    "1234567890123456789012",
                                    "10.0.0.1 fe80::1"};
  std::mt19937 rng(5);
  static constexpr char alphabet[] = "0123456789 -./:()@#,'ABCDEFMNRSTWabcdehilmnorstuwxy";
  for (int i = 0; i < 4000; ++i) {
    std::string s(rng() % 40, ' ');
    for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    cells.push_back(s);
  }
  std::size_t built = 0, matched = 0;
  for (const pattern_spec& spec : builtin_pattern_specs(detector_config{})) {
    std::optional<span_dfa> finder = span_dfa::build(spec.expression, spec.caseless, 4096);
    if (!finder) continue;
    ++built;
    hs_database_t* raw = nullptr;
    hs_compile_error_t* error = nullptr;
    unsigned flags = HS_FLAG_SOM_LEFTMOST | (spec.caseless ? HS_FLAG_CASELESS : 0u);
    REQUIRE(hs_compile(spec.expression.c_str(), flags, HS_MODE_BLOCK, nullptr, &raw, &error) == HS_SUCCESS);
    hs_database_ptr db(raw);
    hs_scratch_t* scratch_raw = nullptr;
    REQUIRE(hs_alloc_scratch(db.get(), &scratch_raw) == HS_SUCCESS);
    hs_scratch_ptr scratch(scratch_raw);
    for (const std::string& cell : cells) {
      INFO("expression " << spec.expression << " on \"" << cell << "\"");
      spans expected = hyperscan_spans(db.get(), scratch.get(), cell);
      REQUIRE(dfa_spans(*finder, cell) == expected);
      matched += !expected.empty();
    }
  }
  CHECK(built >= 20);    // most built-in expressions have a finder
  CHECK(matched > 100);  // and the sample does match them
}

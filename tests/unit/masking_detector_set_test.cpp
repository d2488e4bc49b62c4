#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "masking/detector_set.hpp"

using namespace phigate::masking;

namespace {

// One golden row: a cell (column, text) and what must be found, each as (type, exact substring).
struct expected_entity {
  entity_type type;
  std::string text;
};

struct golden_row {
  std::string column;
  std::string text;
  std::vector<expected_entity> entities;
};

std::shared_ptr<const detector_set> default_set() {
  static const std::shared_ptr<const detector_set> set = [] {
    auto compiled = detector_set::compile(detector_config{});
    REQUIRE(compiled.set);
    return compiled.set;
  }();
  return set;
}

std::vector<expected_entity> found(const detector_set& set, const std::string& column,
                                   const std::string& text) {
  scan_context context;
  std::vector<expected_entity> out;
  for (const detection& d : set.scan(text, column, context)) {
    out.push_back({d.type, text.substr(d.start, d.end - d.start)});
  }
  return out;
}

std::string describe(const std::vector<expected_entity>& entities) {
  std::string s;
  for (const auto& e : entities) s += std::string(to_string(e.type)) + "='" + e.text + "' ";
  return s;
}

const std::vector<golden_row> golden = {
    // Structured identifiers in free text.
    {"notes", "SSN 351-30-9166 verified against ID.", {{entity_type::ssn, "351-30-9166"}}},
    {"notes",
     "SSN 395 29 9082 and 660.76.0266 on file",
     {{entity_type::ssn, "395 29 9082"}, {entity_type::ssn, "660.76.0266"}}},
    {"notes",
     "Referred by Dr. Robbie Mraz, NPI 2100465394.",
     {{entity_type::person, "Robbie Mraz"}, {entity_type::npi, "2100465394"}}},
    {"notes",
     "Pt Zakary Watsica (MRN MRN6077971) seen; DOB 1935-02-28.",
     {{entity_type::person, "Zakary Watsica"},
      {entity_type::mrn, "MRN6077971"},
      {entity_type::date, "1935-02-28"}}},
    {"notes", "Chart H17397583 (MRN) reviewed", {{entity_type::mrn, "H17397583"}}},
    {"notes", "Cell 2123982740, best after 12:12.", {{entity_type::phone, "2123982740"}}},
    {"notes",
     "Fax (503)819-7059 or +1-617-366-9437 or 713-498-4182 x866",
     {{entity_type::phone, "(503)819-7059"},
      {entity_type::phone, "+1-617-366-9437"},
      {entity_type::phone, "713-498-4182 x866"}}},
    {"notes",
     "Insurance card ends 5478-0908-4389-3895; billing contact Kole_Russel25@gmail.com.",
     {{entity_type::credit_card, "5478-0908-4389-3895"}, {entity_type::email, "Kole_Russel25@gmail.com"}}},
    {"notes",
     "Medicare ID 4TV9-QE1-VG65; also 7DE6HG7UP01",
     {{entity_type::mbi, "4TV9-QE1-VG65"}, {entity_type::mbi, "7DE6HG7UP01"}}},
    {"notes", "Rx written under DEA BT2086951 for metformin 10 mg.", {{entity_type::dea, "BT2086951"}}},
    {"notes",
     "Dates 24-Aug-2003, August 28, 1958, 6/24/1944 and 2024-03-05T10:22:00Z",
     {{entity_type::date, "24-Aug-2003"},
      {entity_type::date, "August 28, 1958"},
      {entity_type::date, "6/24/1944"},
      {entity_type::date, "2024-03-05"}}},
    {"notes",
     "Portal login from 171.236.17.32 then e518:d4a1:5b4e:be51:aade:05de:ecee:8adc at 22:23.",
     {{entity_type::ip_address, "171.236.17.32"},
      {entity_type::ip_address, "e518:d4a1:5b4e:be51:aade:05de:ecee:8adc"}}},
    {"notes",
     "Uploaded to https://live-flood.com/patients/71609 (done).",
     {{entity_type::url, "https://live-flood.com/patients/71609"}}},
    {"notes",
     "Home address 20622 Corkery Oval, 05659-5911.",
     {{entity_type::address, "20622 Corkery Oval"}, {entity_type::zip, "05659-5911"}}},
    {"notes",
     "Home address 8799 N Main, 42451.",
     {{entity_type::address, "8799 N Main"}, {entity_type::zip, "42451"}}},
    {"notes", "Boston, MA 02139", {{entity_type::zip, "02139"}}},
    {"notes",
     "Wire to GB82 WEST 1234 5698 7654 32 today",
     {{entity_type::iban, "GB82 WEST 1234 5698 7654 32"}}},
    {"notes", "Routing 011000015 on the check", {{entity_type::aba_routing, "011000015"}}},
    {"notes", "Refund $52,643.13 to account ACCT-0170386614.", {{entity_type::account, "ACCT-0170386614"}}},
    {"notes", "Spoke with Marlene O'Hara about results.", {{entity_type::person, "Marlene O'Hara"}}},
    {"notes", "SSN:123-45-6789", {{entity_type::ssn, "123-45-6789"}}},
    // Two overlapping three-word name matches merge into one span covering all four words.
    {"notes", "Letter to Anna Maria Lopez Garcia today", {{entity_type::person, "Anna Maria Lopez Garcia"}}},
    // Column names stand in for context.
    {"ssn", "089229720", {{entity_type::ssn, "089229720"}}},
    {"npi", "1274730153", {{entity_type::npi, "1274730153"}}},
    {"zip", "88665", {{entity_type::zip, "88665"}}},
    {"full_name", "Macy O'Hara", {{entity_type::person, "Macy O'Hara"}}},
    {"street", "413 Broadway", {{entity_type::address, "413 Broadway"}}},
    {"dob", "19660511", {{entity_type::date, "19660511"}}},
    // Hard negatives: nothing may be found.
    {"order_id", "089229720", {}},
    {"order_id", "6175274834", {}},
    {"invoice_no", "4111111111111111", {}},
    {"mobile", "6175274834", {{entity_type::phone, "6175274834"}}},
    {"product_name", "Blue Widget", {}},
    {"test_ssn", "666-66-4967", {}},
    {"test_ssn", "026-00-3208", {}},
    {"test_ssn", "922-82-5733", {}},
    {"notes", "Reference 000-97-9219 is a test record, not a person.", {}},
    {"notes", "Card 4365383113278065 declined (invalid number).", {}},
    {"card_number", "4913457442908160", {}},
    {"npi", "1234567890", {}},
    {"notes", "Order #1615192733 shipped via UPS 1ZB65HXZ5L1KWOZRZ0.", {}},
    {"notes", "NPI 1234567893 on file; order 1234567893 shipped.", {{entity_type::npi, "1234567893"}}},
    {"notes", "Lot 1079727142 recalled by manufacturer.", {}},
    {"notes", "Artifact build-20240723.245 deployed; v0.24.43.", {}},
    {"notes", "Firmware v7.30.93 on pump SKU-3646-L; no PHI here.", {}},
    {"diagnosis", "E11.9", {}},
    {"diagnosis", "J45.909", {}},
    {"id", "240e8a6a-b2bc-41c1-abc9-0097ebeea8db", {}},
    {"order_ref", "ORD-2024-009522", {}},
    {"amount", "$71,825.93", {}},
    {"notes", "BP 120/80, HbA1c 6.8%, LDL 77 mg/dL, Rm 9.", {}},
    {"notes", "Build 1.2.3.4.5 and v1.2.3.4; std::vector<int> a::b at 12:30:45", {}},
};

}  // namespace

TEST_CASE("detector set golden table: text and column give exactly these detections", "[masking]") {
  auto set = default_set();
  for (const golden_row& row : golden) {
    INFO("column=" << row.column << " text=" << row.text);
    std::vector<expected_entity> got = found(*set, row.column, row.text);
    INFO("got: " << describe(got));
    REQUIRE(got.size() == row.entities.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].type == row.entities[i].type);
      CHECK(got[i].text == row.entities[i].text);
    }
  }
}

TEST_CASE("look-alike characters are folded and offsets point into the original text", "[masking]") {
  auto set = default_set();
  scan_context context;
  // Full-width "１２３－４５－６７８９" (3 bytes a character) after "SSN ".
  std::string full_width =
      "SSN \xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x8D\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x8D"
      "\xEF\xBC\x96\xEF\xBC\x97\xEF\xBC\x98\xEF\xBC\x99 ok";
  auto d = set->scan(full_width, "notes", context);
  REQUIRE(d.size() == 1);
  CHECK(d[0].type == entity_type::ssn);
  CHECK(d[0].start == 4);
  CHECK(d[0].end == full_width.size() - 3);

  // A zero-width space inside the number and an en dash as separator.
  std::string hidden =
      "ssn 123\xE2\x80\x8B-45\xE2\x80\x93"
      "6789.";
  d = set->scan(hidden, "notes", context);
  REQUIRE(d.size() == 1);
  CHECK(d[0].start == 4);
  CHECK(d[0].end == hidden.size() - 1);
}

TEST_CASE("custom detectors use their validator, context words and column hints", "[masking]") {
  detector_config config;
  config.custom.push_back({"EMPLOYEE_ID", R"(E\d{6})", "", {"employee"}, {"emp"}, false});
  config.custom.push_back({"LOYALTY_CARD", R"(\d{16})", "luhn", {}, {}, false});
  auto compiled = detector_set::compile(config);
  REQUIRE(compiled.set);
  scan_context context;
  auto d = compiled.set->scan("employee E123456 badge", "notes", context);
  REQUIRE(d.size() == 1);
  CHECK(d[0].type == entity_type::custom);
  CHECK(compiled.set->label(d[0]) == "EMPLOYEE_ID");
  CHECK(compiled.set->scan("part E123456 shipped", "notes", context).empty());
  CHECK(compiled.set->scan("E123456", "emp_code", context).size() == 1);
  auto card = compiled.set->scan("7000000000000005", "misc", context);  // Luhn-valid, not a payment network
  REQUIRE(card.size() == 1);
  CHECK(compiled.set->label(card[0]) == "LOYALTY_CARD");
  CHECK(compiled.set->scan("7000000000000006", "misc", context).empty());
}

TEST_CASE("configuration errors are reported, not thrown", "[masking]") {
  detector_config bad_pattern;
  bad_pattern.custom.push_back({"BROKEN", "(unclosed", "", {}, {}, false});
  auto compiled = detector_set::compile(bad_pattern);
  CHECK_FALSE(compiled.set);
  CHECK(compiled.error.find("BROKEN") != std::string::npos);

  detector_config bad_validator;
  bad_validator.custom.push_back({"X", "x\\d+", "crc32", {}, {}, false});
  compiled = detector_set::compile(bad_validator);
  CHECK_FALSE(compiled.set);
  CHECK(compiled.error.find("crc32") != std::string::npos);
}

TEST_CASE("disabled built-in detectors find nothing", "[masking]") {
  detector_config config;
  config.disabled = {entity_type::email, entity_type::person};
  auto compiled = detector_set::compile(config);
  REQUIRE(compiled.set);
  scan_context context;
  CHECK(compiled.set->scan("mail a.b@example.com", "notes", context).empty());
  CHECK(compiled.set->scan("Zakary Watsica", "full_name", context).empty());
  CHECK(compiled.set->scan("SSN 123-45-6789", "notes", context).size() == 1);
}

TEST_CASE("a cell that floods the matcher is reported whole as unclassified", "[masking]") {
  detector_config config;
  config.max_matches_per_cell = 8;
  auto compiled = detector_set::compile(config);
  REQUIRE(compiled.set);
  scan_context context;
  std::string flood(200, '7');
  auto d = compiled.set->scan(flood, "notes", context);
  REQUIRE(d.size() == 1);
  CHECK(d[0].type == entity_type::unclassified);
  CHECK(d[0].start == 0);
  CHECK(d[0].end == flood.size());
}

TEST_CASE("one scan context serves an old and a reloaded set, and threads share one set", "[masking]") {
  auto first = default_set();
  detector_config other;
  other.custom.push_back({"TICKET", R"(TCK-\d{4})", "", {}, {}, false});
  auto second = detector_set::compile(other).set;
  REQUIRE(second);
  scan_context context;
  CHECK(first->scan("SSN 123-45-6789", "", context).size() == 1);
  CHECK(second->scan("TCK-1234", "", context).size() == 1);
  CHECK(first->scan("SSN 123-45-6789", "", context).size() == 1);

  std::vector<std::size_t> counts(2, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      scan_context own;
      for (int i = 0; i < 200; ++i)
        counts[t] += first->scan("Call 617-555-0123 or a@b.org", "notes", own).size();
    });
  }
  for (auto& th : threads) th.join();
  CHECK(counts[0] == 400);
  CHECK(counts[1] == 400);
}

TEST_CASE("empty and clean cells produce no detections", "[masking]") {
  auto set = default_set();
  scan_context context;
  CHECK(set->scan("", "notes", context).empty());
  CHECK(set->scan("no identifiers in this sentence", "notes", context).empty());
  static constexpr char broken[] = "\xFF\xFE\x00 broken utf8";
  CHECK(set->scan(std::string(broken, sizeof broken - 1), "notes", context).empty());
}

TEST_CASE("scan_batch gives every cell exactly what scan gives it", "[masking]") {
  auto set = default_set();
  std::vector<std::string> texts;
  std::vector<std::string> columns;
  for (const golden_row& row : golden) {
    texts.push_back(row.text);
    columns.push_back(row.column);
  }
  // Clean, empty, non-ASCII and flooding cells between the golden ones.
  for (const char* extra :
       {"", "lot 000123 closed", "v1.2.33 deployed", "SSN \xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93",
        "room 5 bed B", "dose 5 mg daily", "(617) 555-0123", "DEA AB1234563"}) {
    texts.emplace_back(extra);
    columns.emplace_back("notes");
  }
  texts.push_back(std::string(5000, '7'));
  columns.emplace_back("notes");
  std::vector<std::string_view> cells(texts.begin(), texts.end());
  std::vector<std::string_view> hints(columns.begin(), columns.end());

  scan_context batch_context, single_context;
  detector_set::batch_result out;
  set->scan_batch(cells, hints, batch_context, out);
  REQUIRE(out.cell_end.size() == cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    INFO("cell " << i << ": " << texts[i]);
    std::vector<detection> single = set->scan(cells[i], hints[i], single_context);
    std::span<const detection> batched = out.of(i);
    CHECK(std::vector<detection>(batched.begin(), batched.end()) == single);
  }

  // The columns read once by the caller.
  std::vector<column_words> words(columns.begin(), columns.end());
  std::vector<const column_words*> word_ptrs;
  for (const column_words& w : words) word_ptrs.push_back(&w);
  set->scan_batch(cells, word_ptrs, batch_context, out);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::span<const detection> batched = out.of(i);
    CHECK(std::vector<detection>(batched.begin(), batched.end()) ==
          set->scan(cells[i], hints[i], single_context));
  }

  // One hint for every cell.
  const std::string_view notes[] = {"notes"};
  set->scan_batch(cells, notes, batch_context, out);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::span<const detection> batched = out.of(i);
    CHECK(std::vector<detection>(batched.begin(), batched.end()) ==
          set->scan(cells[i], "notes", single_context));
  }
}

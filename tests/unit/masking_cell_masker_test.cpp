// One value through the detectors and the configured transforms: spans replaced in order, counts per label,
// the null rule for whole cells and inside running text.
#include <catch2/catch.hpp>

#include <string>

#include "masking/cell_masker.hpp"

using namespace phigate::masking;

namespace {

cell_masker make_masker(masking_rules rules) {
  static const auto set = [] {
    auto compiled = detector_set::compile(detector_config{});
    REQUIRE(compiled.set);
    return compiled.set;
  }();
  return cell_masker(set, std::make_shared<const masking_rules>(std::move(rules)));
}

}  // namespace

TEST_CASE("a clean value is reported unchanged", "[masking][cell_masker]") {
  scan_context context;
  const auto result = make_masker({}).mask("Prefers morning appointments.", "notes", context);
  CHECK_FALSE(result.changed);
  CHECK_FALSE(result.null_cell);
  CHECK(result.counts.empty());
}

TEST_CASE("every detection is replaced in order and counted by label", "[masking][cell_masker]") {
  masking_rules rules;
  rules.per_type[entity_type::ssn] = transform_kind::partial;
  scan_context context;
  const auto result = make_masker(rules).mask(
      "SSN 395 29 9082 and 660.76.0266; call 206-555-0100 or mail a.b@example.com", "notes", context);
  CHECK(result.changed);
  CHECK(result.text == "SSN *** ** 9082 and ***.**.0266; call [PHONE] or mail [EMAIL]");
  CHECK(result.counts == std::map<std::string, std::size_t>{{"EMAIL", 1}, {"PHONE", 1}, {"SSN", 2}});
  CHECK_FALSE(result.used_only(transform_kind::partial));
}

TEST_CASE("the column hint stands in for context", "[masking][cell_masker]") {
  scan_context context;
  const auto masker = make_masker({});
  CHECK(masker.mask("089229720", "ssn", context).text == "[SSN]");
  CHECK_FALSE(masker.mask("089229720", "order_id", context).changed);
}

TEST_CASE("null empties a whole cell but is written as redact inside running text",
          "[masking][cell_masker]") {
  masking_rules rules;
  rules.per_type[entity_type::ssn] = transform_kind::null;
  const auto masker = make_masker(rules);
  scan_context context;
  const auto cell = masker.mask("SSN 123-45-6789", "notes", context);
  CHECK(cell.null_cell);
  CHECK(cell.text.empty());
  CHECK(cell.used_only(transform_kind::null));
  mask_options in_text;
  in_text.cell_may_be_null = false;
  const auto line = masker.mask("SSN 123-45-6789", "", context, in_text);
  CHECK_FALSE(line.null_cell);
  CHECK(line.text == "SSN [SSN]");
  CHECK(line.used_only(transform_kind::redact));
}

TEST_CASE("transforms that do not fit the value fall back to redact", "[masking][cell_masker]") {
  masking_rules rules;
  rules.default_transform = transform_kind::pseudonym;  // no key: never the clear value
  rules.per_type[entity_type::date] = transform_kind::safe_harbor_date;
  scan_context context;
  const auto masker = make_masker(rules);
  CHECK(masker.mask("call 206-555-0100", "notes", context).text == "call [PHONE]");
  CHECK(masker.mask("seen 6/24/44 and 6/24/1944", "notes", context).text == "seen [DATE] and 1944");
  mask_options dates;
  dates.iso_date = true;
  CHECK(masker.mask("1958-02-28", "dob", context, dates).text == "1958-01-01");
}

// The content-scan rewrite step on hand-built server messages: text and binary DataRow cells of several
// types, COPY text, CSV and binary data, ErrorResponse / NoticeResponse fields and NOTIFY payloads.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "gateway/pg_masking_rewriter.hpp"
#include "pg_codec_test_support.hpp"

using namespace phigate;
using masking::entity_type;
using masking::transform_kind;
using phigate::pg::test::whole_frame;

namespace {

using cells = std::vector<std::optional<std::string>>;

std::shared_ptr<const masking::detector_set> detectors() {
  static const auto set = [] {
    auto compiled = masking::detector_set::compile(masking::detector_config{});
    REQUIRE(compiled.set);
    return compiled.set;
  }();
  return set;
}

masking::masking_rules test_rules() {
  masking::masking_rules rules;
  rules.per_type = {{entity_type::ssn, transform_kind::partial},
                    {entity_type::email, transform_kind::pseudonym},
                    {entity_type::date, transform_kind::safe_harbor_date}};
  rules.key = masking::masking_key{"k1", "0123456789abcdef0123456789abcdef"};
  return rules;
}

pg_masking_rewriter make_rewriter(masking::masking_rules rules = test_rules()) {
  auto shared_rules = std::make_shared<const masking::masking_rules>(std::move(rules));
  return pg_masking_rewriter(std::make_shared<const masking::cell_masker>(detectors(), shared_rules));
}

pg::field_description field(std::string_view name, std::uint32_t type, std::int16_t format = 0) {
  pg::field_description f;
  f.name = name;
  f.type_oid = type;
  f.format = format;
  return f;
}

std::string data_row_bytes(const cells& values) {
  pg::data_row row;
  for (const auto& v : values) {
    row.columns.push_back(v ? std::optional<byte_span>(as_bytes(*v)) : std::nullopt);
  }
  std::string out;
  row.encode(out);
  return out;
}

// The cells of the row the rewriter sent (or of the input when it forwarded the original).
cells rewrite_row(pg_masking_rewriter& rewriter, const cells& values, bool expect_change = true) {
  const std::string in = data_row_bytes(values);
  std::string out;
  const bool changed = rewriter.rewrite_data_row(whole_frame(in), out);
  CHECK(changed == expect_change);
  if (!changed) {
    CHECK(out.empty());
    return values;
  }
  auto row = pg::data_row::decode(whole_frame(out));
  REQUIRE(row);
  cells result;
  for (const auto& c : row->columns)
    result.push_back(c ? std::optional<std::string>(as_chars(*c)) : std::nullopt);
  return result;
}

std::string big_endian(std::uint64_t value, std::size_t width) {
  std::string out(width, '\0');
  for (std::size_t i = width; i-- > 0; value >>= 8) out[i] = static_cast<char>(value & 0xFF);
  return out;
}

std::string copy_data_bytes(std::string_view data) {
  std::string out;
  pg::copy_data{as_bytes(data)}.encode(out);
  return out;
}

}  // namespace

TEST_CASE("text cells have each detection replaced by its type's transform", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description(
      {{field("ssn", 25), field("email", 1043), field("notes", 25), field("id", 23)}});
  const cells out = rewrite_row(
      rewriter, {"123-45-6789", "ann.lee@example.com", "Pt called from 206-555-0100 re: refill", "42"});
  REQUIRE(out.size() == 4);
  CHECK(out[0] == "***-**-6789");
  REQUIRE(out[1]);
  CHECK(out[1]->size() == std::string("ann.lee@example.com").size());
  CHECK(*out[1] != "ann.lee@example.com");
  CHECK(out[1]->find('@') == 7);
  CHECK(out[2] == "Pt called from [PHONE] re: refill");
  CHECK(out[3] == "42");
  CHECK(rewriter.masked_counts() ==
        std::map<std::string, std::uint64_t>{{"EMAIL", 1}, {"PHONE", 1}, {"SSN", 1}});
}

TEST_CASE("a row with nothing to mask is forwarded as it came", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("item", 25), field("qty", 23)}});
  rewrite_row(rewriter, {"Gauze pads 4x4", "37"}, false);
  rewrite_row(rewriter, {std::nullopt, std::nullopt}, false);
  CHECK(rewriter.masked_counts().empty());
}

TEST_CASE("a null rule turns the whole cell SQL NULL", "[masking][rewriter]") {
  auto rules = test_rules();
  rules.per_type[entity_type::ssn] = transform_kind::null;
  auto rewriter = make_rewriter(rules);
  rewriter.on_row_description({{field("notes", 25)}});
  CHECK(rewrite_row(rewriter, {"SSN 123-45-6789 on file"}) == cells{std::nullopt});
}

TEST_CASE("integer cells keep a masked value only when it is still an integer of their width",
          "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  // partial writes stars: not an integer, so the cell becomes NULL, in text and in binary format.
  rewriter.on_row_description({{field("ssn", 23), field("ssn", 23, 1), field("qty", 23, 1)}});
  CHECK(rewrite_row(rewriter, {"123456789", big_endian(123456789, 4), big_endian(37, 4)}) ==
        cells{std::nullopt, std::nullopt, big_endian(37, 4)});

  auto rules = test_rules();
  rules.per_type[entity_type::ssn] = transform_kind::pseudonym;
  auto keyed = make_rewriter(rules);
  keyed.on_row_description({{field("ssn", 23), field("ssn", 20, 1)}});
  const cells out = rewrite_row(keyed, {"123456789", big_endian(123456789, 8)});
  REQUIRE(out.size() == 2);
  REQUIRE(out[0]);
  CHECK(*out[0] != "123456789");
  CHECK(out[0]->find_first_not_of("0123456789") == std::string::npos);
  REQUIRE(out[1]);
  CHECK(out[1]->size() == 8);  // same width as the column
  CHECK(*out[1] != big_endian(123456789, 8));
  // The binary value is the same pseudonym as the text one.
  CHECK(*out[1] == big_endian(std::stoull(*out[0]), 8));
}

TEST_CASE("binary text-like cells are scanned like text; other binary cells become NULL only on a detection",
          "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  const std::string binary_date = big_endian(static_cast<std::uint32_t>(-23684), 4);
  const std::string binary_float = big_endian(0x4093480000000000, 8);  // 1234.0
  rewriter.on_row_description(
      {{field("ssn", 25, 1), field("item", 1043, 1), field("dob", 1082, 1), field("doc", 3802, 1),
        field("amount", 701, 1), field("file", 17, 1), field("label", 16384, 1)}});
  const cells out = rewrite_row(
      rewriter, {"123-45-6789", "Blue Widget", binary_date, std::string("\x01{\"ssn\": \"123-45-6789\"}"),
                 binary_float, "scan of card 123-45-6789", "enum label"});
  CHECK(out == cells{"***-**-6789", "Blue Widget", binary_date, std::string("\x01{\"ssn\": \"***-**-6789\"}"),
                     binary_float, std::nullopt, "enum label"});
}

TEST_CASE("json values stay JSON or become NULL", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("doc", 114), field("doc", 3802), field("ssn_doc", 3802)}});
  const cells out = rewrite_row(
      rewriter, {R"({"note": "SSN 123-45-6789"})", R"(["a@b.example.org"])", R"({"ssn": 123456789})"});
  REQUIRE(out.size() == 3);
  CHECK(out[0] == R"({"note": "SSN ***-**-6789"})");
  REQUIRE(out[1]);  // a pseudonym inside a JSON string
  CHECK(out[1]->size() == std::string(R"(["a@b.example.org"])").size());
  CHECK(out[1]->find("a@b.example.org") == std::string::npos);
  CHECK(out[1]->starts_with("[\""));
  CHECK_FALSE(out[2]);  // "*****6789" would not be a JSON number
}

TEST_CASE("date cells keep Safe Harbor years as dates and become NULL for other transforms",
          "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("dob", 1082), field("seen_at", 1114), field("dob_text", 25)}});
  CHECK(rewrite_row(rewriter, {"1958-02-28", "2024-03-05 10:22:00", "DOB 02/28/1958"}) ==
        cells{"1958-01-01", "2024-01-01 10:22:00", "DOB 1958"});

  auto rules = test_rules();
  rules.per_type.erase(entity_type::date);
  auto redacting = make_rewriter(rules);
  redacting.on_row_description({{field("dob", 1082)}});
  CHECK(rewrite_row(redacting, {"1958-02-28"}) == cells{std::nullopt});
}

TEST_CASE("other text-format types become NULL when anything is detected", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("ids", 1009), field("n", 1700)}});
  CHECK(rewrite_row(rewriter, {"{123-45-6789,x}", "12.5"}) == cells{std::nullopt, "12.5"});
}

TEST_CASE("an unreadable DataRow is replaced by a row of NULLs", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("ssn", 25), field("notes", 25)}});
  // Column count 1, then a length running past the end of the body.
  const std::string broken =
      pg::test::wire(std::string_view("D\0\0\0\x0c\0\x01\0\0\0\x09"
                                      "12",
                                      13));
  std::string out;
  REQUIRE(rewriter.rewrite_data_row(whole_frame(broken), out));
  auto row = pg::data_row::decode(whole_frame(out));
  REQUIRE(row);
  CHECK(row->columns.size() == 2);
  CHECK_FALSE(row->columns[0]);
  CHECK_FALSE(row->columns[1]);
}

TEST_CASE("COPY text and CSV lines are masked in place without new delimiters", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_copy_out({0, {0, 0, 0}});
  const std::string text_line = "7\t123-45-6789\tPt called from 206-555-0100\n";
  std::string out;
  REQUIRE(rewriter.rewrite_copy_data(whole_frame(copy_data_bytes(text_line)), out));
  auto copy = pg::copy_data::decode(whole_frame(out));
  REQUIRE(copy);
  CHECK(as_chars(copy->data) == "7\t***-**-6789\tPt called from [PHONE]\n");

  const std::string csv_line = "7,123-45-6789,\"Called 206-555-0100, left message\"\n";
  out.clear();
  REQUIRE(rewriter.rewrite_copy_data(whole_frame(copy_data_bytes(csv_line)), out));
  copy = pg::copy_data::decode(whole_frame(out));
  REQUIRE(copy);
  CHECK(as_chars(copy->data) == "7,***-**-6789,\"Called [PHONE], left message\"\n");

  out.clear();
  CHECK_FALSE(rewriter.rewrite_copy_data(whole_frame(copy_data_bytes("1\tGauze pads\n")), out));
  CHECK(out.empty());
}

TEST_CASE("binary COPY fields with a detection become NULL", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  rewriter.on_copy_out({1, {1, 1}});
  std::string header("PGCOPY\n\xff\r\n\0", 11);
  header += big_endian(0, 4) + big_endian(0, 4);
  const std::string tuple =
      big_endian(2, 2) + big_endian(4, 4) + big_endian(7, 4) + big_endian(11, 4) + "123-45-6789";
  std::string out;
  REQUIRE(rewriter.rewrite_copy_data(whole_frame(copy_data_bytes(header + tuple)), out));
  auto copy = pg::copy_data::decode(whole_frame(out));
  REQUIRE(copy);
  CHECK(as_chars(copy->data) ==
        header + big_endian(2, 2) + big_endian(4, 4) + big_endian(7, 4) + big_endian(0xFFFFFFFF, 4));

  out.clear();
  CHECK_FALSE(rewriter.rewrite_copy_data(whole_frame(copy_data_bytes(big_endian(0xFFFF, 2))), out));

  // A tuple cut short cannot be judged: the message is replaced by an empty one.
  auto fresh = make_rewriter();
  fresh.on_copy_out({1, {1}});
  out.clear();
  REQUIRE(fresh.rewrite_copy_data(
      whole_frame(copy_data_bytes(header + big_endian(1, 2) + big_endian(11, 4) + "123")), out));
  copy = pg::copy_data::decode(whole_frame(out));
  REQUIRE(copy);
  CHECK(copy->data.empty());
}

TEST_CASE("error and notice fields that quote values are masked; codes are kept", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  for (char type : {pg::backend_type::error_response, pg::backend_type::notice_response}) {
    pg::error_response error;
    error.fields = {{'S', "ERROR"},
                    {'C', "22P02"},
                    {'M', "invalid input syntax for type integer: \"123-45-6789\""},
                    {'D', "Key (email)=(ann.lee@example.com) already exists."},
                    {'H', "call 206-555-0100"},
                    {'W', "SQL function \"f\" statement 1"}};
    std::string in;
    error.encode(in, type);
    std::string out;
    REQUIRE(rewriter.rewrite_message(whole_frame(in), out));
    REQUIRE(out[0] == type);
    auto masked = pg::error_response::decode(whole_frame(out));
    REQUIRE(masked);
    CHECK(masked->field('S') == "ERROR");
    CHECK(masked->field('C') == "22P02");
    CHECK(masked->field('M') == "invalid input syntax for type integer: \"***-**-6789\"");
    CHECK(masked->field('D')->find("ann.lee@example.com") == std::string_view::npos);
    CHECK(masked->field('H') == "call [PHONE]");
    CHECK(masked->field('W') == "SQL function \"f\" statement 1");
  }
}

TEST_CASE("notification payloads are masked and clean messages pass", "[masking][rewriter]") {
  auto rewriter = make_rewriter();
  std::string in;
  pg::notification_response{42, "events", "patient 123-45-6789 updated"}.encode(in);
  std::string out;
  REQUIRE(rewriter.rewrite_message(whole_frame(in), out));
  auto note = pg::notification_response::decode(whole_frame(out));
  REQUIRE(note);
  CHECK(note->process_id == 42);
  CHECK(note->channel == "events");
  CHECK(note->payload == "patient ***-**-6789 updated");

  in.clear();
  out.clear();
  pg::encode_error(in, "ERROR", "42P01", "relation \"nope\" does not exist");
  CHECK_FALSE(rewriter.rewrite_message(whole_frame(in), out));
  CHECK(out.empty());
}

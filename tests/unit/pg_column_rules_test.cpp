// Column rules in the rewrite step: a column a rule names (by name until the catalog is read), or an output
// the lineage plan ties to one, is masked whole by the rule's transform and still fits its type; COPY lines
// are split into fields by the plan's layout.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "gateway/pg_masking_rewriter.hpp"
#include "pg_codec_test_support.hpp"

using namespace phigate;
using masking::transform_kind;
using phigate::pg::test::whole_frame;

namespace {

using cells = std::vector<std::optional<std::string>>;
constexpr std::uint32_t text_oid = 25, int4_oid = 23, date_oid = 1082, patients_oid = 16400;

pg_masking_rewriter make_rewriter() {
  auto compiled = masking::detector_set::compile(masking::detector_config{});
  REQUIRE(compiled.set);
  auto config = std::make_shared<masking_config>();
  config->rules.key = masking::masking_key{"k1", "0123456789abcdef0123456789abcdef"};
  config->columns = {{"public", "patients", "ssn", transform_kind::partial},
                     {"public", "patients", "full_name", transform_kind::pseudonym},
                     {"public", "patients", "dob", transform_kind::safe_harbor_date},
                     {"public", "patients", "mrn", transform_kind::null}};
  auto rules = std::shared_ptr<const masking::masking_rules>(config, &config->rules);
  return pg_masking_rewriter(std::make_shared<const masking::cell_masker>(compiled.set, rules), config);
}

pg::field_description field(std::string_view name, std::uint32_t type, std::uint32_t table = patients_oid) {
  pg::field_description f;
  f.name = name;
  f.type_oid = type;
  f.table_oid = table;
  f.column_attnum = table ? 1 : 0;
  return f;
}

cells rewrite(pg_masking_rewriter& rewriter, const cells& values) {
  pg::data_row row;
  for (const auto& v : values)
    row.columns.push_back(v ? std::optional<byte_span>(as_bytes(*v)) : std::nullopt);
  std::string in, out;
  row.encode(in);
  if (!rewriter.rewrite_data_row(whole_frame(in), out)) return values;
  auto decoded = pg::data_row::decode(whole_frame(out));
  REQUIRE(decoded);
  cells result;
  for (const auto& c : decoded->columns)
    result.push_back(c ? std::optional<std::string>(as_chars(*c)) : std::nullopt);
  return result;
}

std::string copy_line(pg_masking_rewriter& rewriter, const std::string& line) {
  std::string in, out;
  pg::copy_data{as_bytes(line)}.encode(in);
  if (!rewriter.rewrite_copy_data(whole_frame(in), out)) return line;
  auto copy = pg::copy_data::decode(whole_frame(out));
  REQUIRE(copy);
  return std::string(as_chars(copy->data));
}

}  // namespace

TEST_CASE("a rule masks every value of its column whole, whatever it holds", "[masking][rules]") {
  auto rewriter = make_rewriter();
  rewriter.on_row_description({{field("ssn", text_oid), field("full_name", text_oid), field("dob", date_oid),
                                field("mrn", text_oid), field("notes", text_oid)}});
  const auto out = rewrite(rewriter, {"not-a-ssn-1234", "Ann Lee", "1958-08-28", "MRN-1", "nothing here"});
  CHECK(out[0] == "***-*-***-1234");
  REQUIRE(out[1]);
  CHECK(*out[1] != "Ann Lee");
  CHECK(out[1]->size() == 7);
  CHECK((*out[1])[3] == ' ');
  CHECK(out[2] == "1958-01-01");
  CHECK_FALSE(out[3]);  // the null transform
  CHECK(out[4] == "nothing here");
}

TEST_CASE("outputs the lineage plan names are masked; derived ones whole and type-safe", "[masking][rules]") {
  auto rewriter = make_rewriter();
  auto plan = std::make_shared<lineage_plan>();
  plan->outputs = {{"note", 0, false}, {"substr", 0, true}, {"length", 0, true}};
  plan->names = {"note", "substr", "length", "id"};
  rewriter.use_plan(plan);
  rewriter.on_row_description(
      {{field("note", text_oid, 0), field("substr", text_oid, 0), field("length", int4_oid, 0),
        field("id", int4_oid), field("mystery", text_oid, 0)}});
  const auto out = rewrite(rewriter, {"123-45-6789", "123", "11", "7", "abc"});
  CHECK(out[0] == "***-**-6789");
  CHECK(out[1] == "[SSN]");  // partial would keep "123" in clear: derived values are redacted
  CHECK_FALSE(out[2]);       // "[SSN]" is not an int4
  CHECK(out[3] == "7");
  CHECK(out[4] == "[SSN]");  // a computed column the analysis did not name, beside derived ones
}

TEST_CASE("COPY text and CSV fields follow their rules and keep the line well formed", "[masking][rules]") {
  auto rewriter = make_rewriter();
  auto plan = std::make_shared<lineage_plan>();
  plan->outputs = {{"ssn", 0, false}, {"mrn", 3, false}};
  plan->copy_fields = {"id", "ssn", "mrn", "notes"};
  rewriter.use_plan(plan);
  rewriter.on_copy_out({0, {0, 0, 0, 0}});
  CHECK(copy_line(rewriter, "7\tabc-1234\tM1\tcall 206-555-0100\n") == "7\t***-1234\t\\N\tcall [PHONE]\n");
  CHECK(copy_line(rewriter, "8\t\\N\t\\N\tok\n") == "8\t\\N\t\\N\tok\n");

  auto csv = std::make_shared<lineage_plan>(*plan);
  csv->copy_csv = true;
  csv->copy_delimiter = ',';
  csv->copy_header = true;
  rewriter.use_plan(csv);
  rewriter.on_copy_out({0, {0, 0, 0, 0}});
  CHECK(copy_line(rewriter, "id,ssn,mrn,notes\n") == "id,ssn,mrn,notes\n");  // the header
  CHECK(copy_line(rewriter, "7,\"a,\"\"b\"\"-1234\",\"M1\",\"x, y\"\n") ==
        "7,\"*,\"\"*\"\"-1234\",,\"x, y\"\n");
  // A line that does not split into the named fields is scanned whole, as without a plan.
  CHECK(copy_line(rewriter, "7,123-45-6789\n") == "7,[SSN]\n");
}

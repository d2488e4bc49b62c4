// Masked columns through a statement's lineage: which outputs carry them (as themselves, computed from them,
// or inside whole rows), which predicates filter on them, and the policy's masked_predicates rules.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "policy/evaluator.hpp"
#include "policy/masked_lineage.hpp"
#include "policy/policy_loader.hpp"

using namespace phigate::policy;

namespace {

const std::vector<masked_column> masked = {{"public", "patients", "ssn"},
                                           {"public", "patients", "full_name"}};

session_facts masked_session() {
  session_facts session;
  session.masked_columns = masked;
  return session;
}

masked_lineage lineage_of(const std::string& sql, const session_facts& session = masked_session()) {
  const analysis result = analyze_sql(sql);
  REQUIRE(result.ok());
  REQUIRE(result.statements.size() == 1);
  return find_masked_lineage(result.statements[0], masked, session);
}

}  // namespace

TEST_CASE("an aliased masked column is a plain output under its new name", "[policy][masking]") {
  const auto found = lineage_of("SELECT id, ssn AS note FROM patients");
  CHECK(found.outputs == std::vector<masked_output>{{"note", masked_flow::plain, 0}});
  CHECK(found.predicates.empty());
  CHECK_FALSE(found.has_star);
}

TEST_CASE("expressions over masked columns are derived outputs named as PostgreSQL names them",
          "[policy][masking]") {
  const auto found = lineage_of(
      "SELECT substr(ssn, 1, 3), lower(full_name), ssn || '' AS s, md5(ssn), count(*) FROM patients "
      "GROUP BY ssn, full_name");
  CHECK(found.outputs == std::vector<masked_output>{{"substr", masked_flow::derived, 0},
                                                    {"lower", masked_flow::derived, 1},
                                                    {"s", masked_flow::derived, 0},
                                                    {"md5", masked_flow::derived, 0}});
  CHECK(found.predicates == std::vector<std::size_t>{0, 1});  // GROUP BY
}

TEST_CASE("whole rows of a table with masked columns are whole-row outputs", "[policy][masking]") {
  for (const char* sql : {"SELECT p FROM patients p", "SELECT row_to_json(p) FROM patients p",
                          "SELECT json_agg(p) FROM patients p", "SELECT to_jsonb(patients) FROM patients"}) {
    INFO(sql);
    const auto found = lineage_of(sql);
    REQUIRE(found.outputs.size() == 1);
    CHECK(found.outputs[0].flow == masked_flow::whole_row);
  }
}

TEST_CASE("a star is left to the server's column description", "[policy][masking]") {
  const auto found = lineage_of("SELECT * FROM patients");
  CHECK(found.outputs.empty());
  CHECK(found.has_star);
}

TEST_CASE("tables resolve through the search_path; other schemas and tables are not masked",
          "[policy][masking]") {
  CHECK(lineage_of("SELECT ssn FROM archive.patients").outputs.empty());
  CHECK(lineage_of("SELECT ssn FROM staff").outputs.empty());
  CHECK(lineage_of("SELECT ssn FROM public.patients").outputs.size() == 1);
  auto elsewhere = masked_session();
  elsewhere.search_path = {"archive"};
  CHECK(lineage_of("SELECT ssn FROM patients", elsewhere).outputs.empty());
}

TEST_CASE("filters, joins and ordering on masked columns are predicates", "[policy][masking]") {
  CHECK(lineage_of("SELECT id FROM patients WHERE ssn LIKE '123-%'").predicates ==
        std::vector<std::size_t>{0});
  CHECK(lineage_of("SELECT id FROM patients ORDER BY full_name").predicates == std::vector<std::size_t>{1});
  CHECK(lineage_of("SELECT p.id FROM patients p JOIN billing b ON b.holder = p.full_name").predicates ==
        std::vector<std::size_t>{1});
  CHECK(lineage_of("SELECT id FROM patients WHERE id = 3").predicates.empty());
}

TEST_CASE("a masked_predicates rule matches only statements that filter on masked columns",
          "[policy][masking]") {
  const auto policy = std::make_shared<const policy_model>(parse_policy(R"(rules:
  - id: no-guessing
    kinds: [read]
    masked_predicates: true
    action: deny
  - id: reads
    kinds: [read]
    action: allow
)",
                                                                        "p.yaml"));
  const evaluator e(policy);
  const identity_facts who{"bob", {"clinical"}, "clinic"};
  const auto guess =
      e.evaluate(analyze_sql("SELECT id FROM patients WHERE ssn = '123-45-6789'"), who, masked_session());
  CHECK(guess.verdict == rule_action::deny);
  CHECK(guess.rule_id == "no-guessing");
  CHECK(guess.reason.find("filters on masked column public.patients.ssn") != std::string::npos);
  CHECK(e.evaluate(analyze_sql("SELECT ssn FROM patients WHERE id = 1"), who, masked_session()).rule_id ==
        "reads");
  // Without masked columns for this person (an unmasked group), nothing is an inference risk.
  CHECK(e.evaluate(analyze_sql("SELECT id FROM patients WHERE ssn = 'x'"), who, session_facts{}).rule_id ==
        "reads");
}

TEST_CASE("COPY options give the format its data is written in", "[policy][masking]") {
  const auto copy_of = [](const std::string& sql) {
    const analysis result = analyze_sql(sql);
    REQUIRE(result.ok());
    return result.statements.at(0).copy;
  };
  CHECK(copy_of("COPY patients TO STDOUT") == copy_format{});
  const auto csv = copy_of("COPY patients TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', QUOTE '''')");
  CHECK(csv.format == copy_format::kind::csv);
  CHECK(csv.delimiter == ';');
  CHECK(csv.quote == '\'');
  CHECK(csv.escape == '\'');
  CHECK(csv.header);
  const auto legacy = copy_of("COPY patients TO STDOUT CSV HEADER");
  CHECK(legacy.format == copy_format::kind::csv);
  CHECK(legacy.delimiter == ',');
  CHECK(legacy.header);
  CHECK_FALSE(copy_of("COPY patients TO STDOUT WITH (FORMAT csv, HEADER false)").header);
  CHECK(copy_of("COPY patients TO STDOUT WITH (FORMAT binary)").format == copy_format::kind::binary);
}

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "policy/analyzer.hpp"

using namespace phigate::policy;

namespace {

const table_ref patients{"", "patients"};
const column_ref ssn{patients, "ssn", false};
const column_ref full_name{patients, "full_name", false};
const column_ref all_of_patients{patients, "", true};

statement_facts only_statement(const std::string& sql) {
  analysis result = analyze_sql(sql);
  REQUIRE(result.ok());
  REQUIRE(result.statements.size() == 1);
  return std::move(result.statements[0]);
}

result_column only_result(const std::string& sql) {
  const statement_facts facts = only_statement(sql);
  REQUIRE(facts.result_columns.size() == 1);
  return facts.result_columns[0];
}

bool contains(const std::vector<column_ref>& columns, const column_ref& column) {
  return std::find(columns.begin(), columns.end(), column) != columns.end();
}

}  // namespace

TEST_CASE("an aliased column is a plain reference to its source column", "[policy]") {
  const result_column note = only_result("SELECT ssn AS note FROM patients");
  CHECK(note.name == "note");
  CHECK(note.derivation == column_derivation::plain_reference);
  CHECK(note.sources == std::vector<column_ref>{ssn});
}

TEST_CASE("expressions over a column derive from it but are not plain references", "[policy]") {
  for (const char* sql :
       {"SELECT ssn || '' FROM patients", "SELECT lower(ssn) FROM patients",
        "SELECT substr(ssn, 1, 3) FROM patients", "SELECT md5(ssn) FROM patients",
        "SELECT ssn::int FROM patients", "SELECT array_agg(ssn) FROM patients",
        "SELECT string_agg(ssn, ',') FROM patients", "SELECT json_agg(ssn) FROM patients",
        "SELECT CASE WHEN true THEN ssn END FROM patients", "SELECT coalesce(ssn, 'x') FROM patients",
        "SELECT (SELECT ssn FROM patients LIMIT 1)"}) {
    INFO(sql);
    const result_column column = only_result(sql);
    CHECK(column.derivation == column_derivation::expression);
    CHECK(column.sources == std::vector<column_ref>{ssn});
  }
}

TEST_CASE("concat over two columns derives from both", "[policy]") {
  const result_column column = only_result("SELECT concat(full_name, ssn) FROM patients");
  CHECK(column.derivation == column_derivation::expression);
  CHECK(column.sources == std::vector<column_ref>{full_name, ssn});
}

TEST_CASE("a cast keeps the column's name as PostgreSQL does", "[policy]") {
  CHECK(only_result("SELECT ssn::int FROM patients").name == "ssn");
  CHECK(only_result("SELECT lower(ssn) FROM patients").name == "lower");
  CHECK(only_result("SELECT 1 + 1").name == "?column?");
}

TEST_CASE("whole-row references derive from every column of the table", "[policy]") {
  for (const char* sql : {"SELECT p FROM patients p", "SELECT row_to_json(p) FROM patients p",
                          "SELECT to_jsonb(p) FROM patients p", "SELECT json_agg(p) FROM patients p",
                          "SELECT row_to_json(p.*) FROM patients p"}) {
    INFO(sql);
    const result_column column = only_result(sql);
    CHECK(column.derivation == column_derivation::expression);
    CHECK(column.sources == std::vector<column_ref>{all_of_patients});
  }
}

TEST_CASE("a star over a table is recorded as all columns of that table", "[policy]") {
  for (const char* sql :
       {"SELECT * FROM patients", "SELECT p.* FROM patients p", "SELECT patients.* FROM patients"}) {
    INFO(sql);
    const statement_facts facts = only_statement(sql);
    REQUIRE(facts.result_columns.size() == 1);
    CHECK(facts.result_columns[0].derivation == column_derivation::star);
    CHECK(facts.result_columns[0].sources == std::vector<column_ref>{all_of_patients});
    CHECK(contains(facts.columns_read, all_of_patients));
  }
}

TEST_CASE("a star over a join yields one star per table", "[policy]") {
  const statement_facts facts =
      only_statement("SELECT * FROM patients p JOIN public.visits v ON v.pid = p.id");
  REQUIRE(facts.result_columns.size() == 2);
  CHECK(facts.result_columns[0].sources == std::vector<column_ref>{all_of_patients});
  CHECK(facts.result_columns[1].sources ==
        std::vector<column_ref>{column_ref{{"public", "visits"}, "", true}});
}

TEST_CASE("columns used in WHERE, JOIN, GROUP BY, HAVING and ORDER BY are predicate uses", "[policy]") {
  const statement_facts facts = only_statement(
      "SELECT count(*) FROM patients p JOIN visits v ON v.pid = p.id WHERE p.ssn LIKE '123%' "
      "GROUP BY p.zip HAVING max(p.dob) > now() ORDER BY p.full_name");
  for (const char* column : {"ssn", "zip", "dob", "full_name", "id"}) {
    INFO(column);
    CHECK(contains(facts.predicate_columns, column_ref{patients, column, false}));
    CHECK(contains(facts.columns_read, column_ref{patients, column, false}));
  }
  CHECK(contains(facts.predicate_columns, column_ref{{"", "visits"}, "pid", false}));
  REQUIRE(facts.result_columns.size() == 1);
  CHECK(facts.result_columns[0].sources.empty());
}

TEST_CASE("projected columns are read but not predicate uses", "[policy]") {
  const statement_facts facts = only_statement("SELECT ssn FROM patients");
  CHECK(contains(facts.columns_read, ssn));
  CHECK(facts.predicate_columns.empty());
}

TEST_CASE("lineage follows columns through subqueries and CTEs", "[policy]") {
  const result_column through_subquery = only_result("SELECT x FROM (SELECT ssn AS x FROM patients) s");
  CHECK(through_subquery.derivation == column_derivation::plain_reference);
  CHECK(through_subquery.sources == std::vector<column_ref>{ssn});
  const result_column through_cte =
      only_result("WITH c AS (SELECT lower(ssn) AS l FROM patients) SELECT c.l FROM c");
  CHECK(through_cte.derivation == column_derivation::expression);
  CHECK(through_cte.sources == std::vector<column_ref>{ssn});
  const result_column renamed = only_result("SELECT y FROM (SELECT ssn FROM patients) AS s(y)");
  CHECK(renamed.sources == std::vector<column_ref>{ssn});
}

TEST_CASE("lineage of a set operation merges the branches", "[policy]") {
  const result_column column = only_result("SELECT ssn FROM patients UNION SELECT tax_id FROM staff");
  CHECK(column.derivation == column_derivation::expression);
  CHECK(column.sources == std::vector<column_ref>{ssn, column_ref{{"", "staff"}, "tax_id", false}});
}

TEST_CASE("an unqualified column with several tables in scope lists every candidate", "[policy]") {
  const result_column column = only_result("SELECT ssn FROM patients, visits");
  CHECK(column.sources == std::vector<column_ref>{ssn, column_ref{{"", "visits"}, "ssn", false}});
  CHECK(column.derivation == column_derivation::expression);
}

TEST_CASE("RETURNING columns are the result columns of a write", "[policy]") {
  const statement_facts facts = only_statement("DELETE FROM patients WHERE id = 1 RETURNING ssn, *");
  REQUIRE(facts.result_columns.size() == 2);
  CHECK(facts.result_columns[0].sources == std::vector<column_ref>{ssn});
  CHECK(facts.result_columns[1].derivation == column_derivation::star);
  CHECK(contains(facts.predicate_columns, column_ref{patients, "id", false}));
}

TEST_CASE("a DELETE ... RETURNING * in a CTE carries the table's columns to the outer SELECT", "[policy]") {
  const statement_facts facts =
      only_statement("WITH d AS (DELETE FROM patients RETURNING *) SELECT d.ssn, * FROM d");
  REQUIRE(facts.result_columns.size() == 2);
  CHECK(facts.result_columns[0].sources == std::vector<column_ref>{ssn});
  CHECK(facts.result_columns[0].derivation == column_derivation::plain_reference);
  CHECK(facts.result_columns[1].sources == std::vector<column_ref>{all_of_patients});
}

TEST_CASE("COPY results carry lineage like a SELECT", "[policy]") {
  const statement_facts query = only_statement("COPY (SELECT upper(ssn) FROM patients) TO STDOUT");
  REQUIRE(query.result_columns.size() == 1);
  CHECK(query.result_columns[0].sources == std::vector<column_ref>{ssn});
  const statement_facts table = only_statement("COPY patients (ssn) TO STDOUT");
  REQUIRE(table.result_columns.size() == 1);
  CHECK(table.result_columns[0].derivation == column_derivation::plain_reference);
  CHECK(table.result_columns[0].sources == std::vector<column_ref>{ssn});
}

TEST_CASE("written columns are recorded for INSERT, UPDATE and upserts", "[policy]") {
  const statement_facts insert = only_statement(
      "INSERT INTO patients (id, ssn) VALUES (1, '1') ON CONFLICT (id) DO UPDATE SET full_name = "
      "excluded.full_name");
  CHECK(contains(insert.columns_written, column_ref{patients, "id", false}));
  CHECK(contains(insert.columns_written, ssn));
  CHECK(contains(insert.columns_written, full_name));
  const statement_facts update = only_statement("UPDATE patients SET ssn = NULL WHERE id = 2");
  CHECK(update.columns_written == std::vector<column_ref>{ssn});
  const statement_facts all = only_statement("INSERT INTO patients VALUES (1)");
  CHECK(all.columns_written == std::vector<column_ref>{all_of_patients});
}

TEST_CASE("schema-qualified tables keep their schema in lineage", "[policy]") {
  const result_column column = only_result("SELECT p.ssn FROM clinic.patients p");
  CHECK(column.sources == std::vector<column_ref>{column_ref{{"clinic", "patients"}, "ssn", false}});
  const result_column qualified = only_result("SELECT clinic.patients.ssn FROM clinic.patients");
  CHECK(qualified.sources == std::vector<column_ref>{column_ref{{"clinic", "patients"}, "ssn", false}});
}

TEST_CASE("a correlated subquery resolves outer columns against the outer query", "[policy]") {
  const statement_facts facts =
      only_statement("SELECT (SELECT max(v.visit_date) FROM visits v WHERE v.pid = p.id) FROM patients p");
  CHECK(contains(facts.predicate_columns, column_ref{patients, "id", false}));
  REQUIRE(facts.result_columns.size() == 1);
  CHECK(facts.result_columns[0].sources ==
        std::vector<column_ref>{column_ref{{"", "visits"}, "visit_date", false}});
}

TEST_CASE("ORDER BY an output alias or position is a predicate use of the output's sources", "[policy]") {
  const statement_facts by_alias = only_statement("SELECT lower(ssn) AS s FROM patients ORDER BY s");
  CHECK(by_alias.predicate_columns == std::vector<column_ref>{ssn});
  const statement_facts by_position = only_statement("SELECT id, ssn FROM patients GROUP BY 1, 2 ORDER BY 2");
  CHECK(contains(by_position.predicate_columns, ssn));
  CHECK(contains(by_position.predicate_columns, column_ref{patients, "id", false}));
}

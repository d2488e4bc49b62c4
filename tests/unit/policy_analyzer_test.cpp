#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/analyzer.hpp"
#include "policy/pg_query_handle.hpp"

using namespace phigate::policy;

namespace {

struct golden_row {
  int line = 0;
  std::string statement;
  std::string kinds;
  std::string tables;
  std::string note;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The statement may itself contain " | ", so the three other fields are taken from the right.
std::vector<golden_row> read_golden(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<golden_row> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::string rest = line;
    for (int i = 0; i < 3; ++i) {
      const auto at = rest.rfind(" | ");
      if (at == std::string::npos) break;
      fields.insert(fields.begin(), trim(rest.substr(at + 3)));
      rest = rest.substr(0, at);
    }
    if (fields.size() != 3) {
      rows.push_back(golden_row{number, line, "<malformed row>", "", ""});
      continue;
    }
    rows.push_back(golden_row{number, trim(rest), fields[0], fields[1], fields[2]});
  }
  return rows;
}

std::set<std::string> split_set(const std::string& text, char separator) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, separator)) {
    if (!trim(item).empty()) out.insert(trim(item));
  }
  return out;
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string tables_of(const analysis& result) {
  std::set<std::string> read;
  std::set<std::string> written;
  for (const auto& facts : result.statements) {
    for (const auto& table : facts.tables_read) read.insert(table.qualified());
    for (const auto& table : facts.tables_written) written.insert(table.qualified());
  }
  std::string out;
  if (!read.empty()) out += "r:" + join(read);
  if (!written.empty()) out += std::string(out.empty() ? "" : " ") + "w:" + join(written);
  return out.empty() ? "-" : out;
}

std::string normalize_tables(const std::string& expected) {
  if (expected == "-") return expected;
  std::string read;
  std::string written;
  for (const auto& token : split_set(expected, ' ')) {
    if (token.starts_with("r:")) read = join(split_set(token.substr(2), ','));
    if (token.starts_with("w:")) written = join(split_set(token.substr(2), ','));
  }
  std::string out;
  if (!read.empty()) out += "r:" + read;
  if (!written.empty()) out += std::string(out.empty() ? "" : " ") + "w:" + written;
  return out.empty() ? "-" : out;
}

std::string reasons_of(const analysis& result) {
  std::string out;
  for (const auto& facts : result.statements) {
    for (const auto& reason : facts.reasons) out += "\n    " + reason.reason;
  }
  return out;
}

}  // namespace

TEST_CASE("every golden statement gets the expected kinds and tables", "[policy]") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "golden" / "policy_facts.tsv";
  const auto rows = read_golden(path);
  REQUIRE(rows.size() >= 120);
  int mismatches = 0;
  for (const auto& row : rows) {
    const analysis result = analyze_sql(row.statement);
    std::set<std::string> expected_kinds = split_set(row.kinds, ',');
    std::set<std::string> actual_kinds = split_set(result.kinds.to_string(), ',');
    const std::string expected_tables = normalize_tables(row.tables);
    const std::string actual_tables = tables_of(result);
    if (expected_kinds == actual_kinds && expected_tables == actual_tables) continue;
    ++mismatches;
    FAIL_CHECK("line " << row.line << ": " << row.statement << "\n  expected kinds " << join(expected_kinds)
                       << ", got " << join(actual_kinds) << "\n  expected tables " << expected_tables
                       << ", got " << actual_tables << "\n  reasons:" << reasons_of(result)
                       << "\n  note: " << row.note);
  }
  INFO(rows.size() << " golden rows, " << mismatches << " mismatching");
  CHECK(mismatches == 0);
}

TEST_CASE("every kind a statement has comes with a reason naming that kind", "[policy]") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "golden" / "policy_facts.tsv";
  for (const auto& row : read_golden(path)) {
    const analysis result = analyze_sql(row.statement);
    for (const auto& facts : result.statements) {
      for (std::size_t i = 0; i < statement_kind_count; ++i) {
        const auto kind = static_cast<statement_kind>(i);
        if (!facts.kinds.contains(kind)) continue;
        const bool explained =
            std::any_of(facts.reasons.begin(), facts.reasons.end(), [&](const kind_reason& r) {
              return r.kind == kind && r.reason.starts_with(std::string(to_string(kind)) + ": ");
            });
        INFO(row.statement << " kind " << to_string(kind));
        CHECK(explained);
      }
    }
  }
}

TEST_CASE("the reason for an export names the mechanism", "[policy]") {
  const analysis copy = analyze_sql("COPY patients TO STDOUT");
  REQUIRE(copy.statements.size() == 1);
  const auto& reasons = copy.statements[0].reasons;
  CHECK(std::any_of(reasons.begin(), reasons.end(),
                    [](const kind_reason& r) { return r.reason == "export: COPY ... TO STDOUT"; }));
  const analysis file = analyze_sql("SELECT pg_read_file('/etc/passwd')");
  const auto& file_reasons = file.statements.at(0).reasons;
  CHECK(std::any_of(file_reasons.begin(), file_reasons.end(), [](const kind_reason& r) {
    return r.kind == statement_kind::export_data && r.reason.find("pg_read_file()") != std::string::npos;
  }));
}

TEST_CASE("a parse error is returned as an error and an unknown statement carrying the parser message",
          "[policy]") {
  const analysis result = analyze_sql("SELEC 1");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error->message == "syntax error at or near \"SELEC\"");
  CHECK(result.error->cursor_position == 1);
  CHECK(result.kinds.strictest() == statement_kind::unknown);
  REQUIRE(result.statements.size() == 1);
  CHECK(result.statements[0].reasons.at(0).reason == "unknown: syntax error at or near \"SELEC\"");
}

TEST_CASE("text with an embedded NUL byte is refused rather than truncated", "[policy]") {
  using namespace std::string_view_literals;
  const analysis result = analyze_sql("SELECT 1\0; DROP TABLE patients"sv);
  CHECK_FALSE(result.ok());
  CHECK(result.kinds.contains(statement_kind::unknown));
}

TEST_CASE("empty and comment-only input yields no statements and no error", "[policy]") {
  for (const char* sql : {"", "   ", "-- nothing", "/* nothing */ ;"}) {
    const analysis result = analyze_sql(sql);
    INFO(sql);
    CHECK(result.ok());
    CHECK(result.statements.empty());
    CHECK(result.kinds.empty());
  }
}

TEST_CASE("statements are split where the parser splits them, never at a semicolon in a literal",
          "[policy]") {
  const std::string sql = "SELECT ';' AS a;  SELECT $$;$$ /* ; */; -- x\n UPDATE t SET a = ';'";
  const analysis result = analyze_sql(sql);
  REQUIRE(result.statements.size() == 3);
  CHECK(result.statements[0].text == "SELECT ';' AS a");
  CHECK(result.statements[1].text == "SELECT $$;$$ /* ; */");
  CHECK(result.statements[2].text == "-- x\n UPDATE t SET a = ';'");
  const split_handle split(pg_query_split_with_parser(sql.c_str()));
  REQUIRE(split->error == nullptr);
  REQUIRE(split->n_stmts == 3);
  for (int i = 0; i < split->n_stmts; ++i) {
    const auto* piece = split->stmts[i];
    CHECK(result.statements[static_cast<std::size_t>(i)].text ==
          trim(sql.substr(static_cast<std::size_t>(piece->stmt_location),
                          static_cast<std::size_t>(piece->stmt_len))));
  }
  CHECK(result.kinds.to_string() == "read,write");
}

TEST_CASE("normalized text replaces literals and the fingerprint ignores their values", "[policy]") {
  const analysis first = analyze_sql("SELECT abalance FROM pgbench_accounts WHERE aid = 7151");
  const analysis second = analyze_sql("SELECT abalance FROM pgbench_accounts WHERE aid = 42");
  const analysis other = analyze_sql("SELECT bbalance FROM pgbench_branches WHERE bid = 42");
  REQUIRE(first.statements.size() == 1);
  CHECK(first.statements[0].normalized == "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
  CHECK(first.statements[0].fingerprint == second.statements[0].fingerprint);
  CHECK(first.statements[0].fingerprint_hex.size() == 16);
  CHECK(first.statements[0].fingerprint != other.statements[0].fingerprint);
  const analysis secret = analyze_sql("SELECT * FROM patients WHERE ssn = '123-45-6789'");
  CHECK(secret.statements[0].normalized.find("123-45-6789") == std::string::npos);
}

TEST_CASE("functions are recorded with the schema they were called with", "[policy]") {
  const analysis result = analyze_sql("SELECT pg_catalog.lower(ssn), md5(ssn) FROM patients");
  const auto& functions = result.statements.at(0).functions;
  REQUIRE(functions.size() == 2);
  CHECK(functions[0] == function_call{"pg_catalog", "lower"});
  CHECK(functions[1] == function_call{"", "md5"});
}

TEST_CASE("a policy can extend the read-only function list", "[policy]") {
  const std::string sql = "SELECT audit.mask_ssn(ssn), risk_score(id) FROM patients";
  CHECK(analyze_sql(sql).kinds.contains(statement_kind::admin));
  function_catalog catalog;
  catalog.add_read_only("audit.mask_ssn");
  catalog.add_read_only("risk_score");
  const analysis result = analyze_sql(sql, catalog);
  CHECK(result.kinds.to_string() == "read");
  catalog.set_class("risk_score", function_class::export_data);
  CHECK(analyze_sql(sql, catalog).kinds.contains(statement_kind::export_data));
}

TEST_CASE("a read-only entry for an unqualified name does not cover another schema's function", "[policy]") {
  function_catalog catalog;
  catalog.add_read_only("risk_score");
  CHECK(analyze_sql("SELECT evil.risk_score(1)", catalog).kinds.contains(statement_kind::admin));
}

TEST_CASE("deeply nested input is analyzed or refused, never crashes", "[policy]") {
  std::string nested = "SELECT ";
  for (int i = 0; i < 5000; ++i) nested += "(";
  nested += "1";
  for (int i = 0; i < 5000; ++i) nested += ")";
  const analysis parens = analyze_sql(nested);
  CHECK(!parens.kinds.empty());
  std::string chain = "SELECT 1";
  for (int i = 0; i < 3000; ++i) chain += " + 1";
  const analysis sums = analyze_sql(chain);
  CHECK((sums.kinds.contains(statement_kind::unknown) || sums.kinds.to_string() == "read"));
}

TEST_CASE("statement kinds have stable names and a strictness order", "[policy]") {
  for (std::size_t i = 0; i < statement_kind_count; ++i) {
    const auto kind = static_cast<statement_kind>(i);
    CHECK(statement_kind_from_string(to_string(kind)) == kind);
  }
  CHECK(to_string(statement_kind::export_data) == "export");
  CHECK_FALSE(statement_kind_from_string("delete").has_value());
  kind_set kinds;
  CHECK_FALSE(kinds.strictest().has_value());
  kinds.insert(statement_kind::read);
  kinds.insert(statement_kind::write);
  CHECK(kinds.strictest() == statement_kind::write);
  kinds.insert(statement_kind::export_data);
  CHECK(kinds.strictest() == statement_kind::export_data);
  kinds.insert(statement_kind::privilege);
  CHECK(kinds.strictest() == statement_kind::privilege);
  kinds.insert(statement_kind::unknown);
  CHECK(kinds.strictest() == statement_kind::unknown);
  CHECK(kinds.to_string() == "read,write,export,privilege,unknown");
  CHECK(kinds.size() == 5);
}

TEST_CASE("every prefix of every golden statement is analyzed without throwing, and failures are unknown",
          "[policy]") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "golden" / "policy_facts.tsv";
  std::size_t analyzed = 0;
  for (const auto& row : read_golden(path)) {
    for (std::size_t length = 0; length <= row.statement.size(); ++length) {
      const std::string prefix = row.statement.substr(0, length);
      analysis result;
      REQUIRE_NOTHROW(result = analyze_sql(prefix));
      ++analyzed;
      if (!result.ok()) {
        INFO(prefix);
        CHECK(result.kinds.contains(statement_kind::unknown));
      }
      for (const auto& facts : result.statements) {
        INFO(prefix);
        CHECK_FALSE(facts.kinds.empty());
      }
    }
  }
  CHECK(analyzed > 5000);
}

TEST_CASE("the fingerprint taken from the analyzer's own parse equals pg_query_fingerprint of the statement",
          "[policy]") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "golden" / "policy_facts.tsv";
  std::size_t compared = 0;
  for (const auto& row : read_golden(path)) {
    for (const std::string& sql : {row.statement, row.statement + ";", "  " + row.statement + " ;\n"}) {
      const analysis result = analyze_sql(sql);
      if (!result.ok()) continue;
      for (const auto& facts : result.statements) {
        const fingerprint_handle expected(pg_query_fingerprint(facts.text.c_str()));
        INFO(sql);
        REQUIRE(expected->error == nullptr);
        CHECK(facts.fingerprint == expected->fingerprint);
        CHECK(facts.fingerprint_hex == expected->fingerprint_str);
        ++compared;
      }
    }
  }
  CHECK(compared > 600);
}

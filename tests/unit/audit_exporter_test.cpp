// export: JSON lines are the stored body plus its hash; CSV puts a statement record's decision and outcome
// (one record for both) in the same row, next to the other kinds' rows.
#include <catch2/catch.hpp>

#include <sstream>

#include "audit/exporter.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;

namespace {

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(line);
  while (std::getline(in, item, separator)) out.push_back(item);
  return out;
}

std::string column(const std::string& header, const std::string& row, const std::string& name) {
  const auto names = split(header, ',');
  const auto values = split(row, ',');
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
    if (names[i] == name) return values[i];
  return "<missing>";
}

}  // namespace

TEST_CASE("a statement record exports its decision and its outcome in one CSV row and one JSON line",
          "[audit][export]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  {
    audit_log log(audit_test::writer_store(path), {});
    log.append(audit_test::make_event(event_kind::connection, "alice", 4));
    log.append(audit_test::make_statement_event("alice", 4, 2));
  }
  sqlite_store reader(path, sqlite_store::mode::read_only);
  std::ostringstream csv;
  REQUIRE(export_records(reader, {}, export_format::csv, csv).empty());
  const auto lines = split(csv.str(), '\n');
  REQUIRE(lines.size() == 3);
  const auto& header = lines[0];
  CHECK(column(header, lines[1], "kind") == "connection");
  CHECK(column(header, lines[1], "verdict").empty());
  const auto& row = lines[2];
  CHECK(column(header, row, "kind") == "statement");
  CHECK(column(header, row, "person") == "alice");
  CHECK(column(header, row, "verdict") == "allow");
  CHECK(column(header, row, "rule") == "clinical-read");
  CHECK(column(header, row, "tables") == "patients");
  CHECK(column(header, row, "rows") == "2");
  CHECK(column(header, row, "sqlstate") == "00000");
  CHECK(column(header, row, "masked") == "SSN=2");

  std::ostringstream jsonl;
  record_filter only_statement;
  only_statement.after_seq = 1;
  REQUIRE(export_records(reader, only_statement, export_format::jsonl, jsonl).empty());
  const auto json = jsonl.str();
  CHECK(json.find("\"kind\":\"statement\"") != std::string::npos);
  CHECK(json.find("\"decision\":{\"verdict\":\"allow\"") != std::string::npos);
  CHECK(json.find("\"outcome\":{\"rows\":2,") != std::string::npos);
  CHECK(json.find("\"hash\":\"") != std::string::npos);
}

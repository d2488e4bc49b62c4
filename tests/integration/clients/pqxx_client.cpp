// Integration client: drives libpqxx (6.4 API) features through a PostgreSQL endpoint and checks the results.
//
// Usage: pqxx_client <prepared|pipeline|stream> <connection string>
//
// Prints one "PASS <check>" line per verified check. A mismatch prints "FAIL <check>: expected X, got Y" and
// the program exits 1; a database error exits 3 with the error text; a usage error exits 2.

#include <cstdint>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

constexpr int exit_mismatch = 1;
constexpr int exit_usage = 2;
constexpr int exit_database_error = 3;

/// Collects the outcome of every check so one run reports all mismatches, not only the first.
class checker {
 public:
  template <typename T>
  void equal(const std::string& name, const T& expected, const T& actual) {
    if (expected == actual) {
      std::cout << "PASS " << name << '\n';
      return;
    }
    failed_ = true;
    std::cout << "FAIL " << name << ": expected " << expected << ", got " << actual << '\n';
  }

  [[nodiscard]] bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

// Server-side prepared statements: Parse once, then Bind/Execute with several parameter sets, including a
// statement over a real table whose answer is cross-checked against the same query sent unprepared.
void run_prepared(pqxx::connection& conn, checker& check) {
  conn.prepare("add_and_tag", "SELECT $1::int + $2::int AS total, $3::text || '-tag' AS tagged");
  conn.prepare("patients_after", "SELECT count(*) FROM patients WHERE id > $1");
  conn.prepare("echo_types",
               "SELECT $1::date + 1 AS next_day, $2::numeric * 2 AS doubled, $3::bigint AS big");

  pqxx::work txn{conn};
  const std::vector<std::tuple<int, int, std::string>> inputs{{2, 3, "a"}, {-7, 7, "béta"}, {100000, 1, ""}};
  for (const auto& [left, right, text] : inputs) {
    const pqxx::result row = txn.exec_prepared("add_and_tag", left, right, text);
    const std::string label =
        "prepared add_and_tag(" + std::to_string(left) + "," + std::to_string(right) + ")";
    check.equal(label + " rows", std::size_t{1}, static_cast<std::size_t>(row.size()));
    check.equal(label + " total", left + right, row[0]["total"].as<int>());
    check.equal(label + " tagged", text + "-tag", row[0]["tagged"].as<std::string>());
  }

  const pqxx::result typed = txn.exec_prepared("echo_types", "2024-02-28", "12.345", "9007199254740993");
  check.equal("prepared date arithmetic", std::string{"2024-02-29"}, typed[0]["next_day"].as<std::string>());
  check.equal("prepared numeric arithmetic", std::string{"24.690"}, typed[0]["doubled"].as<std::string>());
  check.equal("prepared bigint round trip", std::int64_t{9007199254740993},
              typed[0]["big"].as<std::int64_t>());

  const auto direct_count = txn.exec1("SELECT count(*) FROM patients WHERE id > 1")[0].as<std::int64_t>();
  const auto prepared_count = txn.exec_prepared1("patients_after", 1)[0].as<std::int64_t>();
  check.equal("prepared count matches unprepared count", direct_count, prepared_count);
  txn.commit();
}

// pqxx::pipeline sends several queries before reading any result; results must come back in order and
// belong to the right query.
void run_pipeline(pqxx::connection& conn, checker& check) {
  pqxx::work txn{conn};
  pqxx::pipeline pipe{txn};
  std::map<pqxx::pipeline::query_id, int> expected_by_id;
  for (int i = 1; i <= 8; ++i) {
    const auto id = pipe.insert("SELECT " + std::to_string(i) + " * 11 AS v");
    expected_by_id.emplace(id, i * 11);
  }
  const auto count_id = pipe.insert("SELECT count(*) FROM generate_series(1, 5000)");
  const auto text_id = pipe.insert("SELECT repeat('x', 70000) AS big_text");

  for (const auto& [id, expected] : expected_by_id) {
    const pqxx::result r = pipe.retrieve(id);
    check.equal("pipeline query " + std::to_string(expected / 11), expected, r[0][0].as<int>());
  }
  check.equal("pipeline count", 5000, pipe.retrieve(count_id)[0][0].as<int>());
  check.equal("pipeline large text length", std::size_t{70000},
              pipe.retrieve(text_id)[0][0].as<std::string>().size());
  check.equal("pipeline empty after retrieval", true, pipe.empty());
  pipe.complete();
  txn.commit();
}

// Splits one COPY text-format line (tab separated, newline terminated) whose fields need no unescaping.
std::vector<std::string> split_copy_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string::size_type start = 0;
  const std::string::size_type end = line.empty() || line.back() != '\n' ? line.size() : line.size() - 1;
  while (start <= end) {
    const auto tab = line.find('\t', start);
    const auto stop = tab == std::string::npos || tab > end ? end : tab;
    fields.push_back(line.substr(start, stop - start));
    start = stop + 1;
  }
  return fields;
}

// pqxx::stream_from reads a table with COPY ... TO STDOUT. The 6.4 API streams tables only, so the rows come
// from a temporary table filled from generate_series.
void run_stream(pqxx::connection& conn, checker& check) {
  constexpr std::int64_t row_count = 200000;
  pqxx::work txn{conn};
  txn.exec0(
      "CREATE TEMP TABLE itest_stream ON COMMIT DROP AS SELECT g::bigint AS n, (g % 7)::int AS r, "
      "md5(g::text) AS h FROM generate_series(1, " +
      std::to_string(row_count) + ") AS g");

  std::int64_t rows = 0;
  std::int64_t sum_n = 0;
  std::int64_t sum_r = 0;
  std::size_t hash_chars = 0;
  {
    pqxx::stream_from stream{txn, "itest_stream", std::vector<std::string>{"n", "r", "h"}};
    // get_raw_line rather than operator>>: libpqxx 6.4's tuple extraction reads an uninitialised retry flag
    // and intermittently parses an empty line.
    std::string line;
    while (stream.get_raw_line(line)) {
      const std::vector<std::string> fields = split_copy_line(line);
      if (fields.size() != 3) throw std::runtime_error{"unexpected COPY line: " + line};
      ++rows;
      sum_n += std::stoll(fields[0]);
      sum_r += std::stoll(fields[1]);
      hash_chars += fields[2].size();
    }
    stream.complete();
  }
  std::int64_t expected_sum_r = 0;
  for (std::int64_t g = 1; g <= row_count; ++g) expected_sum_r += g % 7;

  check.equal("stream row count", row_count, rows);
  check.equal("stream sum of n", row_count * (row_count + 1) / 2, sum_n);
  check.equal("stream sum of n mod 7", expected_sum_r, sum_r);
  check.equal("stream md5 characters", static_cast<std::size_t>(row_count * 32), hash_chars);
  check.equal("stream leaves connection usable", 1, txn.exec1("SELECT 1")[0].as<int>());
  txn.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " <prepared|pipeline|stream> <connection string>\n";
    return exit_usage;
  }
  const std::string mode = argv[1];
  const std::map<std::string, void (*)(pqxx::connection&, checker&)> modes{
      {"prepared", run_prepared}, {"pipeline", run_pipeline}, {"stream", run_stream}};
  const auto found = modes.find(mode);
  if (found == modes.end()) {
    std::cerr << "unknown mode: " << mode << '\n';
    return exit_usage;
  }

  checker check;
  try {
    pqxx::connection conn{argv[2]};
    found->second(conn, check);
  } catch (const pqxx::sql_error& e) {
    std::cerr << "SQL error (" << e.sqlstate() << "): " << e.what() << "query: " << e.query() << '\n';
    return exit_database_error;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return exit_database_error;
  }
  return check.failed() ? exit_mismatch : 0;
}

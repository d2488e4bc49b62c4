#include "audit/sqlite_record_index.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <string_view>
#include <tuple>

namespace phigate::audit {

namespace {

constexpr const char* tables_sql = R"sql(
CREATE TABLE IF NOT EXISTS audit_seconds (
  second INTEGER PRIMARY KEY,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_person_seconds (
  person TEXT NOT NULL,
  second INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (person, second)
) WITHOUT ROWID;
DROP INDEX IF EXISTS audit_records_time;
DROP INDEX IF EXISTS audit_records_person;
)sql";

// For a store whose records predate the tables. Seconds are time_us / 1000000 truncated, as in C++.
constexpr const char* backfill_sql = R"sql(
INSERT INTO audit_seconds SELECT time_us / 1000000, min(seq), max(seq) FROM audit_records GROUP BY 1;
INSERT INTO audit_person_seconds
  SELECT person, time_us / 1000000, min(seq), max(seq) FROM audit_records GROUP BY 1, 2;
)sql";

// The first sequence number named by an entry that one side has and the other lacks, or NULL.
constexpr const char* check_seconds_sql = R"sql(
WITH want AS (SELECT time_us / 1000000 AS second, min(seq) AS first_seq, max(seq) AS last_seq
              FROM audit_records GROUP BY 1),
     missing AS (SELECT * FROM want EXCEPT SELECT second, first_seq, last_seq FROM audit_seconds),
     extra AS (SELECT second, first_seq, last_seq FROM audit_seconds EXCEPT SELECT * FROM want)
SELECT min(first_seq) FROM (SELECT first_seq FROM missing UNION ALL SELECT first_seq FROM extra)
)sql";
constexpr const char* check_people_sql = R"sql(
WITH want AS (SELECT person, time_us / 1000000 AS second, min(seq) AS first_seq, max(seq) AS last_seq
              FROM audit_records GROUP BY 1, 2),
     missing AS (SELECT * FROM want EXCEPT SELECT person, second, first_seq, last_seq FROM audit_person_seconds),
     extra AS (SELECT person, second, first_seq, last_seq FROM audit_person_seconds EXCEPT SELECT * FROM want)
SELECT min(first_seq) FROM (SELECT first_seq FROM missing UNION ALL SELECT first_seq FROM extra)
)sql";

std::string error_of(sqlite3* db, const char* what) {
  return std::string("audit store: ") + what + ": " + sqlite3_errmsg(db);
}

std::string exec(sqlite3* db, const char* sql, const char* what) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? std::string() : error_of(db, what);
}

std::int64_t second_of(std::int64_t time_us) {
  return time_us / 1'000'000;
}

// One integer result of `sql`: nullopt for NULL or no row.
std::optional<std::int64_t> single_integer(sqlite3* db, const char* sql, std::string& problem) {
  auto stmt = prepare(db, sql);
  if (!stmt) {
    problem = error_of(db, "cannot read the export index");
    return std::nullopt;
  }
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) problem = error_of(db, "cannot read the export index");
  if (rc != SQLITE_ROW || sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt.get(), 0);
}

struct seq_span {
  std::uint64_t first = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last = 0;
  void widen(std::uint64_t seq) {
    first = std::min(first, seq);
    last = std::max(last, seq);
  }
};

// Binds the span and runs one upsert.
bool upsert(sqlite3_stmt* s, int first_index, const seq_span& span) {
  sqlite3_bind_int64(s, first_index, static_cast<sqlite3_int64>(span.first));
  sqlite3_bind_int64(s, first_index + 1, static_cast<sqlite3_int64>(span.last));
  const bool ok = sqlite3_step(s) == SQLITE_DONE;
  sqlite3_reset(s);
  return ok;
}

}  // namespace

std::string sqlite_record_index::create(sqlite3* db) {
  if (auto e = exec(db, "BEGIN IMMEDIATE", "cannot create the export index"); !e.empty()) return e;
  std::string problem = exec(db, tables_sql, "cannot create the export index");
  if (problem.empty()) {
    const auto have = single_integer(db, "SELECT count(*) FROM audit_seconds", problem);
    const auto records = single_integer(db, "SELECT count(*) FROM audit_records", problem);
    if (problem.empty() && have.value_or(0) == 0 && records.value_or(0) > 0)
      problem = exec(db, backfill_sql, "cannot fill the export index");
  }
  if (!problem.empty()) {
    exec(db, "ROLLBACK", "rollback");
    return problem;
  }
  return exec(db, "COMMIT", "cannot create the export index");
}

bool sqlite_record_index::present(sqlite3* db) {
  std::string problem;
  return single_integer(
             db,
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('audit_seconds', "
             "'audit_person_seconds')",
             problem)
             .value_or(0) == 2;
}

void sqlite_record_index::reset() noexcept {
  second_.reset();
  person_second_.reset();
}

std::string sqlite_record_index::add(sqlite3* db, const std::vector<stored_record>& records) {
  if (!second_) {
    second_ = prepare(db,
                      "INSERT INTO audit_seconds (second, first_seq, last_seq) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (second) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), "
                      "last_seq = max(last_seq, excluded.last_seq)");
    person_second_ = prepare(db,
                             "INSERT INTO audit_person_seconds (person, second, first_seq, last_seq) "
                             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (person, second) DO UPDATE SET "
                             "first_seq = min(first_seq, excluded.first_seq), "
                             "last_seq = max(last_seq, excluded.last_seq)");
    if (!second_ || !person_second_) {
      reset();
      return error_of(db, "cannot prepare the export index");
    }
  }
  // A batch spans a few seconds and the persons of the sessions that were busy.
  std::map<std::int64_t, seq_span> seconds;
  std::map<std::pair<std::string_view, std::int64_t>, seq_span> people;
  for (const auto& r : records) {
    seconds[second_of(r.time_us)].widen(r.seq);
    people[{r.person, second_of(r.time_us)}].widen(r.seq);
  }
  for (const auto& [second, span] : seconds) {
    sqlite3_bind_int64(second_.get(), 1, second);
    if (!upsert(second_.get(), 2, span)) return error_of(db, "cannot write the export index");
  }
  for (const auto& [key, span] : people) {
    sqlite3_bind_text(person_second_.get(), 1, key.first.data(), static_cast<int>(key.first.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(person_second_.get(), 2, key.second);
    if (!upsert(person_second_.get(), 3, span)) return error_of(db, "cannot write the export index");
  }
  return {};
}

std::string sqlite_record_index::ranges(sqlite3* db, const record_filter& filter,
                                        std::vector<seq_range>& out) {
  const std::int64_t from =
      filter.since_us ? second_of(*filter.since_us) : std::numeric_limits<std::int64_t>::min();
  const std::int64_t to =
      filter.until_us ? second_of(*filter.until_us - 1) : std::numeric_limits<std::int64_t>::max();
  auto stmt =
      prepare(db, filter.person ? "SELECT first_seq, last_seq FROM audit_person_seconds WHERE person = ?1 "
                                  "AND second BETWEEN ?2 AND ?3 AND last_seq > ?4 ORDER BY first_seq"
                                : "SELECT min(first_seq), max(last_seq) FROM audit_seconds WHERE second "
                                  "BETWEEN ?2 AND ?3 AND last_seq > ?4");
  if (!stmt) return error_of(db, "cannot read the export index");
  if (filter.person)
    sqlite3_bind_text(stmt.get(), 1, filter.person->data(), static_cast<int>(filter.person->size()),
                      SQLITE_STATIC);
  sqlite3_bind_int64(stmt.get(), 2, from);
  sqlite3_bind_int64(stmt.get(), 3, to);
  sqlite3_bind_int64(stmt.get(), 4, static_cast<sqlite3_int64>(filter.after_seq));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL) continue;  // min() over no rows
    seq_range r{static_cast<std::uint64_t>(sqlite3_column_int64(stmt.get(), 0)),
                static_cast<std::uint64_t>(sqlite3_column_int64(stmt.get(), 1))};
    r.first = std::max(r.first, filter.after_seq + 1);
    if (!out.empty() && r.first <= out.back().last + 1)
      out.back().last = std::max(out.back().last, r.last);
    else
      out.push_back(r);
  }
  return rc == SQLITE_DONE ? std::string() : error_of(db, "cannot read the export index");
}

std::string sqlite_record_index::check(sqlite3* db, std::uint64_t& seq) {
  if (!present(db)) return {};
  std::string problem;
  const auto seconds = single_integer(db, check_seconds_sql, problem);
  const auto people = single_integer(db, check_people_sql, problem);
  const auto indexed_last = single_integer(db, "SELECT max(last_seq) FROM audit_seconds", problem);
  const auto last = single_integer(db, "SELECT max(seq) FROM audit_records", problem).value_or(0);
  if (!problem.empty()) {
    seq = 0;
    return problem;
  }
  if (indexed_last.value_or(0) > last) {
    // Records and index are written in one transaction: a crash cannot leave the index ahead.
    seq = static_cast<std::uint64_t>(last + 1);
    return "the log was truncated: its export index lists records up to " + std::to_string(*indexed_last) +
           " but the log ends at record " + std::to_string(last);
  }
  if (!seconds && !people) return {};
  seq = static_cast<std::uint64_t>(std::min(seconds.value_or(std::numeric_limits<std::int64_t>::max()),
                                            people.value_or(std::numeric_limits<std::int64_t>::max())));
  return "the export index (audit_seconds, audit_person_seconds) does not match the records from record " +
         std::to_string(seq) +
         " on: it was edited, so `audit export` with --since, --until or --identity could leave records out "
         "(the records themselves are intact)";
}

}  // namespace phigate::audit

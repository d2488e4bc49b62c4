// What lets `export --since/--until/--identity` find records without an index entry per record: for each
// second, and for each person in each second, the first and last sequence number written in it. The writer
// adds one row per second and one per person and second of a batch (a few per transaction) instead of two
// index entries per record, which were a third of the SQLite store's cost per record. A filtered read
// becomes a few sequence-number ranges, scanned with the filter applied to each row.
//
// The tables are written in the same transaction as the records they describe, so they always agree with
// them; `verify` recomputes them from the records to catch an edit to either.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "audit/sqlite_handles.hpp"
#include "audit/store.hpp"

namespace phigate::audit {

/// A closed range of sequence numbers.
struct seq_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

class sqlite_record_index {
 public:
  /// Writer: creates the tables when missing, fills them from the records already stored (a store written
  /// before they existed) and drops the per-record indexes such a store had. "" or why not.
  static std::string create(sqlite3* db);
  /// Whether the tables exist (a store written before them, opened read-only, has none: reads then scan).
  static bool present(sqlite3* db);

  /// Inside the writer's transaction on `db`: records the seconds and persons of `records`.
  std::string add(sqlite3* db, const std::vector<stored_record>& records);
  /// Forgets the prepared statements (before their connection closes).
  void reset() noexcept;

  /// The ranges that hold every record matching the filter's time and person, in order and disjoint (the
  /// rows in them still need the filter applied). Needs present().
  static std::string ranges(sqlite3* db, const record_filter& filter, std::vector<seq_range>& out);

  /// "" when the tables are exactly what the records' time and person columns give; otherwise what differs,
  /// with `seq` set to the first record whose entry is wrong or missing. "" without the tables.
  static std::string check(sqlite3* db, std::uint64_t& seq);

 private:
  sqlite_stmt_ptr second_;
  sqlite_stmt_ptr person_second_;
};

}  // namespace phigate::audit

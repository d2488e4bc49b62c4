// Owning handles for SQLite connections and statements.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

namespace phigate::audit {

struct sqlite_deleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct sqlite_stmt_deleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using sqlite_ptr = std::unique_ptr<sqlite3, sqlite_deleter>;
using sqlite_stmt_ptr = std::unique_ptr<sqlite3_stmt, sqlite_stmt_deleter>;

/// The statement for `sql`, or null (sqlite3_errmsg says why).
inline sqlite_stmt_ptr prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return nullptr;
  }
  return sqlite_stmt_ptr(raw);
}

}  // namespace phigate::audit

#include "audit/sqlite_store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace phigate::audit {

namespace {

constexpr int busy_timeout_ms = 5000;

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS audit_records (
  seq INTEGER PRIMARY KEY,
  time_us INTEGER NOT NULL,
  kind TEXT NOT NULL,
  person TEXT NOT NULL,
  body TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  head_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
)sql";

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* text = sqlite3_column_text(s, i);
  return text ? std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(s, i)) : std::string();
}

void bind_text(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

}  // namespace

sqlite_store::sqlite_store(std::string path, mode m) : path_(std::move(path)), mode_(m) {
  if (auto problem = open(); !problem.empty()) throw std::runtime_error(problem);
}

std::string sqlite_store::failure(const char* what) const {
  return std::string(what) + " " + path_ + ": " + (db_ ? sqlite3_errmsg(db_.get()) : "not open");
}

std::string sqlite_store::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
  std::string out = "audit store " + path_ + ": " + (message ? message : "error");
  sqlite3_free(message);
  return out;
}

std::string sqlite_store::open() {
  index_.reset();
  insert_.reset();
  synced_ = true;
  db_.reset();
  const int flags = mode_ == mode::write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
                                         : SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) return failure("cannot open audit store");
  sqlite3_busy_timeout(db_.get(), busy_timeout_ms);
  if (mode_ == mode::write) {
    // WAL: readers (verify, export, tail) never block the writer. synchronous=FULL until append() is told
    // a transaction need not be synced (see set_sync). A new store gets 16 KiB pages: the writer's cost is
    // mostly the kernel's per-page work on the WAL and the database file, and larger pages hold the same
    // records in a quarter of the writes (an existing store keeps its page size).
    if (auto e = exec("PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        !e.empty())
      return e;
    if (auto e = exec(schema_sql); !e.empty()) return e;
    if (auto e = sqlite_record_index::create(db_.get()); !e.empty()) return e;
    insert_ = prepare(
        db_.get(),
        "INSERT INTO audit_records (seq, time_us, kind, person, body, hash) VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert_) return failure("cannot prepare audit insert for");
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return "audit store " + path_ + ": " + std::strerror(errno);
  inode_ = st.st_ino;
  device_ = st.st_dev;
  return {};
}

std::string sqlite_store::reopen() {
  return open();
}

std::string sqlite_store::check() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return "audit store file " + path_ + " was deleted";
    return "audit store " + path_ + ": " + std::strerror(errno);
  }
  if (st.st_ino != inode_ || st.st_dev != device_) return "audit store file " + path_ + " was replaced";
  return {};
}

std::string sqlite_store::head(chain_head& out) {
  auto stmt = prepare(db_.get(), "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1");
  if (!stmt) return failure("cannot read");
  sqlite3_stmt* raw = stmt.get();
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    out.seq = static_cast<std::uint64_t>(sqlite3_column_int64(raw, 0));
    out.hash = column_text(raw, 1);
    return {};
  }
  if (rc != SQLITE_DONE) return failure("cannot read");
  out.seq = 0;
  out.hash.clear();
  return {};
}

std::string sqlite_store::set_sync(bool sync) {
  if (sync == synced_) return {};
  // In WAL mode, NORMAL skips the fsync at commit (the WAL is synced at checkpoints); FULL syncs the WAL at
  // commit, which makes every earlier unsynced transaction durable as well.
  if (auto e = exec(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !e.empty()) return e;
  synced_ = sync;
  return {};
}

std::string sqlite_store::append(const std::vector<stored_record>& records, bool sync) {
  if (!insert_) return "audit store " + path_ + " is read-only";
  if (auto e = set_sync(sync); !e.empty()) return e;
  if (auto e = exec("BEGIN IMMEDIATE"); !e.empty()) return e;
  for (const auto& r : records) {
    sqlite3_stmt* s = insert_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int64(s, 2, r.time_us);
    bind_text(s, 3, r.kind);
    bind_text(s, 4, r.person);
    bind_text(s, 5, r.body);
    bind_text(s, 6, r.hash);
    if (sqlite3_step(s) != SQLITE_DONE) {
      std::string problem = failure("cannot write audit store");
      sqlite3_reset(s);
      exec("ROLLBACK");
      return problem;
    }
  }
  sqlite3_reset(insert_.get());
  if (auto problem = index_.add(db_.get(), records); !problem.empty()) {
    exec("ROLLBACK");
    return problem;
  }
  if (sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string problem = failure("cannot commit to audit store");
    exec("ROLLBACK");
    return problem;
  }
  return {};
}

std::string sqlite_store::sync() {
  if (!insert_) return {};
  // The WAL holds every committed transaction not yet copied into the database file (a checkpoint syncs
  // what it copies): syncing it makes all of them durable.
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK)
    return failure("cannot sync audit store");
  if (wal && wal->pMethods && wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
    return "cannot sync audit store " + path_ + ": the write-ahead log could not be synced";
  return {};
}

std::string sqlite_store::add_checkpoint(const checkpoint& c) {
  // A checkpoint vouches for every record up to it: those must reach the disk with it.
  if (auto e = set_sync(true); !e.empty()) return e;
  auto stmt = prepare(db_.get(),
                      "INSERT OR REPLACE INTO audit_checkpoints (tree_size, head_hash, time, key_id, "
                      "signature) VALUES (?, ?, ?, ?, ?)");
  if (!stmt) return failure("cannot write checkpoint to");
  sqlite3_stmt* raw = stmt.get();
  sqlite3_bind_int64(raw, 1, static_cast<sqlite3_int64>(c.tree_size));
  bind_text(raw, 2, c.head_hash);
  bind_text(raw, 3, c.time);
  bind_text(raw, 4, c.key_id);
  bind_text(raw, 5, c.signature);
  if (sqlite3_step(raw) != SQLITE_DONE) return failure("cannot write checkpoint to");
  return {};
}

std::string sqlite_store::read(const record_filter& filter, std::vector<stored_record>& out) {
  constexpr auto max_seq = static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max());
  std::vector<seq_range> ranges;
  if ((filter.since_us || filter.until_us || filter.person) && sqlite_record_index::present(db_.get())) {
    if (auto problem = sqlite_record_index::ranges(db_.get(), filter, ranges); !problem.empty())
      return problem;
  } else {
    ranges.push_back({filter.after_seq + 1, max_seq});  // a store without the index: one scan
  }
  std::string sql =
      "SELECT seq, time_us, kind, person, body, hash FROM audit_records WHERE seq BETWEEN ?1 AND ?5";
  if (filter.since_us) sql += " AND time_us >= ?2";
  if (filter.until_us) sql += " AND time_us < ?3";
  if (filter.person) sql += " AND person = ?4";
  sql += " ORDER BY seq LIMIT ?6";
  auto stmt = prepare(db_.get(), sql);
  if (!stmt) return failure("cannot read");
  sqlite3_stmt* raw = stmt.get();
  if (filter.since_us) sqlite3_bind_int64(raw, 2, *filter.since_us);
  if (filter.until_us) sqlite3_bind_int64(raw, 3, *filter.until_us);
  if (filter.person) bind_text(raw, 4, *filter.person);
  std::size_t found = 0;
  for (const auto& range : ranges) {
    if (filter.limit > 0 && found >= filter.limit) break;
    sqlite3_reset(raw);
    sqlite3_bind_int64(raw, 1, static_cast<sqlite3_int64>(std::max(range.first, filter.after_seq + 1)));
    sqlite3_bind_int64(raw, 5, static_cast<sqlite3_int64>(std::min(range.last, max_seq)));
    sqlite3_bind_int64(raw, 6, filter.limit > 0 ? static_cast<sqlite3_int64>(filter.limit - found) : -1);
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      stored_record r;
      r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(raw, 0));
      r.time_us = sqlite3_column_int64(raw, 1);
      r.kind = column_text(raw, 2);
      r.person = column_text(raw, 3);
      r.body = column_text(raw, 4);
      r.hash = column_text(raw, 5);
      out.push_back(std::move(r));
      ++found;
    }
    if (rc != SQLITE_DONE) return failure("cannot read");
  }
  return {};
}

std::string sqlite_store::check_index(std::uint64_t& seq) {
  return sqlite_record_index::check(db_.get(), seq);
}

std::string sqlite_store::checkpoints(std::vector<checkpoint>& out) {
  auto stmt = prepare(db_.get(),
                      "SELECT tree_size, head_hash, time, key_id, signature FROM audit_checkpoints "
                      "ORDER BY tree_size");
  if (!stmt) return failure("cannot read checkpoints from");
  sqlite3_stmt* raw = stmt.get();
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    checkpoint c;
    c.tree_size = static_cast<std::uint64_t>(sqlite3_column_int64(raw, 0));
    c.head_hash = column_text(raw, 1);
    c.time = column_text(raw, 2);
    c.key_id = column_text(raw, 3);
    c.signature = column_text(raw, 4);
    out.push_back(std::move(c));
  }
  return rc == SQLITE_DONE ? std::string() : failure("cannot read checkpoints from");
}

}  // namespace phigate::audit

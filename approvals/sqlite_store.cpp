#include "approvals/sqlite_store.hpp"

#include <sqlite3.h>

#include <boost/json.hpp>
#include <limits>

namespace phigate::approvals {
namespace {

std::string error_text(sqlite3* db, const std::string& path, std::string_view what) {
  std::string message = "approvals store " + path + ": " + std::string(what);
  if (db) message += ": " + std::string(sqlite3_errmsg(db));
  return message;
}

// One prepared statement, finalized on every path out (RAII for sqlite3_stmt).
class statement {
 public:
  statement(sqlite3* db, const std::string& path, std::string_view sql) : db_(db), path_(path) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
      throw store_error(error_text(db, path, "cannot prepare \"" + std::string(sql) + "\""));
    }
    stmt_.reset(raw);
  }

  statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
          "cannot bind a value");
    return *this;
  }

  statement& bind(int index, std::int64_t n) {
    check(sqlite3_bind_int64(stmt_.get(), index, n), "cannot bind a value");
    return *this;
  }

  // True while there is a row to read; false when done. SQLITE_BUSY after the busy timeout is an error.
  bool step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) throw store_error(error_text(db_, path_, "constraint violated"));
    throw store_error(error_text(db_, path_, "statement failed"));
  }

  std::int64_t column_int64(int column) { return sqlite3_column_int64(stmt_.get(), column); }

  std::string column_text(int column) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
    const int size = sqlite3_column_bytes(stmt_.get(), column);
    return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
  }

 private:
  struct finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };

  void check(int rc, std::string_view what) {
    if (rc != SQLITE_OK) throw store_error(error_text(db_, path_, what));
  }

  sqlite3* db_;
  const std::string& path_;
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* raw_error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &raw_error);
  const std::unique_ptr<char, decltype(&sqlite3_free)> error(raw_error, &sqlite3_free);
  if (rc != SQLITE_OK) {
    throw store_error("approvals store " + path + ": \"" + sql +
                      "\" failed: " + (error ? error.get() : sqlite3_errstr(rc)));
  }
}

// A write transaction, rolled back unless committed. IMMEDIATE takes the write lock up front, so the
// counter read and the writes that depend on it cannot interleave with another connection's.
class write_transaction {
 public:
  write_transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    exec(db_, path_, "BEGIN IMMEDIATE");
  }
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;
  ~write_transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, path_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS approvals_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS approvals_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL);
INSERT OR IGNORE INTO approvals_counter (id, last_seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS approval_requests (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  document TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_seq ON approval_requests (seq);
CREATE INDEX IF NOT EXISTS approval_requests_state ON approval_requests (state, created_ms);
CREATE INDEX IF NOT EXISTS approval_requests_created ON approval_requests (created_ms);
)sql";

// The stored document is the API document plus the fields the API does not show but the service needs.
std::string serialize(const request& r) {
  auto document = to_json(r);
  auto& obj = document.as_object();
  obj["gateway_instance"] = r.gateway_instance;
  obj["session_id"] = r.session_id;
  return boost::json::serialize(document);
}

// Binds ?1..?5 (id, state, seq, created_ms, document) of the INSERT or UPDATE that writes one request row.
statement& bind_row(statement& s, const request& stored) {
  return s.bind(1, stored.id)
      .bind(2, to_string(stored.state))
      .bind(3, static_cast<std::int64_t>(stored.seq))
      .bind(4, stored.created_ms)
      .bind(5, serialize(stored));
}

request deserialize(const std::string& path, const std::string& text) {
  boost::system::error_code ec;
  const auto document = boost::json::parse(text, ec);
  std::optional<request> r;
  if (!ec) r = request_from_json(document);
  if (!r) throw store_error("approvals store " + path + ": a stored request is not a valid request document");
  return std::move(*r);
}

std::int64_t sql_limit(std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, max));
}

std::uint64_t read_counter(sqlite3* db, const std::string& path) {
  statement select(db, path, "SELECT last_seq FROM approvals_counter WHERE id = 1");
  if (!select.step()) throw store_error(error_text(db, path, "the sequence counter row is missing"));
  return static_cast<std::uint64_t>(select.column_int64(0));
}

void write_counter(sqlite3* db, const std::string& path, std::uint64_t seq) {
  statement update(db, path, "UPDATE approvals_counter SET last_seq = ?1 WHERE id = 1");
  update.bind(1, static_cast<std::int64_t>(seq)).step();
}

}  // namespace

void sqlite_store::db_closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

std::unique_ptr<store> open_sqlite_store(const std::string& path) {
  return std::make_unique<sqlite_store>(path);
}

sqlite_store::sqlite_store(std::string path) : path_(std::move(path)) {
  open_database();
  create_schema();
}

void sqlite_store::fail(std::string_view what) const {
  throw store_error(error_text(db_.get(), path_, what));
}

void sqlite_store::open_database() {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_.reset(raw);  // sqlite3_open_v2 may hand back a handle even on failure; it must still be closed
  if (rc != SQLITE_OK) fail("cannot open");
  sqlite3_extended_result_codes(db_.get(), 1);
  if (sqlite3_busy_timeout(db_.get(), busy_timeout_ms) != SQLITE_OK) fail("cannot set the busy timeout");
  // WAL lets the admin API read while a session writes. An in-memory database reports "memory" instead.
  statement journal(db_.get(), path_, "PRAGMA journal_mode = WAL");
  if (!journal.step()) fail("cannot switch to WAL");
  const auto mode = journal.column_text(0);
  if (mode != "wal" && mode != "memory") fail("the database refused WAL mode (journal_mode is " + mode + ")");
}

void sqlite_store::create_schema() {
  write_transaction txn(db_.get(), path_);
  exec(db_.get(), path_, schema_sql);
  statement select(db_.get(), path_, "SELECT version FROM approvals_schema");
  if (!select.step()) {
    statement insert(db_.get(), path_, "INSERT INTO approvals_schema (version) VALUES (?1)");
    insert.bind(1, std::int64_t{schema_version}).step();
  } else if (const auto version = select.column_int64(0); version != schema_version) {
    fail("schema version " + std::to_string(version) + " is not the supported version " +
         std::to_string(schema_version));
  }
  txn.commit();
}

void sqlite_store::insert(request& r) {
  std::lock_guard lock(mutex_);
  write_transaction txn(db_.get(), path_);
  auto stored = r;
  stored.seq = read_counter(db_.get(), path_) + 1;
  statement insert(db_.get(), path_,
                   "INSERT INTO approval_requests (id, state, seq, created_ms, document) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)");
  bind_row(insert, stored);
  try {
    insert.step();
  } catch (const store_error&) {
    fail("cannot insert request " + stored.id + " (does the id already exist?)");
  }
  write_counter(db_.get(), path_, stored.seq);
  txn.commit();
  r.seq = stored.seq;
}

bool sqlite_store::update(request& r, std::uint64_t expected_seq) {
  std::lock_guard lock(mutex_);
  write_transaction txn(db_.get(), path_);
  statement select(db_.get(), path_, "SELECT seq FROM approval_requests WHERE id = ?1");
  select.bind(1, r.id);
  if (!select.step() || static_cast<std::uint64_t>(select.column_int64(0)) != expected_seq) return false;
  auto stored = r;
  stored.seq = read_counter(db_.get(), path_) + 1;
  statement update(db_.get(), path_,
                   "UPDATE approval_requests SET state = ?2, seq = ?3, created_ms = ?4, document = ?5 "
                   "WHERE id = ?1");
  bind_row(update, stored).step();
  write_counter(db_.get(), path_, stored.seq);
  txn.commit();
  r.seq = stored.seq;
  return true;
}

std::optional<request> sqlite_store::get(std::string_view id) {
  std::lock_guard lock(mutex_);
  statement select(db_.get(), path_, "SELECT document FROM approval_requests WHERE id = ?1");
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  return deserialize(path_, select.column_text(0));
}

std::vector<request> sqlite_store::list(std::optional<request_state> state, std::size_t limit) {
  std::lock_guard lock(mutex_);
  // rowid breaks ties between requests created in the same millisecond: later insert, newer.
  statement select(db_.get(), path_,
                   state ? "SELECT document FROM approval_requests WHERE state = ?1 "
                           "ORDER BY created_ms DESC, rowid DESC LIMIT ?2"
                         : "SELECT document FROM approval_requests "
                           "ORDER BY created_ms DESC, rowid DESC LIMIT ?2");
  if (state) select.bind(1, to_string(*state));
  select.bind(2, sql_limit(limit));
  std::vector<request> out;
  while (select.step()) out.push_back(deserialize(path_, select.column_text(0)));
  return out;
}

std::vector<request> sqlite_store::changes_since(std::uint64_t seq, std::size_t limit) {
  std::lock_guard lock(mutex_);
  statement select(db_.get(), path_,
                   "SELECT document FROM approval_requests WHERE seq > ?1 ORDER BY seq ASC LIMIT ?2");
  select
      .bind(1, static_cast<std::int64_t>(std::min<std::uint64_t>(
                   seq, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))))
      .bind(2, sql_limit(limit));
  std::vector<request> out;
  while (select.step()) out.push_back(deserialize(path_, select.column_text(0)));
  return out;
}

std::uint64_t sqlite_store::last_seq() {
  std::lock_guard lock(mutex_);
  return read_counter(db_.get(), path_);
}

}  // namespace phigate::approvals

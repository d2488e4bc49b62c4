#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "approvals/store.hpp"

struct sqlite3;

namespace phigate::approvals {

/// The embedded store: one SQLite database (WAL, busy timeout) holding one row per request — the request's
/// JSON document plus the columns the queries need (id, state, seq, created_ms) — a one-row table with the
/// store-wide sequence counter and a schema version table. Several processes (or several stores in one
/// process) may open the same file: every change runs in a BEGIN IMMEDIATE transaction that reads the
/// counter from the file, so sequence numbers stay unique and the compare-and-set in update() holds across
/// them. One connection per store, serialized by a mutex.
class sqlite_store final : public store {
 public:
  /// Opens or creates the database at path (":memory:" for a private in-memory one) and creates or checks
  /// the schema. Throws store_error naming the path and SQLite's reason.
  explicit sqlite_store(std::string path);

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  void insert(request& r) override;
  bool update(request& r, std::uint64_t expected_seq) override;
  std::optional<request> get(std::string_view id) override;
  std::vector<request> list(std::optional<request_state> state, std::size_t limit) override;
  std::vector<request> changes_since(std::uint64_t seq, std::size_t limit) override;
  std::uint64_t last_seq() override;

  /// The schema version this code writes and reads.
  static constexpr int schema_version = 1;
  /// How long a writer waits for another connection's write transaction before failing.
  static constexpr int busy_timeout_ms = 5000;

 private:
  struct db_closer {
    void operator()(sqlite3* db) const noexcept;
  };

  void open_database();
  void create_schema();
  [[noreturn]] void fail(std::string_view what) const;

  std::string path_;
  std::unique_ptr<sqlite3, db_closer> db_;
  std::mutex mutex_;
};

}  // namespace phigate::approvals

// Column rules resolved against the database catalog: which (table OID, attribute number) pairs each rule
// names, per database. PostgreSQL's RowDescription carries both for every column that is a plain table
// column, so a rule holds under any alias (`SELECT ssn AS note`) and through views whose columns keep the
// masked column's name.
//
// One background thread reads the catalog through its own libpq connection as the configured metadata
// role: for a database the first time a session asks, again every `refresh` interval, and soon after a
// session reports DDL or a relation newer than the index. Sessions never wait for it: until a database is
// read, or for a relation made since, the rewrite step falls back to matching rule columns by name.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "masking/column_rules.hpp"

namespace phigate {

/// The rules of one database, by table OID and attribute number.
class column_index {
 public:
  /// The rule for a column, if any.
  [[nodiscard]] std::optional<std::size_t> find(std::uint32_t table_oid, std::int16_t attnum) const;
  /// True when `table_oid` names a relation made after the index was read (OIDs only grow).
  [[nodiscard]] bool newer_than_index(std::uint32_t table_oid) const noexcept {
    return table_oid > max_relation_oid_;
  }
  /// Column names in attribute order of a table that has rules ("schema.table"), for COPY table TO STDOUT.
  [[nodiscard]] const std::vector<std::string>* columns_of(const std::string& qualified_table) const;

  void add(std::uint32_t table_oid, std::int16_t attnum, std::size_t rule);
  void set_max_relation_oid(std::uint32_t oid) noexcept { max_relation_oid_ = oid; }
  void add_column(const std::string& qualified_table, std::string column);

 private:
  std::unordered_map<std::uint64_t, std::size_t> rules_;
  std::uint32_t max_relation_oid_ = 0;
  std::map<std::string, std::vector<std::string>> table_columns_;
};

class column_catalog {
 public:
  /// How the metadata connection reaches the server (libpq keywords and values).
  struct connection_settings {
    std::string host;
    std::uint16_t port = 5432;
    std::string user;
    std::string password;
    std::string sslmode = "prefer";
    std::string sslrootcert;
  };

  column_catalog(std::vector<masking::column_rule> rules, connection_settings settings,
                 std::chrono::seconds refresh);
  ~column_catalog();
  column_catalog(const column_catalog&) = delete;
  column_catalog& operator=(const column_catalog&) = delete;

  /// The index of `database`, or null until it has been read once (the first call asks for it).
  std::shared_ptr<const column_index> index(const std::string& database);
  /// Read `database` again after `delay` (DDL passing through is reported before the server runs it).
  void refresh(const std::string& database, std::chrono::milliseconds delay = std::chrono::seconds(1));

  /// Reads the index of `database` now, on the calling thread; null with `error` set when it cannot.
  std::shared_ptr<const column_index> load(const std::string& database, std::string& error) const;

 private:
  struct entry {
    std::shared_ptr<const column_index> index;
    std::chrono::steady_clock::time_point due;  ///< next read
    bool failed_logged = false;
  };
  void run(std::stop_token stop);
  std::optional<std::string> next_due(std::unique_lock<std::mutex>& lock, std::stop_token& stop);

  const std::vector<masking::column_rule> rules_;
  const connection_settings settings_;
  const std::chrono::seconds refresh_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<std::string, entry> databases_;
  std::uint64_t wakeups_ = 0;  ///< bumped on every request, so the thread notices it
  std::jthread thread_;        // last: starts after everything it uses
};

}  // namespace phigate

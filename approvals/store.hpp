#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "approvals/request.hpp"

namespace phigate::approvals {

/// A store could not be opened or read or written. The message says what and where; callers fail closed
/// (a statement is never released because the store broke).
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Durable home of approval requests. Every change (insert or update) takes the next value of one
/// store-wide sequence, so "everything after seq N" is a complete, ordered feed of changes — what the admin
/// API's long-poll and a multi-gateway store's notifications need. Every method is thread-safe and throws
/// store_error on failure.
class store {
 public:
  virtual ~store() = default;

  /// Adds a new request and assigns r.seq. Throws store_error if the id already exists.
  virtual void insert(request& r) = 0;

  /// Compare-and-set: writes r only if the stored copy still has seq == expected_seq, then assigns r.seq
  /// the new sequence number. False (and r unchanged) when the request is gone or changed meanwhile.
  virtual bool update(request& r, std::uint64_t expected_seq) = 0;

  virtual std::optional<request> get(std::string_view id) = 0;

  /// Newest first (by creation), optionally only those in one state, at most limit.
  virtual std::vector<request> list(std::optional<request_state> state, std::size_t limit) = 0;

  /// Requests whose latest change has seq > the given one, in ascending seq order, at most limit.
  virtual std::vector<request> changes_since(std::uint64_t seq, std::size_t limit) = 0;

  /// The latest sequence number handed out (0 for an empty store).
  virtual std::uint64_t last_seq() = 0;
};

/// Opens (creating if needed) an SQLite store at path in WAL mode; ":memory:" gives a private in-memory
/// store for tests. Throws store_error with a clear message (path and SQLite's reason) on failure.
std::unique_ptr<store> open_sqlite_store(const std::string& path);

}  // namespace phigate::approvals

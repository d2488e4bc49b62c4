// Where audit records live. The log (audit_log) decides sequence numbers and hashes; a store only keeps
// records and checkpoints in order and reads them back. SQLite is the embedded default; a PostgreSQL store
// for several gateways implements the same interface (one writer per store: the chain is linear).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/checkpoint.hpp"

namespace phigate::audit {

/// One record as stored: the canonical body (whose bytes are hashed) and the columns export filters on.
struct stored_record {
  std::uint64_t seq = 0;
  std::int64_t time_us = 0;  ///< copy of the body's time, for range queries
  std::string kind;          ///< copy of the body's kind
  std::string person;        ///< copy of the body's who.person, for identity filters
  std::string body;          ///< canonical JSON (canonical_json.hpp)
  std::string hash;          ///< hex SHA-256 of body
};

/// The newest record's sequence number and hash (0 and the genesis hash for an empty store).
struct chain_head {
  std::uint64_t seq = 0;
  std::string hash;
};

/// Filters for reading records back; unset fields do not filter.
struct record_filter {
  std::uint64_t after_seq = 0;
  std::optional<std::int64_t> since_us;  ///< time_us >= since
  std::optional<std::int64_t> until_us;  ///< time_us < until
  std::optional<std::string> person;
  std::size_t limit = 0;  ///< 0 = no limit
};

/// Every method returns "" on success or why it failed (disk full, read-only, I/O error, ...).
class store {
 public:
  virtual ~store() = default;
  /// The newest record, or why it cannot be read.
  virtual std::string head(chain_head& out) = 0;
  /// Appends records atomically: all of them or none (one transaction). With `sync` they, and every record
  /// appended before them, are on stable storage when this returns. Without, they survive a crash of the
  /// process but a power loss or an OS crash may take them (and only them: never a partial record); they
  /// reach stable storage with the next synced append or checkpoint.
  virtual std::string append(const std::vector<stored_record>& records, bool sync) = 0;
  /// Puts every record appended so far on stable storage.
  virtual std::string sync() = 0;
  /// Stores a checkpoint, synced together with every record before it.
  virtual std::string add_checkpoint(const checkpoint& c) = 0;
  /// Records in sequence order.
  virtual std::string read(const record_filter& filter, std::vector<stored_record>& out) = 0;
  virtual std::string checkpoints(std::vector<checkpoint>& out) = 0;
  /// "" when whatever the store keeps to find records by time and person agrees with the records; else
  /// what differs, with `seq` the first record it would hide.
  virtual std::string check_index(std::uint64_t& seq) = 0;
  /// "" while the store is usable; otherwise why not (for example: its file was deleted). Cheap.
  virtual std::string check() = 0;
  /// Closes and opens the store again (after a failure). "" on success.
  virtual std::string reopen() = 0;
  /// For logs: "sqlite:/var/lib/phigate/audit.db".
  virtual std::string describe() const = 0;
};

}  // namespace phigate::audit

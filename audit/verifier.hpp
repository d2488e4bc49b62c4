// `phigate audit verify`: recomputes the hash chain from the stored bodies and checks every signed
// checkpoint (from the store and, when given, from the shipped checkpoint file) against it. The report
// names the first bad record: a changed byte, a deleted, reordered or inserted record, or records missing
// below a checkpoint (truncation). Records after the last checkpoint can be cut off without a trace; they are
// reported as an unverified tail, not as tampering.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/checkpoint.hpp"
#include "audit/crypto.hpp"
#include "audit/store.hpp"

namespace phigate::audit {

struct verify_options {
  const verify_key* key = nullptr;   ///< null: signatures are not checked (heads still are)
  std::vector<checkpoint> external;  ///< from the checkpoint file, if one was given
};

/// What is wrong, at which record.
struct verify_problem {
  std::uint64_t seq = 0;
  std::string what;
};

struct verify_report {
  std::uint64_t records = 0;           ///< records read (up to the first problem)
  std::uint64_t last_seq = 0;          ///< the newest record's sequence number
  std::uint64_t verified_through = 0;  ///< covered by a checkpoint whose head and signature match
  std::uint64_t checkpoints_checked = 0;
  std::optional<verify_problem> problem;  ///< the first one; empty when the log is intact
  std::vector<std::string> notes;         ///< unverified tail, unchecked signatures, ...

  [[nodiscard]] bool ok() const noexcept { return !problem; }
  /// Human-readable lines for the CLI.
  [[nodiscard]] std::string to_text() const;
};

verify_report verify_log(store& s, const verify_options& options);

/// Reads a checkpoint file (one JSON line per checkpoint). Returns "" or why it cannot be read; a line that
/// is not a checkpoint is an error naming its line number.
std::string read_checkpoint_file(const std::string& path, std::vector<checkpoint>& out);

}  // namespace phigate::audit

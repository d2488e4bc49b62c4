// A signed checkpoint: "the log had `tree_size` records and the last one hashed to `head_hash` at `time`",
// signed with the gateway's Ed25519 key. Kept in the store and appended, one JSON line each, to a
// checkpoint file that can be shipped where the gateway's operator cannot edit it. A checkpoint makes
// truncation and rewriting of everything up to tree_size detectable, even by someone who recomputes the
// chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phigate::audit {

struct checkpoint {
  std::uint64_t tree_size = 0;  ///< records 1..tree_size are covered
  std::string head_hash;        ///< hex chain hash of record tree_size
  std::string time;             ///< when it was made (format_time)
  std::string key_id;           ///< which signing key (first 16 hex digits of SHA-256 of the public key)
  std::string signature;        ///< hex Ed25519 signature of signed_message()

  /// The exact bytes signed: "phigate-audit-checkpoint-v1\n<tree_size>\n<head_hash>\n<time>\n".
  std::string signed_message() const;
  /// One line of the checkpoint file (canonical JSON, no newline).
  std::string to_json_line() const;
  /// Parses a line written by to_json_line; nullopt when it is not one.
  static std::optional<checkpoint> from_json_line(std::string_view line);
};

}  // namespace phigate::audit

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phigate::approvals {

/// Everything that decides what a held statement does when it runs. An approval is bound to the digest
/// of exactly this, so the session can only release the very statement (with the very parameters, in the
/// very database, as the very person and role, under the same meaning-changing settings) that was approved.
struct digest_input {
  std::vector<std::string> statements;  ///< exact statement texts, in order
  /// Per statement (empty for the simple protocol); nullopt = SQL NULL, distinct from an empty string.
  std::vector<std::vector<std::optional<std::string>>> parameters;
  std::vector<std::vector<std::int16_t>> parameter_formats;  ///< per statement, as sent in Bind
  std::string database, upstream_role, requester;
  /// search_path, role, client_encoding, ...; the order given does not matter (the function sorts).
  std::vector<std::pair<std::string, std::string>> settings;
};

/// Version tag that starts the canonical encoding; a change of encoding changes the tag, so digests made
/// by different encodings can never be equal by accident.
inline constexpr std::string_view digest_encoding_tag = "phigate.approval-digest.v1";

/// The canonical encoding hashed by compute_digest: the tag, then every field in a fixed order, each
/// string as an 8-byte big-endian length followed by its bytes, each list as an 8-byte count followed by
/// its items, a parameter as one marker byte (0 = NULL, 1 = value) followed by the value, a format as
/// 2 bytes big-endian, and the settings sorted by name (then value). No two distinct inputs encode alike.
std::string canonical_digest_encoding(const digest_input& input);

/// Lowercase hex SHA-256 (OpenSSL) of canonical_digest_encoding(input): 64 characters.
std::string compute_digest(const digest_input& input);

}  // namespace phigate::approvals

// Internal helpers shared by the PostgreSQL message decoders (not part of the protocol API).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "protocol/byte_reader.hpp"
#include "protocol/decode_result.hpp"

namespace phigate::pg::detail {

/// The reader's verdict once a message's last field is read: a decoder accepts a body only when every field
/// fitted and nothing is left over.
inline std::optional<decode_error> finish(const byte_reader& r) {
  if (!r.ok()) return malformed("a field runs past the end of the message or lacks its NUL terminator");
  if (!r.at_end()) return malformed("trailing bytes after the last field");
  return std::nullopt;
}

inline decode_error unsupported(std::string_view what) {
  return {decode_errc::unsupported, what};
}

/// Reads an Int16 element count. PostgreSQL reads these counts as unsigned 16-bit (pq_getmsgint(msg, 2)),
/// and libpq sends up to 65535 parameters (PQ_QUERY_PARAM_MAX_LIMIT), so 0x8000..0xffff are real counts,
/// not negative ones. nullopt when the count cannot fit in what is left of the body at `min_element_bytes`
/// per element, which also keeps a tiny hostile message from making us reserve a large vector.
inline std::optional<std::size_t> read_count16(byte_reader& r, std::size_t min_element_bytes) {
  const std::size_t count = r.read_u16_be();
  if (!r.ok() || count * min_element_bytes > r.remaining()) return std::nullopt;
  return count;
}

/// Reads an Int32 byte length followed by that many bytes; -1 is SQL NULL (nullopt). Any other negative
/// length, or one beyond the body, is malformed.
inline decoded<std::optional<byte_span>> read_nullable_bytes(byte_reader& r) {
  const std::int32_t length = r.read_i32_be();
  if (!r.ok()) return malformed("value length runs past the end of the message");
  if (length == -1) return std::optional<byte_span>{};
  if (length < 0) return malformed("negative value length other than -1");
  const byte_span value = r.read_bytes(static_cast<std::size_t>(length));
  if (!r.ok()) return malformed("value runs past the end of the message");
  return std::optional<byte_span>{value};
}

/// The value for an Int16 count field when encoding. Encoders write what the gateway built or decoded, so
/// more than 65535 elements is a programming error, not input.
inline std::int16_t count16(std::size_t n) {
  assert(n <= 0xffff);
  return static_cast<std::int16_t>(n);
}

/// Format codes: 0 text, 1 binary. Nothing else exists; a masking gateway must know which it is reading.
inline bool is_format_code(std::int16_t f) {
  return f == 0 || f == 1;
}

}  // namespace phigate::pg::detail

// Shared checks for the PostgreSQL codec tests: field-by-field equality of message views, and the
// "parsegrind" battery (every split offset, every truncated body, trailing bytes) run on each encoding.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <catch2/catch.hpp>

#include "protocol/postgres/messages.hpp"

namespace phigate::pg::test {

/// Bytes from a literal that may hold NULs: wire("Q\0\0\0\x0d"sv).
inline std::string wire(std::string_view s) {
  return std::string(s);
}

inline constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

/// The single whole frame that `bytes` must hold.
inline frame whole_frame(const std::string& bytes) {
  auto f = split_frame(as_bytes(bytes), no_limit);
  REQUIRE(f.ok());
  REQUIRE(f->whole.size() == bytes.size());
  return *f;
}

inline bool same(byte_span a, byte_span b) {
  return std::ranges::equal(a, b);
}
inline bool same(const std::optional<byte_span>& a, const std::optional<byte_span>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}
// Element types first: the vector overload below finds them by ordinary lookup, not ADL.
inline bool same(const field_description& a, const field_description& b) {
  return a.name == b.name && a.table_oid == b.table_oid && a.column_attnum == b.column_attnum &&
         a.type_oid == b.type_oid && a.type_size == b.type_size && a.type_modifier == b.type_modifier &&
         a.format == b.format;
}
inline bool same(const error_field& a, const error_field& b) {
  return a.code == b.code && a.value == b.value;
}
template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
  return std::ranges::equal(a, b, [](const T& x, const T& y) { return same(x, y); });
}

inline bool same(const password_message& a, const password_message& b) {
  return a.password == b.password;
}
inline bool same(const sasl_initial_response& a, const sasl_initial_response& b) {
  return a.mechanism == b.mechanism && same(a.data, b.data);
}
inline bool same(const sasl_response& a, const sasl_response& b) {
  return same(a.data, b.data);
}
inline bool same(const query& a, const query& b) {
  return a.sql == b.sql;
}
inline bool same(const parse& a, const parse& b) {
  return a.name == b.name && a.sql == b.sql && a.param_types == b.param_types;
}
inline bool same(const bind& a, const bind& b) {
  return a.portal == b.portal && a.statement == b.statement && a.param_formats == b.param_formats &&
         same(a.params, b.params) && a.result_formats == b.result_formats;
}
inline bool same(const describe& a, const describe& b) {
  return a.kind == b.kind && a.name == b.name;
}
inline bool same(const close& a, const close& b) {
  return a.kind == b.kind && a.name == b.name;
}
inline bool same(const execute& a, const execute& b) {
  return a.portal == b.portal && a.max_rows == b.max_rows;
}
inline bool same(const copy_data& a, const copy_data& b) {
  return same(a.data, b.data);
}
inline bool same(const copy_fail& a, const copy_fail& b) {
  return a.message == b.message;
}
inline bool same(const authentication& a, const authentication& b) {
  return a.code == b.code && a.md5_salt == b.md5_salt && a.mechanisms == b.mechanisms && same(a.data, b.data);
}
inline bool same(const backend_key_data& a, const backend_key_data& b) {
  return a.process_id == b.process_id && a.secret_key == b.secret_key;
}
inline bool same(const parameter_status& a, const parameter_status& b) {
  return a.name == b.name && a.value == b.value;
}
inline bool same(const ready_for_query& a, const ready_for_query& b) {
  return a.status == b.status;
}
inline bool same(const row_description& a, const row_description& b) {
  return same(a.fields, b.fields);
}
inline bool same(const data_row& a, const data_row& b) {
  return same(a.columns, b.columns);
}
inline bool same(const command_complete& a, const command_complete& b) {
  return a.tag == b.tag;
}
inline bool same(const error_response& a, const error_response& b) {
  return same(a.fields, b.fields);
}
inline bool same(const notification_response& a, const notification_response& b) {
  return a.process_id == b.process_id && a.channel == b.channel && a.payload == b.payload;
}
inline bool same(const copy_response& a, const copy_response& b) {
  return a.format == b.format && a.column_formats == b.column_formats;
}
inline bool same(const parameter_description& a, const parameter_description& b) {
  return a.types == b.types;
}
inline bool same(const negotiate_protocol_version& a, const negotiate_protocol_version& b) {
  return a.newest_minor == b.newest_minor && a.unrecognized_options == b.unrecognized_options;
}

template <class M>
void encode_message(const M& m, std::string& out, char type) {
  if constexpr (std::is_same_v<M, copy_response> || std::is_same_v<M, error_response>) {
    m.encode(out, type);
  } else {
    m.encode(out);
  }
}

/// Every proper prefix of `bytes` is need_more; the whole of it is one frame; a second message behind it
/// does not change the first.
inline void check_every_split(const std::string& bytes) {
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    const auto f = split_frame(as_bytes(bytes).first(k), no_limit);
    INFO("prefix of " << k << " of " << bytes.size() << " bytes");
    REQUIRE(f.need_more());
  }
  const std::string two = bytes + bytes;
  const auto f = split_frame(as_bytes(two), no_limit);
  REQUIRE(f.ok());
  REQUIRE(f->whole.size() == bytes.size());
}

/// How thoroughly `check_codec` grinds one encoding.
struct grind {
  char type = '\0';                 ///< type byte for copy_response / error_response encodes
  bool prefixes_are_valid = false;  ///< the body ends with "the rest" (CopyData, SASLResponse, ...)
  bool exhaustive = true;           ///< off for multi-megabyte messages
};

/// decode(encode(m)) == m, encode is stable, and the framing/truncation/trailing-byte battery holds.
template <class M>
void check_codec(const M& m, grind g = {}) {
  std::string bytes;
  encode_message(m, bytes, g.type);
  if (g.exhaustive) check_every_split(bytes);
  const frame f = whole_frame(bytes);
  if (g.type != '\0') CHECK(f.type == g.type);
  const auto d = M::decode(f);
  REQUIRE(d.ok());
  REQUIRE(same(*d, m));
  std::string again;
  encode_message(*d, again, g.type);
  REQUIRE(again == bytes);
  if (g.prefixes_are_valid) return;

  const std::string with_trailing = std::string(as_chars(f.body)) + '\x01';
  const auto t = M::decode(frame{f.type, as_bytes(with_trailing), {}});
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == decode_errc::malformed);

  if (!g.exhaustive) return;
  for (std::size_t k = 0; k < f.body.size(); ++k) {
    const auto p = M::decode(frame{f.type, f.body.first(k), {}});
    INFO("body cut to " << k << " of " << f.body.size() << " bytes");
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code == decode_errc::malformed);
  }
}

/// The decode error code for `body` decoded as M.
template <class M>
decode_errc decode_failure(std::string_view body) {
  const auto d = M::decode(frame{'\0', as_bytes(body), {}});
  REQUIRE_FALSE(d.ok());
  return d.error().code;
}

}  // namespace phigate::pg::test

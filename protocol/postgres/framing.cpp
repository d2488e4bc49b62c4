// Frame splitting and the message writer: the only code that reads or writes PostgreSQL length words.
#include <cassert>

#include "protocol/postgres/messages.hpp"

namespace phigate::pg {

namespace {

// Length words are Int32 on the wire; one with the top bit set is negative and can never be valid, whatever
// limit the caller configured.
constexpr std::uint32_t max_int32 = 0x7fffffff;
constexpr std::size_t length_word_bytes = 4;
constexpr std::size_t typed_header_bytes = 1 + length_word_bytes;
// A startup packet holds at least its length word and a 4-byte protocol (or request) code.
constexpr std::uint32_t min_startup_length = 8;

}  // namespace

// The limit applies to the length word's value (body + 4), the number PostgreSQL itself compares with its
// limits, and is checked from the 5-byte header alone so that a peer cannot make us buffer an oversized body
// before refusing it.
decoded<frame> split_frame(byte_span buf, std::size_t max_message_bytes) {
  if (buf.size() < typed_header_bytes) return need_more_bytes();
  byte_reader r(buf);
  const char type = static_cast<char>(r.read_u8());
  const std::uint32_t length = r.read_u32_be();
  if (length > max_int32) return malformed("negative message length");
  if (length < length_word_bytes) return malformed("message length below 4");
  if (length > max_message_bytes)
    return decode_error{decode_errc::too_large, "message exceeds the size limit"};
  const std::size_t whole_bytes = 1 + std::size_t{length};
  if (buf.size() < whole_bytes) return need_more_bytes();
  return frame{type, buf.subspan(typed_header_bytes, length - length_word_bytes), buf.first(whole_bytes)};
}

// PostgreSQL's ProcessStartupPacket rejects len < 8 and len > MAX_STARTUP_PACKET_LENGTH before reading the
// body; we do the same from the 4-byte header.
decoded<frame> split_startup_frame(byte_span buf) {
  if (buf.size() < length_word_bytes) return need_more_bytes();
  byte_reader r(buf);
  const std::uint32_t length = r.read_u32_be();
  if (length > max_int32) return malformed("negative startup packet length");
  if (length < min_startup_length) return malformed("startup packet length below 8");
  if (length > max_startup_packet_bytes) {
    return decode_error{decode_errc::too_large, "startup packet exceeds max_startup_packet_bytes"};
  }
  if (buf.size() < length) return need_more_bytes();
  return frame{'\0', buf.subspan(length_word_bytes, length - length_word_bytes), buf.first(length)};
}

message_writer::message_writer(std::string& out, char type) : out_(out) {
  if (type != '\0') out_.push_back(type);
  start_ = out_.size();
  out_.append(length_word_bytes, '\0');
}

message_writer::~message_writer() {
  finish();
}

message_writer& message_writer::u8(std::uint8_t v) {
  assert(!finished_);
  out_.push_back(static_cast<char>(v));
  return *this;
}

message_writer& message_writer::i16(std::int16_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  return u8(static_cast<std::uint8_t>(u >> 8)).u8(static_cast<std::uint8_t>(u));
}

message_writer& message_writer::i32(std::int32_t v) {
  return u32(static_cast<std::uint32_t>(v));
}

message_writer& message_writer::u32(std::uint32_t v) {
  return u8(static_cast<std::uint8_t>(v >> 24))
      .u8(static_cast<std::uint8_t>(v >> 16))
      .u8(static_cast<std::uint8_t>(v >> 8))
      .u8(static_cast<std::uint8_t>(v));
}

// The wire cannot carry a NUL inside a string, and writing one would end the field early and let the rest
// of `s` pose as further fields (a forged ErrorResponse field, a second startup parameter). The string is
// therefore cut at its first NUL, which is also what any C client would have seen.
message_writer& message_writer::cstring(std::string_view s) {
  assert(!finished_);
  out_.append(s.substr(0, s.find('\0')));
  out_.push_back('\0');
  return *this;
}

message_writer& message_writer::bytes(byte_span b) {
  return bytes(as_chars(b));
}

message_writer& message_writer::bytes(std::string_view b) {
  assert(!finished_);
  out_.append(b);
  return *this;
}

void message_writer::finish() {
  if (finished_) return;
  finished_ = true;
  const std::size_t length = out_.size() - start_;
  // Encoders write what the gateway builds; a message over 2 GiB is a programming error, not input.
  assert(length <= max_int32);
  const auto v = static_cast<std::uint32_t>(length);
  out_[start_] = static_cast<char>(v >> 24);
  out_[start_ + 1] = static_cast<char>(v >> 16);
  out_[start_ + 2] = static_cast<char>(v >> 8);
  out_[start_ + 3] = static_cast<char>(v);
}

}  // namespace phigate::pg

// Bounds-checked reading over a byte span. Every read either succeeds or leaves the reader failed;
// callers check `ok()` once after a group of reads instead of threading pos/left counters by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace phigate {

using byte_span = std::span<const std::byte>;

inline byte_span as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_chars(byte_span b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class byte_reader {
 public:
  explicit byte_reader(byte_span data) : data_(data) {}

  /// Big-endian integers (PostgreSQL wire order).
  std::uint8_t read_u8();
  std::uint16_t read_u16_be();
  std::uint32_t read_u32_be();
  std::int16_t read_i16_be() { return static_cast<std::int16_t>(read_u16_be()); }
  std::int32_t read_i32_be() { return static_cast<std::int32_t>(read_u32_be()); }
  /// Little-endian integers (MySQL wire order).
  std::uint16_t read_u16_le();
  std::uint32_t read_u24_le();
  std::uint32_t read_u32_le();
  std::uint64_t read_u64_le();

  /// A NUL-terminated string; the terminator is consumed but not returned.
  std::string_view read_cstring();
  /// Exactly n bytes.
  byte_span read_bytes(std::size_t n);
  /// Everything that is left.
  byte_span read_rest();

  bool ok() const noexcept { return ok_; }
  bool at_end() const noexcept { return pos_ == data_.size(); }
  std::size_t remaining() const noexcept { return ok_ ? data_.size() - pos_ : 0; }
  std::size_t position() const noexcept { return pos_; }

 private:
  bool take(std::size_t n);  // false (and failed) when fewer than n bytes remain
  byte_span data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace phigate

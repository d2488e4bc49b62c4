#include "protocol/byte_reader.hpp"

namespace phigate {

// A failed reader stays failed: every later read returns a zero value and consumes nothing, so a caller can
// run a whole group of reads and check ok() once. Reads never touch memory outside data_.
bool byte_reader::take(std::size_t n) {
  if (!ok_ || n > data_.size() - pos_) {
    ok_ = false;
    return false;
  }
  pos_ += n;
  return true;
}

std::uint8_t byte_reader::read_u8() {
  if (!take(1)) return 0;
  return static_cast<std::uint8_t>(data_[pos_ - 1]);
}

std::uint16_t byte_reader::read_u16_be() {
  if (!take(2)) return 0;
  const std::byte* p = data_.data() + pos_ - 2;
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}

std::uint32_t byte_reader::read_u32_be() {
  if (!take(4)) return 0;
  const std::byte* p = data_.data() + pos_ - 4;
  return (std::to_integer<std::uint32_t>(p[0]) << 24) | (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

std::uint16_t byte_reader::read_u16_le() {
  if (!take(2)) return 0;
  const std::byte* p = data_.data() + pos_ - 2;
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | (std::to_integer<unsigned>(p[1]) << 8));
}

std::uint32_t byte_reader::read_u24_le() {
  if (!take(3)) return 0;
  const std::byte* p = data_.data() + pos_ - 3;
  return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
         (std::to_integer<std::uint32_t>(p[2]) << 16);
}

std::uint32_t byte_reader::read_u32_le() {
  if (!take(4)) return 0;
  const std::byte* p = data_.data() + pos_ - 4;
  return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
         (std::to_integer<std::uint32_t>(p[2]) << 16) | (std::to_integer<std::uint32_t>(p[3]) << 24);
}

std::uint64_t byte_reader::read_u64_le() {
  if (!take(8)) return 0;
  const std::byte* p = data_.data() + pos_ - 8;
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

std::string_view byte_reader::read_cstring() {
  if (!ok_) return {};
  const std::string_view rest = as_chars(data_.subspan(pos_));
  const std::size_t nul = rest.find('\0');
  if (nul == std::string_view::npos) {
    // No terminator before the end: the string is cut off or was never terminated.
    ok_ = false;
    return {};
  }
  pos_ += nul + 1;
  return rest.substr(0, nul);
}

byte_span byte_reader::read_bytes(std::size_t n) {
  if (!take(n)) return {};
  return data_.subspan(pos_ - n, n);
}

byte_span byte_reader::read_rest() {
  if (!ok_) return {};
  const byte_span rest = data_.subspan(pos_);
  pos_ = data_.size();
  return rest;
}

}  // namespace phigate

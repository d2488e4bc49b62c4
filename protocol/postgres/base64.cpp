// base64 (RFC 4648 section 4, with padding), as SCRAM-SHA-256 uses it on the wire and in stored verifiers.
#include <array>
#include <cstdint>

#include "protocol/postgres/auth.hpp"

namespace phigate::pg {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::int8_t invalid = -1;

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(invalid);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}
constexpr auto decode_table = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    const std::uint32_t v = static_cast<unsigned char>(raw[i]) << 16 |
                            static_cast<unsigned char>(raw[i + 1]) << 8 |
                            static_cast<unsigned char>(raw[i + 2]);
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  const std::size_t left = raw.size() - i;
  if (left > 0) {
    std::uint32_t v = static_cast<unsigned char>(raw[i]) << 16;
    if (left == 2) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += left == 2 ? alphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // Strict: whole quads only, padding only at the very end. Every SCRAM peer (libpq, pgjdbc, the PostgreSQL
  // server) emits canonical padded base64, so anything looser is a malformed message, not a dialect.
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const std::int8_t v = decode_table[static_cast<unsigned char>(text[i])];
    if (v == invalid) return std::nullopt;
    acc = acc << 6 | static_cast<std::uint32_t>(v);
    if (i % 4 == 3) {
      out += static_cast<char>(acc >> 16 & 0xff);
      out += static_cast<char>(acc >> 8 & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
    }
  }
  if (padding == 1) {
    out += static_cast<char>(acc >> 10 & 0xff);
    out += static_cast<char>(acc >> 2 & 0xff);
  } else if (padding == 2) {
    out += static_cast<char>(acc >> 4 & 0xff);
  }
  return out;
}

}  // namespace phigate::pg

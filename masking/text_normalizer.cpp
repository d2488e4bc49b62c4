#include "masking/text_normalizer.hpp"

#include <cstdint>

namespace phigate::masking {
namespace {

// Decodes one UTF-8 sequence at `p`; returns the code point and its length, or length 0 when malformed.
struct decoded {
  std::uint32_t code_point = 0;
  std::size_t length = 0;
};

decoded decode_utf8(std::string_view s, std::size_t p) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  std::uint8_t lead = byte(p);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || p + length > s.size()) return {};
  std::uint32_t cp = lead & (0x3F >> (length - 1));
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(p + i) & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (byte(p + i) & 0x3F);
  }
  return {cp, length};
}

// ASCII replacement for a code point: the character, 0 to drop it, or -1 to keep the original bytes.
int fold(std::uint32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFF01 + 0x21);
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63) return '-';
  if (cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000)
    return ' ';
  if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD) return 0;
  return -1;
}

}  // namespace

bool text_normalizer::normalize(std::string_view text) {
  std::size_t first = 0;
  while (first < text.size() && static_cast<std::uint8_t>(text[first]) < 0x80) ++first;
  if (first == text.size()) return false;
  text_.clear();
  start_.clear();
  end_.clear();
  auto emit = [&](char c, std::size_t from, std::size_t to) {
    text_.push_back(c);
    start_.push_back(from);
    end_.push_back(to);
  };
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<std::uint8_t>(text[i]) < 0x80) {
      emit(text[i], i, i + 1);
      ++i;
      continue;
    }
    decoded d = decode_utf8(text, i);
    int folded = d.length == 0 ? -1 : fold(d.code_point);
    if (folded > 0) {
      emit(static_cast<char>(folded), i, i + d.length);
    } else if (folded < 0) {
      std::size_t n = d.length == 0 ? 1 : d.length;
      for (std::size_t k = 0; k < n; ++k) emit(text[i + k], i, i + n);
    } else if (!end_.empty()) {
      // A dropped character belongs to the byte before it, so a span that ends there still covers it.
      end_.back() = i + d.length;
    }
    i += d.length == 0 ? 1 : d.length;
  }
  return true;
}

}  // namespace phigate::masking

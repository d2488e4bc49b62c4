#include "masking/transforms.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

namespace phigate::masking {
namespace {

constexpr std::array<std::pair<transform_kind, std::string_view>, 7> transform_names = {{
    {transform_kind::redact, "redact"},
    {transform_kind::partial, "partial"},
    {transform_kind::pseudonym, "pseudonym"},
    {transform_kind::hash, "hash"},
    {transform_kind::null, "null"},
    {transform_kind::safe_harbor_date, "safe_harbor_date"},
    {transform_kind::zip3, "zip3"},
}};

// ZIP3 areas of 20,000 people or fewer, which Safe Harbor requires to be written as 000. HHS published one
// list from the 2000 census and one from the 2010 census; an area on either is zeroed.
constexpr std::array<std::string_view, 23> sparse_zip3 = {
    "036", "059", "063", "102", "202", "203", "204", "205", "369", "556", "692", "753",
    "772", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

// Length of the UTF-8 sequence starting with `lead`, clamped to what is left; invalid bytes count as one.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  n = std::min(n, text.size() - i);
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return k;
  }
  return n;
}

bool is_letter_or_digit(char c) {
  return is_digit(c) || is_upper(c) || is_lower(c) || is_non_ascii(c);
}

using digest = std::array<unsigned char, 32>;

digest hmac_sha256(std::string_view key, std::string_view data) {
  digest out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return out;
}

// An endless keyed byte stream: HMAC(key, label || counter || seed) blocks, one after the other.
class keyed_stream {
 public:
  keyed_stream(const masking_key& key, std::string seed) : key_(key), seed_(std::move(seed)) {}

  // A uniform value below `n` (n <= 256), by rejection so no residue class is favoured.
  unsigned below(unsigned n) {
    const unsigned limit = 256 - 256 % n;
    for (;;) {
      const unsigned byte = next();
      if (byte < limit) return byte % n;
    }
  }

 private:
  unsigned next() {
    if (used_ == block_.size()) {
      std::string input = "phigate-pseudonym";
      input.push_back('\0');
      for (int shift = 24; shift >= 0; shift -= 8)
        input.push_back(static_cast<char>((counter_ >> shift) & 0xFF));
      input += seed_;
      block_ = hmac_sha256(key_.bytes, input);
      ++counter_;
      used_ = 0;
    }
    return block_[used_++];
  }

  const masking_key& key_;
  std::string seed_;
  digest block_{};
  std::size_t used_ = block_.size();
  std::uint32_t counter_ = 0;
};

}  // namespace

std::string_view to_string(transform_kind kind) {
  for (const auto& [k, name] : transform_names) {
    if (k == kind) return name;
  }
  return "redact";
}

std::optional<transform_kind> parse_transform_kind(std::string_view name) {
  for (const auto& [k, n] : transform_names) {
    if (n == name) return k;
  }
  return std::nullopt;
}

transform_kind masking_rules::transform_for(entity_type type) const {
  const auto it = per_type.find(type);
  return it == per_type.end() ? default_transform : it->second;
}

bool masking_rules::needs_key() const {
  const auto keyed = [](transform_kind k) {
    return k == transform_kind::pseudonym || k == transform_kind::hash;
  };
  return keyed(default_transform) ||
         std::any_of(per_type.begin(), per_type.end(), [&](const auto& rule) { return keyed(rule.second); });
}

std::string redact(std::string_view label) {
  std::string out = "[";
  for (char c : label) {
    if (is_lower(c)) c = static_cast<char>(c - 'a' + 'A');
    if (is_upper(c) || is_digit(c) || c == '_') out.push_back(c);
  }
  out.push_back(']');
  return out;
}

std::string partial(std::string_view value, std::size_t keep) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < value.size(); i += sequence_length(value, i)) {
    if (is_letter_or_digit(value[i])) ++total;
  }
  const std::size_t starred = total > keep ? total - keep : 0;
  std::string out;
  out.reserve(value.size());
  std::size_t seen = 0;
  for (std::size_t i = 0; i < value.size();) {
    const std::size_t n = sequence_length(value, i);
    if (!is_letter_or_digit(value[i])) {
      out.append(value.substr(i, n));
    } else if (seen++ < starred) {
      out.push_back('*');
    } else {
      out.append(value.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string pseudonym(std::string_view value, const masking_key& key) {
  // The seed is the letters and digits only, so formatting (separators, case) does not change the result.
  std::string seed;
  for (std::size_t i = 0; i < value.size(); i += sequence_length(value, i)) {
    const char c = value[i];
    if (is_upper(c)) {
      seed.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (is_letter_or_digit(c)) {
      seed.append(value.substr(i, sequence_length(value, i)));
    }
  }
  keyed_stream stream(key, std::move(seed));
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const std::size_t n = sequence_length(value, i);
    const char c = value[i];
    if (is_digit(c)) {
      out.push_back(static_cast<char>('0' + stream.below(10)));
    } else if (is_upper(c)) {
      out.push_back(static_cast<char>('A' + stream.below(26)));
    } else if (is_lower(c) || is_non_ascii(c)) {
      out.push_back(static_cast<char>('a' + stream.below(26)));
    } else {
      out.push_back(c);
    }
    i += n;
  }
  return out;
}

std::string keyed_hash(std::string_view value, const masking_key& key, std::size_t hex_chars) {
  static constexpr std::string_view hex = "0123456789abcdef";
  const digest d = hmac_sha256(key.bytes, value);
  std::string out;
  out.reserve(64);
  for (unsigned char byte : d) {
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0x0F]);
  }
  out.resize(std::clamp<std::size_t>(hex_chars, 1, 64));
  return out;
}

std::optional<std::string> safe_harbor_year(std::string_view date_text, int current_year) {
  constexpr int oldest_age_shown = 90;  // ages over 89 are aggregated into "90 or older"
  for (std::size_t i = 0; i < date_text.size();) {
    if (!is_digit(date_text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < date_text.size() && is_digit(date_text[end])) ++end;
    if (end - i == 4 || end - i == 8) {
      const int year = std::stoi(std::string(date_text.substr(i, 4)));
      if (current_year - year > oldest_age_shown - 1) return std::to_string(current_year - oldest_age_shown);
      return std::string(date_text.substr(i, 4));
    }
    i = end;
  }
  return std::nullopt;
}

std::optional<std::string> safe_harbor_year(std::string_view date_text) {
  const auto today =
      std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  return safe_harbor_year(date_text, static_cast<int>(today.year()));
}

std::optional<std::string> zip3(std::string_view zip) {
  std::string digits;
  for (char c : zip) {
    if (is_digit(c) && digits.size() < 3) digits.push_back(c);
  }
  if (digits.size() < 3) return std::nullopt;
  if (std::find(sparse_zip3.begin(), sparse_zip3.end(), digits) != sparse_zip3.end()) return "00000";
  return digits + "00";
}

}  // namespace phigate::masking

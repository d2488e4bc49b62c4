#include "masking/validators.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace phigate::masking {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
char to_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Collects the digits of `text` when every other character is one separator kind used consistently.
// Returns the digit count, or 0 when something else is in the way or the buffer would overflow.
template <std::size_t N>
std::size_t digits_with_separators(std::string_view text, std::array<int, N>& out, std::string_view allowed) {
  std::size_t n = 0;
  char separator = 0;
  for (char c : text) {
    if (is_digit(c)) {
      if (n == N) return 0;
      out[n++] = c - '0';
      continue;
    }
    if (allowed.find(c) == std::string_view::npos) return 0;
    if (separator != 0 && separator != c) return 0;
    separator = c;
  }
  return n;
}

bool luhn_digits(const int* d, std::size_t n) {
  int sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    int v = d[n - 1 - i];
    if (i % 2 == 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 == 0;
}

// MBI letters: A-Z without S, L, O, I, B, Z (CMS avoids letters that read like digits).
bool mbi_alpha(char c) {
  c = to_upper(c);
  return is_upper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z';
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return days[static_cast<std::size_t>(month - 1)];
}

bool ymd_ok(int y, int m, int d) {
  return y >= 1900 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

// Splits "12/05/1966" style text into up to three numbers; returns the count and the widths.
struct numeric_parts {
  std::array<int, 3> value{};
  std::array<int, 3> width{};
  int count = 0;
};

numeric_parts split_numeric(std::string_view text) {
  numeric_parts p;
  char separator = 0;
  for (char c : text) {
    if (is_digit(c)) {
      if (p.count == 0) p.count = 1;
      auto i = static_cast<std::size_t>(p.count - 1);
      p.value[i] = p.value[i] * 10 + (c - '0');
      if (++p.width[i] > 4) return {};
      continue;
    }
    if ((c != '-' && c != '/' && c != '.') || (separator != 0 && c != separator) || p.count == 3) return {};
    separator = c;
    ++p.count;
  }
  return p;
}

bool numeric_date_valid(std::string_view text) {
  numeric_parts p = split_numeric(text);
  if (p.count != 3) return false;
  if (p.width[0] == 4)
    return p.width[1] <= 2 && p.width[2] <= 2 && ymd_ok(p.value[0], p.value[1], p.value[2]);
  if ((p.width[2] != 4 && p.width[2] != 2) || p.width[0] > 2 || p.width[1] > 2) return false;
  // A two-digit year is read in the leap year 2000 so that 2/29/xx is never rejected for want of a century.
  int year = p.width[2] == 4 ? p.value[2] : 2000;
  return ymd_ok(year, p.value[0], p.value[1]) || ymd_ok(year, p.value[1], p.value[0]);
}

// Month number for an English month name or its three/four-letter abbreviation ("Sept"); 0 if none.
int month_number(std::string_view word) {
  static constexpr std::array<std::string_view, 12> months = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (word.size() < 3) return 0;
  for (std::size_t m = 0; m < months.size(); ++m) {
    std::string_view full = months[m];
    if (word.size() > full.size()) continue;
    bool prefix = true;
    for (std::size_t i = 0; i < word.size() && prefix; ++i) {
      prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(word[i]))) == full[i];
    }
    if (prefix && (word.size() == 3 || word.size() == full.size() || (m == 8 && word.size() == 4))) {
      return static_cast<int>(m) + 1;
    }
  }
  return 0;
}

// "Mar 4, 1963", "March 4th 1963", "24-Aug-2003", "4 March 1963": one month word, a day and a 4-digit year.
bool named_month_date_valid(std::string_view text) {
  int month = 0, numbers = 0;
  std::array<int, 2> value{}, width{};
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
      std::string_view word = text.substr(i, j - i);
      bool ordinal = numbers > 0 && (word == "st" || word == "nd" || word == "rd" || word == "th");
      if (!ordinal) {
        if (month != 0) return false;
        month = month_number(word);
        if (month == 0) return false;
      }
      i = j;
    } else if (is_digit(c)) {
      if (numbers == 2) return false;
      std::size_t j = i;
      while (j < text.size() && is_digit(text[j]) && j - i < 5)
        value[numbers] = value[numbers] * 10 + (text[j++] - '0');
      width[numbers++] = static_cast<int>(j - i);
      i = j;
    } else {
      ++i;
    }
  }
  if (month == 0) return false;
  if (numbers == 1) return width[0] == 4 && ymd_ok(value[0], month, 1);  // "March 2020"
  if (width[1] == 4 && width[0] <= 2) return ymd_ok(value[1], month, value[0]);
  return false;
}

// ISO 13616 registry lengths (SWIFT IBAN registry).
constexpr std::array<std::pair<std::string_view, int>, 89> iban_lengths = {{
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27},
    {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15},
    {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"BI", 27},
    {"IR", 26}, {"RU", 33}, {"MN", 20}, {"NI", 28}, {"OM", 23}, {"FK", 18}, {"DJ", 27}, {"SO", 23},
    {"YE", 30},
}};

int iban_length(char a, char b) {
  for (const auto& [code, length] : iban_lengths) {
    if (code[0] == a && code[1] == b) return length;
  }
  return 0;
}

}  // namespace

bool luhn_valid(std::string_view text) {
  std::array<int, 40> d{};
  std::size_t n = digits_with_separators(text, d, " -");
  return n >= 2 && luhn_digits(d.data(), n);
}

bool credit_card_valid(std::string_view text) {
  std::array<int, 19> d{};
  std::size_t n = digits_with_separators(text, d, " -");
  if (n < 13 || n > 19 || d[0] < 2 || d[0] > 6) return false;
  if (text.find("  ") != std::string_view::npos || text.find("--") != std::string_view::npos) return false;
  return luhn_digits(d.data(), n);
}

bool npi_valid(std::string_view text) {
  if (text.size() != 10) return false;
  std::array<int, 15> d{8, 0, 8, 4, 0};
  for (std::size_t i = 0; i < 10; ++i) {
    if (!is_digit(text[i])) return false;
    d[5 + i] = text[i] - '0';
  }
  return (d[5] == 1 || d[5] == 2) && luhn_digits(d.data(), d.size());
}

bool dea_valid(std::string_view text) {
  static constexpr std::string_view registrant_types = "ABCDEFGHJKLMPRSTUX";
  if (text.size() != 9 || registrant_types.find(text[0]) == std::string_view::npos) return false;
  if (!is_upper(text[1]) && text[1] != '9') return false;
  std::array<int, 7> d{};
  for (std::size_t i = 0; i < 7; ++i) {
    if (!is_digit(text[2 + i])) return false;
    d[i] = text[2 + i] - '0';
  }
  int sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
  return sum % 10 == d[6];
}

bool mbi_valid(std::string_view text) {
  if (text.size() == 13) {
    if (text[4] != '-' || text[8] != '-') return false;
  } else if (text.size() != 11) {
    return false;
  }
  // Position classes: n = numeric, a = alpha, x = alphanumeric, c = numeric 1-9.
  static constexpr std::string_view classes = "caxnaxnaann";
  std::size_t pos = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.size() == 13 && (i == 4 || i == 8)) continue;
    char c = text[i];
    bool ok = false;
    switch (classes[pos++]) {
      case 'c':
        ok = c >= '1' && c <= '9';
        break;
      case 'n':
        ok = is_digit(c);
        break;
      case 'a':
        ok = mbi_alpha(c);
        break;
      default:
        ok = is_digit(c) || mbi_alpha(c);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool iban_valid(std::string_view text) {
  std::array<char, 34> s{};
  std::size_t n = 0;
  for (char c : text) {
    if (c == ' ') continue;
    if (n == s.size() || !std::isalnum(static_cast<unsigned char>(c))) return false;
    s[n++] = to_upper(c);
  }
  if (n < 15 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) return false;
  if (iban_length(s[0], s[1]) != static_cast<int>(n)) return false;
  // Rotate the first four characters to the end, read letters as 10..35, reduce mod 97 as we go.
  std::uint32_t rem = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = s[(k + 4) % n];
    if (is_digit(c)) {
      rem = (rem * 10 + static_cast<std::uint32_t>(c - '0')) % 97;
    } else {
      rem = (rem * 100 + static_cast<std::uint32_t>(c - 'A' + 10)) % 97;
    }
  }
  return rem == 1;
}

bool aba_valid(std::string_view text) {
  if (text.size() != 9) return false;
  std::array<int, 9> d{};
  for (std::size_t i = 0; i < 9; ++i) {
    if (!is_digit(text[i])) return false;
    d[i] = text[i] - '0';
  }
  int prefix = d[0] * 10 + d[1];
  bool prefix_ok =
      prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix == 80;
  int sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
  return prefix_ok && sum % 10 == 0;
}

bool ssn_valid(std::string_view text) {
  std::array<int, 9> d{};
  if (digits_with_separators(text, d, "- .") != 9) return false;
  if (text.size() == 11 && (text[3] != text[6] || is_digit(text[3]))) return false;
  if (text.size() != 9 && text.size() != 11) return false;
  int area = d[0] * 100 + d[1] * 10 + d[2];
  int group = d[3] * 10 + d[4];
  int serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool nanp_phone_valid(std::string_view text) {
  std::array<int, 11> d{};
  std::size_t n = 0;
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) break;  // an extension ("x866", "ext. 12") follows
    if (is_digit(c)) {
      if (n == d.size()) return false;
      d[n++] = c - '0';
    }
  }
  std::size_t base = 0;
  if (n == 11 && d[0] == 1)
    base = 1;
  else if (n != 10)
    return false;
  const int* p = d.data() + base;
  bool n11 = p[1] == 1 && p[2] == 1;
  return p[0] >= 2 && p[3] >= 2 && !n11;
}

bool ipv4_valid(std::string_view text) {
  int parts = 0, value = 0, width = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      if (width == 0 || value > 255) return false;
      ++parts;
      value = width = 0;
      continue;
    }
    if (!is_digit(text[i]) || (width == 1 && value == 0)) return false;
    value = value * 10 + (text[i] - '0');
    ++width;
  }
  return parts == 4;
}

bool ipv6_valid(std::string_view text) {
  int groups = 0, width = 0, compressions = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') {
      if (width > 0) ++groups;
      width = 0;
      if (i + 1 < text.size() && text[i + 1] == ':') {
        if (++compressions > 1) return false;
        ++i;
      } else if (i + 1 == text.size() || i == 0) {
        return false;
      }
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c)) || ++width > 4) return false;
  }
  if (width > 0) ++groups;
  if (compressions == 0) return groups == 8;
  return groups >= 3 && groups <= 7;
}

bool date_valid(std::string_view text) {
  if (text.size() == 8 && text.find_first_not_of("0123456789") == std::string_view::npos) {
    auto num = [&](std::size_t at, std::size_t n) {
      int v = 0;
      for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
      return v;
    };
    return ymd_ok(num(0, 4), num(4, 2), num(6, 2)) || ymd_ok(num(4, 4), num(0, 2), num(2, 2));
  }
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) return named_month_date_valid(text);
  }
  return numeric_date_valid(text);
}

std::optional<validator_kind> parse_validator(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, validator_kind>, 13> names = {{
      {"", validator_kind::none},
      {"none", validator_kind::none},
      {"luhn", validator_kind::luhn},
      {"credit_card", validator_kind::credit_card},
      {"npi", validator_kind::npi},
      {"dea", validator_kind::dea},
      {"mbi", validator_kind::mbi},
      {"iban", validator_kind::iban},
      {"aba", validator_kind::aba},
      {"ssn", validator_kind::ssn},
      {"phone", validator_kind::phone},
      {"ipv4", validator_kind::ipv4},
      {"ipv6", validator_kind::ipv6},
  }};
  if (name == "date") return validator_kind::date;
  for (const auto& [n, kind] : names) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

bool run_validator(validator_kind kind, std::string_view text) {
  switch (kind) {
    case validator_kind::none:
      return true;
    case validator_kind::luhn:
      return luhn_valid(text);
    case validator_kind::credit_card:
      return credit_card_valid(text);
    case validator_kind::npi:
      return npi_valid(text);
    case validator_kind::dea:
      return dea_valid(text);
    case validator_kind::mbi:
      return mbi_valid(text);
    case validator_kind::iban:
      return iban_valid(text);
    case validator_kind::aba:
      return aba_valid(text);
    case validator_kind::ssn:
      return ssn_valid(text);
    case validator_kind::phone:
      return nanp_phone_valid(text);
    case validator_kind::ipv4:
      return ipv4_valid(text);
    case validator_kind::ipv6:
      return ipv6_valid(text);
    case validator_kind::date:
      return date_valid(text);
  }
  return false;
}

}  // namespace phigate::masking

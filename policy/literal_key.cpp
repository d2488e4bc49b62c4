// The scanner follows PostgreSQL 15's lexer (scan.l) only as far as it needs to: identifiers, numbers,
// plain strings, quoted identifiers, parameters and single-byte operators. Whatever could make two texts
// with the same key tokenize differently is refused, and the caller then parses the text in full.
#include "policy/literal_key.hpp"

namespace phigate::policy {
namespace {

constexpr char integer_marker = '\x01';
constexpr char numeric_marker = '\x02';
constexpr char string_marker = '\x03';

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_ident_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) noexcept {
  return is_ident_start(c) || is_digit(c) || c == '$';
}
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Printable ASCII and the whitespace above; everything else (NUL, other control bytes, the marker
// bytes, DEL, UTF-8) is refused.
bool is_plain(char c) noexcept {
  return is_space(c) || (c >= ' ' && c <= '~');
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Digits of an integer literal fit PostgreSQL's int32 ICONST (process_integer_literal).
bool fits_int32(std::string_view digits) noexcept {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.size() != 10) return digits.size() < 10;
  return digits <= "2147483647";
}

class scanner {
 public:
  explicit scanner(std::string_view sql) : sql_(sql) { out_.key.reserve(sql.size()); }

  std::optional<literal_key> run() {
    std::size_t end = sql_.size();
    bool any_token = false;
    while (pos_ < sql_.size()) {
      const char c = sql_[pos_];
      if (!is_plain(c) || c == '\\') return std::nullopt;
      if (c == ';') {
        if (!trim(sql_.substr(pos_ + 1)).empty()) return std::nullopt;
        end = pos_;
        out_.key.append(sql_.substr(pos_));
        break;
      }
      any_token = any_token || !is_space(c);
      if (!step(c)) return std::nullopt;
    }
    if (!any_token) return std::nullopt;
    out_.statement = trim(sql_.substr(0, end));
    return std::move(out_);
  }

 private:
  bool step(char c) {
    if (c == '\'') return string_literal();
    if (c == '"') return quoted_identifier();
    if (c == '$') return parameter();
    if (is_digit(c) || (c == '.' && pos_ + 1 < sql_.size() && is_digit(sql_[pos_ + 1]))) return number();
    if (is_ident_start(c)) return identifier();
    // Comments start inside operator runs too (`+--` is `+` and a comment); `..` is its own token.
    if (pos_ + 1 < sql_.size()) {
      const char next = sql_[pos_ + 1];
      if ((c == '-' && next == '-') || (c == '/' && next == '*') || (c == '.' && next == '.')) return false;
    }
    out_.key.push_back(c);
    ++pos_;
    return true;
  }

  // A quote glued to a word is a prefixed string or identifier (E'', B'', X'', N'', U&'', U&"").
  [[nodiscard]] bool glued_to_word() const noexcept {
    if (pos_ == 0) return false;
    const char before = sql_[pos_ - 1];
    return is_ident_char(before) || before == '&';
  }

  bool string_literal() {
    if (glued_to_word()) return false;
    const std::size_t start = pos_;
    std::size_t i = pos_ + 1;
    for (;; ++i) {
      if (i >= sql_.size()) return false;  // unterminated
      const char c = sql_[i];
      if (c == '\\' || !is_plain(c)) return false;
      if (c != '\'') continue;
      if (i + 1 < sql_.size() && sql_[i + 1] == '\'') {
        ++i;  // '' is a quote inside the string
        continue;
      }
      break;
    }
    pos_ = i + 1;
    add_literal(start, literal_class::string, string_marker);
    return true;
  }

  bool quoted_identifier() {
    if (glued_to_word()) return false;
    const std::size_t close = sql_.find('"', pos_ + 1);
    if (close == std::string_view::npos || close == pos_ + 1) return false;
    if (close + 1 < sql_.size() && sql_[close + 1] == '"') return false;
    for (std::size_t i = pos_ + 1; i < close; ++i) {
      if (!is_plain(sql_[i])) return false;
    }
    out_.key.append(sql_.substr(pos_, close + 1 - pos_));
    pos_ = close + 1;
    return true;
  }

  // $1 is a parameter and stays in the key; any other `$` starts a dollar quote.
  bool parameter() {
    std::size_t i = pos_ + 1;
    while (i < sql_.size() && is_digit(sql_[i])) ++i;
    if (i == pos_ + 1 || (i < sql_.size() && is_ident_char(sql_[i]))) return false;
    out_.key.append(sql_.substr(pos_, i - pos_));
    pos_ = i;
    return true;
  }

  bool identifier() {
    std::size_t i = pos_;
    while (i < sql_.size() && is_ident_char(sql_[i])) ++i;
    out_.key.append(sql_.substr(pos_, i - pos_));
    pos_ = i;
    return true;
  }

  std::size_t digits_from(std::size_t i) const noexcept {
    while (i < sql_.size() && is_digit(sql_[i])) ++i;
    return i;
  }

  // {decinteger}, {decimal} and {real} of scan.l. A number followed by a letter, digit, `_`, `$`, `.` or
  // quote is refused: PostgreSQL 15 splits or rejects those in ways this scanner does not mirror.
  bool number() {
    const std::size_t start = pos_;
    std::size_t i = digits_from(pos_);
    bool integer = true;
    if (i < sql_.size() && sql_[i] == '.') {
      integer = false;
      i = digits_from(i + 1);
    }
    if (i < sql_.size() && (sql_[i] == 'e' || sql_[i] == 'E')) {
      std::size_t exponent = i + 1;
      if (exponent < sql_.size() && (sql_[exponent] == '+' || sql_[exponent] == '-')) ++exponent;
      const std::size_t after = digits_from(exponent);
      if (after == exponent) return false;
      integer = false;
      i = after;
    }
    if (i < sql_.size() && (is_ident_char(sql_[i]) || sql_[i] == '.' || sql_[i] == '\'' || sql_[i] == '"'))
      return false;
    pos_ = i;
    const bool small = integer && fits_int32(sql_.substr(start, i - start));
    add_literal(start, small ? literal_class::integer : literal_class::numeric,
                small ? integer_marker : numeric_marker);
    return true;
  }

  void add_literal(std::size_t start, literal_class kind, char marker) {
    out_.literals.push_back(literal_span{start, pos_ - start, kind});
    out_.key.push_back(marker);
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
  literal_key out_;
};

}  // namespace

std::optional<literal_key> make_literal_key(std::string_view sql) {
  if (sql.empty() || sql.size() > max_literal_key_input_bytes) return std::nullopt;
  return scanner(sql).run();
}

}  // namespace phigate::policy

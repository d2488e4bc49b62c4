// A cache key for one SQL statement that ignores the values of its literals, made by a small scanner
// instead of the parser: `SELECT abalance FROM pgbench_accounts WHERE aid = 48213;` and the same text
// with `aid = 7` share a key, so the analysis of one can stand for the other. The scanner refuses
// anything whose tokens it cannot be sure to split exactly as PostgreSQL does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::policy {

/// What a literal was, as far as the grammar can tell: PostgreSQL's lexer makes an integer that fits
/// in 32 bits an ICONST and every other number an FCONST, and a few grammar rules accept only one.
enum class literal_class : std::uint8_t {
  integer,  ///< digits only, at most 2147483647
  numeric,  ///< a decimal point, an exponent, or an integer too large for 32 bits
  string,   ///< a plain '...' string ('' inside allowed; no prefix, no backslash)
};

/// Where one literal sits in the statement text (the quotes included for strings).
struct literal_span {
  std::size_t offset = 0;
  std::size_t length = 0;
  literal_class kind = literal_class::integer;
};

/// The key of one statement and where its literals are.
struct literal_key {
  /// The text with each literal replaced by one marker byte per class (bytes the scanner refuses in
  /// input, so a key never equals another text's key by accident). Everything else is kept verbatim,
  /// whitespace and letter case included.
  std::string key;
  std::vector<literal_span> literals;
  /// The statement without a trailing `;` and surrounding whitespace: the text the analyzer records
  /// for this statement.
  std::string_view statement;
};

/// Longest text the scanner looks at; longer statements get no key.
inline constexpr std::size_t max_literal_key_input_bytes = 16 * 1024;

/// The key of `sql`, or nullopt when the scanner is not sure of its tokens: comments, dollar quotes,
/// E'', B'', X'', N'' and U&'' strings, U&"" identifiers, backslashes, "" inside quoted identifiers,
/// bytes outside printable ASCII (tab, newline and carriage return aside), a `;` anywhere but at the
/// end, numbers run into letters or dots, unterminated quotes, empty input, or input longer than
/// max_literal_key_input_bytes.
std::optional<literal_key> make_literal_key(std::string_view sql);

}  // namespace phigate::policy

// Second-stage tests the detector set runs on Hyperscan candidates: word edges, context words, column-name
// hints and the cell-level PERSON / ADDRESS shapes. Pure functions over the (normalized) cell text.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "masking/pattern_spec.hpp"

namespace phigate::masking {

/// A byte range [start, end) in a cell.
struct text_span {
  std::size_t start = 0;
  std::size_t end = 0;
};

/// The lower-case words of a column name: "patient_SSN" and "patientSsn" both give {"patient", "ssn"}.
class column_words {
 public:
  column_words() = default;
  explicit column_words(std::string_view column);
  bool has(std::string_view word) const;
  bool has_any(const std::vector<std::string>& words) const;
  /// The column name reads like a person's name ("full_name", "patient", "last_name"; not "product_name").
  bool names_person() const { return person_; }
  /// The column name reads like a street address ("street", "address_line1", "addr").
  bool names_street() const { return street_; }
  /// The column names an identifier of something other than a person ("order_id", "sku", "tracking_no",
  /// "invoice_number", "build"): bare numbers there are that identifier, not PHI.
  bool names_other_identifier() const { return other_id_; }

 private:
  bool classify_person() const;
  bool classify_street() const;
  bool classify_other_identifier() const;

  static std::uint64_t initial_bit(std::string_view word);

  std::vector<std::string> words_;
  std::uint64_t initials_ = 0;  // initial_bit of every word
  bool person_ = false;
  bool street_ = false;
  bool other_id_ = false;
};

/// The candidate is a whole token: not glued to letters or digits, nor the tail or head of a longer token
/// joined by ".", "-", "/" or ":" ("1.2.3.4" inside "v1.2.3.4.5", digits inside "ACCT-0123").
bool token_edges_ok(std::string_view text, text_span span);

/// token_edges_ok, but a date may be followed by "T" and a time (ISO 8601 timestamps).
bool date_time_edges_ok(std::string_view text, text_span span);

/// One of `words` (lower case, whole words) occurs within `window` bytes before the span or 12 bytes after,
/// in the same clause (no ";", "|", line break or sentence end in between).
bool context_word_near(std::string_view text, text_span span, const std::vector<std::string>& words,
                       std::size_t window);

/// One of `words` occurs anywhere in `text` as a whole word (the cheap screen before locating matches).
bool context_word_in(std::string_view text, const std::vector<std::string>& words);

/// The lower-cased first bytes of a text's tokens: computed once per cell, it lets every word list asked
/// about that cell skip words that cannot occur.
using token_starts = std::bitset<256>;
token_starts first_letters(std::string_view text);
/// context_word_in with `starts` = first_letters(text).
bool context_word_in(std::string_view text, const std::vector<std::string>& words,
                     const token_starts& starts);

/// The cell could hold a street address or a state code that a bare five-digit ZIP may follow: it has a
/// digit followed later by a capitalised word, or two upper-case letters then a space.
bool may_hold_address(std::string_view text);

/// A five-digit number that follows a street address ("12 Elm Street, Springfield, 01105") or a two-letter
/// state code ("MA 01105").
bool zip5_follows_address(std::string_view text, text_span span, const std::vector<text_span>& addresses);

/// Capitalised words that are a person's name rather than a street, a heading, an institution or a title:
/// not after a house number, not before a colon, no word from the common-word list.
bool plausible_bare_name(std::string_view text, text_span span);

/// Applies the span rule to a raw match; nullopt when nothing identifying is left.
std::optional<text_span> apply_span_rule(span_rule rule, std::string_view text, text_span raw);

/// The whole cell is shaped like a person's name: one to five capitalised words, initials or particles.
bool looks_like_person_name(std::string_view cell);

/// The whole cell is shaped like a street line: a house number followed by a word.
bool looks_like_street_line(std::string_view cell);

/// `text` with leading and trailing ASCII white space removed, as a span of `text`.
text_span trimmed(std::string_view text);

}  // namespace phigate::masking

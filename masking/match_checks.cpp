#include "masking/match_checks.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>

namespace phigate::masking {
namespace {

// ASCII only, as std::isalnum reads it in the "C" locale the gateway runs in; inline because the word
// checks call it for every byte of a cell.
bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_joiner(char c) {
  return c == '.' || c == '-' || c == '/' || c == ':';
}
// ";", "|", a line break, or a full stop / "!" / "?" followed by a space end a clause.
bool is_clause_break(std::string_view text, std::size_t i) {
  char c = text[i];
  if (c == ';' || c == '|' || c == '\n') return true;
  return (c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || text[i + 1] == ' ');
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool word_at(std::string_view text, std::size_t at, std::string_view word) {
  if (at + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(text[at + i]) != word[i]) return false;
  }
  bool left = at == 0 || !is_alnum(text[at - 1]);
  bool right = at + word.size() == text.size() || !is_alnum(text[at + word.size()]);
  return left && right;
}

std::bitset<256> starts_between(std::string_view text, std::size_t from, std::size_t to) {
  std::bitset<256> starts;
  for (std::size_t at = from; at < to; ++at) {
    if (at == 0 || !is_alnum(text[at - 1])) starts.set(static_cast<unsigned char>(lower(text[at])));
  }
  return starts;
}

bool contains_word(std::string_view text, std::size_t from, std::size_t to,
                   const std::vector<std::string>& words, const std::bitset<256>& token_starts) {
  // Most words can be skipped without searching: their first letter begins no token of the text.
  for (const std::string& w : words) {
    if (w.empty() || to - from < w.size() || !token_starts.test(static_cast<unsigned char>(w[0]))) continue;
    for (std::size_t at = from; at + w.size() <= to; ++at) {
      if (lower(text[at]) == w[0] && word_at(text, at, w)) return true;
    }
  }
  return false;
}

bool contains_word(std::string_view text, std::size_t from, std::size_t to,
                   const std::vector<std::string>& words) {
  return contains_word(text, from, to, words, starts_between(text, from, to));
}

// Words that make a "..._name" column something other than a person.
constexpr std::array<std::string_view, 16> non_person_name_words = {
    "product", "file",  "host",    "user", "table",  "column", "schema",  "database",
    "drug",    "brand", "company", "org",  "device", "item",   "service", "app"};

bool is_name_token(std::string_view t) {
  static constexpr std::array<std::string_view, 12> particles = {"de",  "del", "della", "da", "di",  "van",
                                                                 "von", "la",  "le",    "du", "bin", "al"};
  if (std::find(particles.begin(), particles.end(), t) != particles.end()) return true;
  if (t.empty() || !std::isupper(static_cast<unsigned char>(t[0]))) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '\'' || c == '-' || c == '.' || c == ',';
  });
}

// Capitalised words that start many non-name phrases: titles, calendar words, institutions, street words.
constexpr std::array<std::string_view, 72> not_name_words = {
    "Order",      "Ref",       "Reference",  "Batch",     "Lot",      "Item",     "Account",    "Note",
    "Dr",         "Mr",        "Mrs",        "Ms",        "Mx",       "Miss",     "Prof",       "Pt",
    "Patient",    "Nurse",     "January",    "February",  "March",    "April",    "May",        "June",
    "July",       "August",    "September",  "October",   "November", "December", "Monday",     "Tuesday",
    "Wednesday",  "Thursday",  "Friday",     "Saturday",  "Sunday",   "Hospital", "Clinic",     "Medical",
    "Center",     "Health",    "Healthcare", "Insurance", "Medicare", "Medicaid", "University", "County",
    "Department", "General",   "Memorial",   "Saint",     "Street",   "Avenue",   "Road",       "Drive",
    "Lane",       "Boulevard", "Suite",      "Room",      "Unit",     "Floor",    "The",        "This",
    "That",       "Please",    "Thanks",     "Regards",   "Dear",     "Hello",    "Total",      "Invoice"};

bool left_edge_ok(std::string_view text, text_span span) {
  if (span.start == 0) return true;
  char before = text[span.start - 1];
  if (is_alnum(before)) return false;
  // ":" is left out on this side: "SSN:123-45-6789" is a label, not a longer token.
  return before == ':' || !is_joiner(before) || span.start == 1 || !is_alnum(text[span.start - 2]);
}

bool right_edge_ok(std::string_view text, text_span span) {
  if (span.end == text.size()) return true;
  char after = text[span.end];
  if (is_alnum(after)) return false;
  return !is_joiner(after) || span.end + 1 == text.size() || !is_alnum(text[span.end + 1]);
}

bool common_capitalised(std::string_view word) {
  return std::find(not_name_words.begin(), not_name_words.end(), word) != not_name_words.end();
}

}  // namespace

column_words::column_words(std::string_view column) {
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words_.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < column.size(); ++i) {
    char c = column[i];
    if (!is_alnum(c)) {
      flush();
      continue;
    }
    bool camel = i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
                 std::islower(static_cast<unsigned char>(column[i - 1]));
    if (camel) flush();
    current.push_back(lower(c));
  }
  flush();
  for (const std::string& w : words_) initials_ |= initial_bit(w);
  person_ = classify_person();
  street_ = classify_street();
  other_id_ = classify_other_identifier();
}

std::uint64_t column_words::initial_bit(std::string_view word) {
  return word.empty() ? 0 : std::uint64_t{1} << (static_cast<unsigned char>(word[0]) & 63);
}

bool column_words::has(std::string_view word) const {
  // Most words asked about begin with a letter no word of the column begins with.
  if ((initials_ & initial_bit(word)) == 0) return false;
  return std::find(words_.begin(), words_.end(), word) != words_.end();
}

bool column_words::has_any(const std::vector<std::string>& words) const {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) { return has(w); });
}

bool column_words::classify_person() const {
  static const std::vector<std::string> person_words = {
      "fullname", "patient", "surname", "firstname", "lastname", "physician", "doctor", "guarantor", "nok"};
  bool person = has_any(person_words) || (has("name") && words_.size() <= 3);
  if (!person) return false;
  return std::none_of(non_person_name_words.begin(), non_person_name_words.end(),
                      [&](std::string_view w) { return has(w); });
}

bool column_words::classify_street() const {
  static const std::vector<std::string> street_words = {"street",   "address", "addr",
                                                        "address1", "line1",   "streetaddress"};
  return has_any(street_words) && !has("email") && !has("ip") && !has("mac") && !has("web");
}

bool column_words::classify_other_identifier() const {
  static const std::vector<std::string> id_words = {
      "id",      "no",     "num",   "number",  "ref",  "order",  "sku", "tracking", "lot",
      "invoice", "serial", "build", "version", "code", "amount", "qty", "count",    "batch"};
  static const std::vector<std::string> phi_words = {
      "phone",   "fax", "mobile", "cell", "tel",     "contact", "card",    "cc",   "pan",
      "payment", "ssn", "npi",    "mrn",  "patient", "member",  "account", "acct", "medicare"};
  return has_any(id_words) && !has_any(phi_words);
}

bool token_edges_ok(std::string_view text, text_span span) {
  return left_edge_ok(text, span) && right_edge_ok(text, span);
}

bool date_time_edges_ok(std::string_view text, text_span span) {
  // ISO 8601 timestamps glue the time on with "T": "2024-03-05T10:22:00Z".
  bool time_follows = span.end + 1 < text.size() && text[span.end] == 'T' &&
                      std::isdigit(static_cast<unsigned char>(text[span.end + 1]));
  return left_edge_ok(text, span) && (time_follows || right_edge_ok(text, span));
}

bool context_word_near(std::string_view text, text_span span, const std::vector<std::string>& words,
                       std::size_t window) {
  // The context must belong to the same clause: "NPI 1234567893; order 1234567893" names only the first.
  std::size_t from = span.start > window ? span.start - window : 0;
  for (std::size_t i = span.start; i > from; --i) {
    if (is_clause_break(text, i - 1)) {
      from = i;
      break;
    }
  }
  if (contains_word(text, from, span.start, words)) return true;
  std::size_t to = std::min(text.size(), span.end + 12);
  for (std::size_t i = span.end; i < to; ++i) {
    if (is_clause_break(text, i)) {
      to = i;
      break;
    }
  }
  return contains_word(text, span.end, to, words);
}

bool context_word_in(std::string_view text, const std::vector<std::string>& words) {
  return contains_word(text, 0, text.size(), words);
}

token_starts first_letters(std::string_view text) {
  return starts_between(text, 0, text.size());
}

bool context_word_in(std::string_view text, const std::vector<std::string>& words,
                     const token_starts& starts) {
  return contains_word(text, 0, text.size(), words, starts);
}

bool may_hold_address(std::string_view text) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  bool digit_seen = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') digit_seen = true;
    if (!upper(c)) continue;
    if (digit_seen && i > 0 && text[i - 1] == ' ') return true;
    if (i + 2 < text.size() && upper(text[i + 1]) && text[i + 2] == ' ') return true;
  }
  return false;
}

bool zip5_follows_address(std::string_view text, text_span span, const std::vector<text_span>& addresses) {
  // "City, ST 01105": a two-letter upper-case state code right before.
  if (span.start >= 3 && text[span.start - 1] == ' ' &&
      std::isupper(static_cast<unsigned char>(text[span.start - 2])) &&
      std::isupper(static_cast<unsigned char>(text[span.start - 3])) &&
      (span.start == 3 || !is_alnum(text[span.start - 4]))) {
    return true;
  }
  // After a street address, with only a city and punctuation in between.
  for (const text_span& a : addresses) {
    if (a.end > span.start || span.start - a.end > 48) continue;
    std::string_view gap = text.substr(a.end, span.start - a.end);
    bool only_city = std::all_of(gap.begin(), gap.end(), [](char c) {
      return std::isalpha(static_cast<unsigned char>(c)) || c == ' ' || c == ',' || c == '.';
    });
    if (only_city) return true;
  }
  return false;
}

bool plausible_bare_name(std::string_view text, text_span span) {
  std::size_t p = span.start;
  while (p > 0 && text[p - 1] == ' ') --p;
  // After a house number the words are a street; before a colon they are a heading ("Home Address:").
  if (p > 0 && std::isdigit(static_cast<unsigned char>(text[p - 1]))) return false;
  if (span.end < text.size() && text[span.end] == ':') return false;
  std::string_view words = text.substr(span.start, span.end - span.start);
  for (std::size_t i = 0; i < words.size();) {
    std::size_t j = words.find(' ', i);
    if (j == std::string_view::npos) j = words.size();
    if (common_capitalised(words.substr(i, j - i))) return false;
    i = j + 1;
  }
  return true;
}

std::optional<text_span> apply_span_rule(span_rule rule, std::string_view text, text_span raw) {
  if (rule == span_rule::trim_punctuation) {
    static constexpr std::string_view trailing = ".,;:!?)]'\"";
    while (raw.end > raw.start && trailing.find(text[raw.end - 1]) != std::string_view::npos) {
      // Keep a closing parenthesis that closes one opened inside the URL ("/wiki/A_(b)").
      if (text[raw.end - 1] == ')') {
        std::string_view url = text.substr(raw.start, raw.end - raw.start);
        if (std::count(url.begin(), url.end(), '(') >= std::count(url.begin(), url.end(), ')')) break;
      }
      --raw.end;
    }
  } else if (rule == span_rule::after_title) {
    std::size_t space = text.find(' ', raw.start);
    if (space == std::string_view::npos || space >= raw.end) return std::nullopt;
    raw.start = space;
    while (raw.start < raw.end && text[raw.start] == ' ') ++raw.start;
  }
  if (raw.end <= raw.start) return std::nullopt;
  return raw;
}

bool looks_like_person_name(std::string_view cell) {
  text_span t = trimmed(cell);
  std::string_view s = cell.substr(t.start, t.end - t.start);
  if (s.empty() || s.size() > 80) return false;
  int tokens = 0;
  bool has_letters = false;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view token = s.substr(i, j - i);
    if (token.empty() || !is_name_token(token) || ++tokens > 5) return false;
    has_letters = has_letters || token.size() > 2;
    i = j + 1;
  }
  return has_letters;
}

bool looks_like_street_line(std::string_view cell) {
  text_span t = trimmed(cell);
  std::string_view s = cell.substr(t.start, t.end - t.start);
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  return digits >= 1 && digits <= 6 && digits + 2 < s.size() && s[digits] == ' ' &&
         std::isalpha(static_cast<unsigned char>(s[digits + 1]));
}

text_span trimmed(std::string_view text) {
  std::size_t start = 0, end = text.size();
  while (start < end && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  while (end > start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return {start, end};
}

}  // namespace phigate::masking

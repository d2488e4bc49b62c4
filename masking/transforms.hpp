// What a detected identifier becomes. Pure functions over the text of one detection; no I/O.
//
// Every transform writes only ASCII letters, digits, '*', '[', ']', '_' and the separators it found in its
// input. It never introduces a delimiter, quote, backslash or line break that was not already there, so a
// value rewritten in place stays well formed inside a text column, a JSON string, a COPY text line and a
// COPY CSV line.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "masking/entity_type.hpp"

namespace phigate::masking {

/// The transforms a masking rule can name.
enum class transform_kind {
  redact,            ///< "[SSN]": the type tag in brackets
  partial,           ///< "***-**-6789": letters and digits starred except the last N; separators kept
  pseudonym,         ///< keyed, deterministic, format-preserving replacement
  hash,              ///< keyed HMAC-SHA256 in lower-case hex, truncated
  null,              ///< the whole cell becomes SQL NULL (inside running text: redact)
  safe_harbor_date,  ///< the year only ("1958"); a date with no recognizable year is redacted
  zip3,              ///< the first three digits + "00"; sparsely populated ZIP3 areas become "00000"
};

/// Lower-case name as written in the config ("safe_harbor_date").
std::string_view to_string(transform_kind kind);
/// Inverse of to_string (exact, lower case); nullopt for unknown names.
std::optional<transform_kind> parse_transform_kind(std::string_view name);

/// A secret for the keyed transforms. `id` names the key (for audit and rotation); it is never mixed into
/// the output, so a key keeps its pseudonyms when renamed.
struct masking_key {
  std::string id;
  std::string bytes;
};

/// How each detected entity type is masked.
struct masking_rules {
  transform_kind default_transform = transform_kind::redact;
  std::map<entity_type, transform_kind> per_type;
  std::size_t partial_keep = 4;     ///< characters (letters and digits) left in clear by partial
  std::size_t hash_hex_chars = 16;  ///< hex digits kept by hash (1..64)
  std::optional<masking_key> key;   ///< required when any transform is pseudonym or hash

  transform_kind transform_for(entity_type type) const;
  /// True when some rule (the default or a per-type one) is pseudonym or hash.
  bool needs_key() const;
};

/// "[LABEL]" where LABEL keeps only A-Z, 0-9 and '_' of `label` (lower case is upper-cased).
std::string redact(std::string_view label);

/// Stars every letter and digit except the last `keep` ones; every other character stays. Non-ASCII code
/// points count as letters and become one '*' each.
std::string partial(std::string_view value, std::size_t keep);

/// Deterministic format-preserving pseudonym under `key`: digits stay digits, ASCII letters stay letters of
/// the same case, non-ASCII code points become lower-case ASCII letters, everything else stays. The keyed
/// stream is seeded from the letters and digits alone, case-folded, so "123-45-6789" and "123 45 6789", or
/// "Ann@x.org" and "ann@x.org", map to the same letters and digits.
std::string pseudonym(std::string_view value, const masking_key& key);

/// Lower-case hex HMAC-SHA256(key, value), cut to `hex_chars` (1..64; larger values keep all 64).
std::string keyed_hash(std::string_view value, const masking_key& key, std::size_t hex_chars);

/// The four-digit year in a date as written ("1958-08-28", "August 28, 1958", "6/24/1944", "19580828"):
/// the first run of exactly four digits, or the first four of a bare eight-digit run. nullopt when there is
/// none. Safe Harbor also aggregates ages over 89: a year more than 89 years before `current_year` becomes
/// current_year - 90, so no date reveals an age above 90. Every date is treated so, since a date of birth
/// cannot be told from other dates by its text.
std::optional<std::string> safe_harbor_year(std::string_view date_text, int current_year);
/// The same with the current year in UTC.
std::optional<std::string> safe_harbor_year(std::string_view date_text);

/// First three digits + "00" ("05659-5911" → "05600"); "00000" for the ZIP3 areas HHS lists as holding
/// 20,000 people or fewer. nullopt when the value has fewer than three digits.
std::optional<std::string> zip3(std::string_view zip);

}  // namespace phigate::masking

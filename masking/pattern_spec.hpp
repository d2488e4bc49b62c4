// One expression of the compiled Hyperscan database and what the second stage does with its matches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "masking/detector_config.hpp"
#include "masking/entity_type.hpp"
#include "masking/validators.hpp"

namespace phigate::masking {

/// How a raw match span becomes a detection span.
enum class span_rule {
  as_matched,        ///< the match is the identifier
  free_edges,        ///< e-mail, URL: no word-boundary test (leftmost-longest already found the edges)
  trim_punctuation,  ///< URL: drop trailing ".,;:!?)" that belong to the sentence
  after_title,       ///< PERSON: the match starts with a title ("Dr.", "Pt"); the name is what follows
  bare_name,         ///< PERSON without a title: only inside a sentence and not common capitalised words
};

/// Extra evidence a candidate needs besides its shape and validator.
enum class context_rule {
  none,      ///< shape + validator are enough
  required,  ///< a context word nearby or a column hint
  zip5,      ///< required, or right after a street address / a two-letter state code
  /// none, except in a column that names some other identifier ("order_id", "sku", "tracking_no"): there
  /// only a context word or a column hint counts (ten digits in order_id are not a phone number)
  not_other_id_column,
};

/// A compiled expression and its second stage.
struct pattern_spec {
  entity_type type = entity_type::custom;
  std::string expression;
  /// Stage-1 expression: a necessary condition for `expression` (empty: the expression itself). Specs with
  /// the same trigger share one stage-1 expression, which keeps the always-paid scan small.
  std::string trigger;
  bool caseless = false;
  validator_kind validator = validator_kind::none;
  span_rule span = span_rule::as_matched;
  context_rule context = context_rule::none;
  std::vector<std::string> context_words;  ///< lower case
  std::vector<std::string> column_hints;   ///< lower case column-name words
  int priority = 0;                        ///< wins ties between identical or overlapping spans
  std::uint32_t custom_index = 0;          ///< for entity_type::custom
};

/// The built-in expressions for every type not disabled in `config`, then the MRN shapes.
std::vector<pattern_spec> builtin_pattern_specs(const detector_config& config);

}  // namespace phigate::masking

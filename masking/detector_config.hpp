// What a detector_set is compiled from. The gateway configuration fills these structs (YAML loading lives
// in gateway/); the defaults enable every built-in detector.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "masking/entity_type.hpp"

namespace phigate::masking {

/// A medical-record-number shape. Hospitals number charts differently, so the shapes are configuration.
struct mrn_shape {
  std::string pattern;         ///< Hyperscan (PCRE subset) expression for the whole identifier
  bool needs_context = false;  ///< true: only with an MRN context word nearby or an MRN-like column name
};

/// The default MRN shapes: "MRN-12345678", "MRN12345678", "MRN: 1234567" and "MR123456" anywhere; one
/// letter + 7-9 digits ("H17397583") and bare 6-10 digit numbers only with context.
std::vector<mrn_shape> default_mrn_shapes();

/// A detector defined in configuration.
struct custom_detector_config {
  std::string name;     ///< reported label, e.g. "EMPLOYEE_ID"
  std::string pattern;  ///< Hyperscan expression (PCRE subset: no backreferences or lookaround)
  /// Optional validator run on each candidate: "", "luhn", "credit_card", "npi", "dea", "mbi", "iban",
  /// "aba", "ssn", "phone", "ipv4", "ipv6" or "date".
  std::string validator;
  /// When non-empty, a match counts only if one of these words (case-insensitive, whole words) appears
  /// within context_window_bytes before or just after it, or a column hint matches.
  std::vector<std::string> context_words;
  /// Column-name words that stand in for context ("emp_id" has the words "emp" and "id").
  std::vector<std::string> column_hints;
  bool case_insensitive = false;
};

/// Everything a detector_set is compiled from.
struct detector_config {
  /// Built-in detectors switched off (everything else is on).
  std::vector<entity_type> disabled;
  std::vector<mrn_shape> mrn_shapes = default_mrn_shapes();
  std::vector<custom_detector_config> custom;
  /// How far before a candidate the context words are looked for.
  std::size_t context_window_bytes = 40;
  /// Raw Hyperscan matches one cell may produce before scanning stops and the whole cell is reported as
  /// entity_type::unclassified (fail closed on adversarial input).
  std::size_t max_matches_per_cell = 4096;
};

}  // namespace phigate::masking

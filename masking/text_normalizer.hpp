// Folds look-alike characters to ASCII before matching, keeping a map back to the original bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::masking {

/// The normalized form of one cell plus, for every normalized byte, the original byte range it came from.
///
/// Folded: full-width digits, letters, "@", ".", "-", "(", ")", "+", "/" and ":" (U+FF01-FF5E) to ASCII;
/// Unicode dashes (U+2010-2015, U+2212, U+FE58, U+FE63) to "-"; non-breaking and typographic spaces (U+00A0,
/// U+2000-200A, U+202F, U+205F, U+3000) to " "; zero-width characters (U+200B-200D, U+2060, U+FEFF) and the
/// soft hyphen (U+00AD) are dropped. Every other byte is copied as is, so invalid UTF-8 passes through.
class text_normalizer {
 public:
  /// Normalizes `text`. Returns false (and leaves the object describing `text` unchanged) when the text is
  /// pure ASCII, which is the common case: then offsets need no mapping.
  bool normalize(std::string_view text);

  /// The normalized text (valid after normalize returned true).
  std::string_view text() const { return text_; }

  /// Original byte offset where normalized byte `i` starts.
  std::size_t original_start(std::size_t i) const { return start_[i]; }

  /// Original byte offset just past normalized byte `i`.
  std::size_t original_end(std::size_t i) const { return end_[i]; }

 private:
  std::string text_;
  std::vector<std::size_t> start_;
  std::vector<std::size_t> end_;
};

}  // namespace phigate::masking

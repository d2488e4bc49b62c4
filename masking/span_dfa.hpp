// Where one expression matches in a short text, without Hyperscan: a forward, unanchored DFA finds the
// offsets where matches end; from each, a reverse, anchored DFA of the same expression walks back and the
// last accepting position it passes is the leftmost start. That is what Hyperscan reports for an expression
// compiled with HS_FLAG_SOM_LEFTMOST (every end offset, with the leftmost start of a match ending there), at
// a fraction of a Hyperscan call's fixed cost on a 20-byte cell. The walk back makes the work quadratic in
// the worst case, so callers keep Hyperscan for long texts.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "masking/dfa_build.hpp"

namespace phigate::masking {

class span_dfa {
 public:
  /// The finder for `expression` (PCRE, the subset trigger_regex reads), or nullopt when it cannot be read or
  /// either table would need more than `max_states` states.
  static std::optional<span_dfa> build(std::string_view expression, bool caseless, std::size_t max_states);

  /// Calls on_match(from, to) for every match end `to` in `text`, in increasing order, with the leftmost
  /// `from`; stops early when on_match returns false.
  template <typename OnMatch>
  void find(std::string_view text, OnMatch&& on_match) const {
    std::uint32_t state = forward_.start;
    for (std::size_t end = 0; end < text.size(); ++end) {
      state = forward_.step(state, static_cast<unsigned char>(text[end]));
      if (!forward_.accepting(state)) continue;
      if (!on_match(leftmost_start(text, end + 1), end + 1)) return;
    }
  }

 private:
  std::size_t leftmost_start(std::string_view text, std::size_t end) const;

  dfa_table forward_;
  dfa_table backward_;
};

}  // namespace phigate::masking

// Table-driven automata from trigger_regex parse trees: the Glushkov construction (one position per byte
// set), then the subset construction. Shared by the stage-1 screen (trigger_dfa) and the span finder
// (span_dfa).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "masking/trigger_regex.hpp"

namespace phigate::masking {

/// A DFA as a table. States are row offsets: next[state + byte_class[byte]] is the next state. The accepting
/// states are numbered last, so `state >= first_accepting` tells them apart with one compare, and
/// accepts[(state - first_accepting) / class_count] says which expressions they complete.
struct dfa_table {
  static constexpr std::uint32_t no_state = std::numeric_limits<std::uint32_t>::max();

  std::vector<std::uint32_t> next;
  std::vector<std::uint64_t> accepts;
  std::uint8_t byte_class[256] = {};
  std::uint32_t class_count = 0;
  std::uint32_t start = 0;
  std::uint32_t first_accepting = 0;
  /// The state no input leaves and none accepts (anchored tables; no_state when there is none).
  std::uint32_t dead = no_state;

  std::size_t state_count() const { return class_count == 0 ? 0 : next.size() / class_count; }
  std::uint32_t step(std::uint32_t state, unsigned char byte) const { return next[state + byte_class[byte]]; }
  bool accepting(std::uint32_t state) const { return state >= first_accepting; }
};

namespace dfa_build {

using trigger_regex::node;

/// `n` matches the empty string.
bool nullable(const node& n);

/// The expression that matches the reverse of every string `n` matches.
node reversed(const node& n);

/// The DFA of the union of `forms` (expression bit -> form; bits below 64). Unanchored: a match may begin
/// at every byte (the table finds matches anywhere in a text, reporting where they end); anchored: only at
/// the first byte walked. nullopt when the table needs more than `max_states` states, a form matches the
/// empty string, or there is nothing to build.
std::optional<dfa_table> build(const std::vector<std::pair<std::size_t, node>>& forms, std::size_t max_states,
                               bool anchored = false);

}  // namespace dfa_build
}  // namespace phigate::masking

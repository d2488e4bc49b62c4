#include "masking/span_dfa.hpp"

#include "masking/trigger_regex.hpp"

namespace phigate::masking {

std::optional<span_dfa> span_dfa::build(std::string_view expression, bool caseless, std::size_t max_states) {
  std::optional<trigger_regex::node> parsed = trigger_regex::parse_exact(expression, caseless);
  if (!parsed) return std::nullopt;
  std::optional<dfa_table> forward = dfa_build::build({{0, *parsed}}, max_states);
  if (!forward) return std::nullopt;
  std::optional<dfa_table> backward = dfa_build::build({{0, dfa_build::reversed(*parsed)}}, max_states, true);
  if (!backward) return std::nullopt;
  span_dfa finder;
  finder.forward_ = std::move(*forward);
  finder.backward_ = std::move(*backward);
  return finder;
}

std::size_t span_dfa::leftmost_start(std::string_view text, std::size_t end) const {
  // A match ends at `end`, so the walk back accepts at least once before it dies or reaches the text's start.
  std::size_t start = end;
  std::uint32_t state = backward_.start;
  for (std::size_t at = end; at-- > 0;) {
    state = backward_.step(state, static_cast<unsigned char>(text[at]));
    if (state == backward_.dead) break;
    if (backward_.accepting(state)) start = at;
  }
  return start;
}

}  // namespace phigate::masking

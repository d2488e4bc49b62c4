// A table-driven automaton that tells which stage-1 expressions may match a cell.
//
// Hyperscan runs the stage-1 database at roughly 20 ns a byte on short, digit-dense cells: every expression
// starts with a character class (\d, [A-Z]) that occurs all the time, so its literal accelerators never get
// to skip. A precompiled DFA walks a cell with one table load per byte. It answers a weaker question than
// Hyperscan (the expressions are relaxed to keep the table small, see trigger_dfa.cpp), so a bit it reports
// only means "maybe"; stage 2 then scans that expression's exact database, which finds nothing when the
// expression does not match. A clear bit is a guarantee: every match of an expression contains a match of
// its relaxed form, so no detection is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::masking {

/// One stage-1 expression as Hyperscan compiles it (PCRE syntax, optionally caseless).
struct trigger_source {
  std::string expression;
  bool caseless = false;
};

class trigger_dfa {
 public:
  /// At most this many expressions can have a bit in scan()'s result.
  static constexpr std::size_t max_expressions = 64;

  trigger_dfa() = default;

  /// Builds the automaton for the expressions it can read (the PCRE subset without anchors, word
  /// boundaries, back references and look-around). The first max_expressions readable ones get a bit; the
  /// others are reported by covers() as not covered and must be screened some other way. Relaxes the
  /// expressions further until the table has at most `max_states` states.
  static trigger_dfa build(const std::vector<trigger_source>& sources, std::size_t max_states = 8192);

  /// Bit i set: expression i may match somewhere in `text`. Bits of uncovered expressions are never set.
  std::uint64_t scan(std::string_view text) const { return walk(text); }

  /// Expression i has a bit in scan()'s result.
  bool covers(std::size_t i) const { return i < covered_.size() && covered_[i]; }

  /// How many states the table holds (0 when nothing is covered).
  std::size_t state_count() const { return class_count_ == 0 ? 0 : next_.size() / class_count_; }

 private:
  std::uint64_t walk(std::string_view text) const {
    if (next_.empty()) return 0;
    std::uint32_t state = start_;
    std::uint64_t maybe = 0;
    for (char c : text) {
      state = next_[state + byte_class_[static_cast<unsigned char>(c)]];
      // States are numbered so that the accepting ones come last: one compare on the common path.
      if (state >= first_accepting_) maybe |= accepts_[(state - first_accepting_) / class_count_];
    }
    return maybe;
  }
  static trigger_dfa from_table(const std::uint8_t (&byte_class)[256], std::size_t classes,
                                const std::vector<std::uint32_t>& next,
                                const std::vector<std::uint64_t>& accepts, std::vector<bool> covered);

  std::vector<std::uint32_t> next_;  // state row offset + byte class -> next state's row offset
  std::vector<std::uint64_t> accepts_;
  std::uint8_t byte_class_[256] = {};
  std::uint32_t class_count_ = 0;
  std::uint32_t start_ = 0;
  std::uint32_t first_accepting_ = 0;
  std::vector<bool> covered_;
};

}  // namespace phigate::masking

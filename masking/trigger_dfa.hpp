// A table-driven automaton that tells which stage-1 expressions may match a cell.
//
// Hyperscan runs the stage-1 database at roughly 20 ns a byte on short, digit-dense cells: every expression
// starts with a character class (\d, [A-Z]) that occurs all the time, so its literal accelerators never get
// to skip. A precompiled DFA walks a cell with one table load per byte and table. An expression that fits
// no table exactly is relaxed (see trigger_dfa.cpp): its bit then only means "maybe", and stage 2, which
// scans that expression's exact database, finds nothing when the expression does not match. A clear bit is
// always a guarantee: every match of an expression contains a match of its relaxed form, so no detection
// is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "masking/dfa_build.hpp"

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
  /// At most this many tables are walked side by side.
  static constexpr std::size_t max_tables = 4;

  trigger_dfa() = default;

  /// Builds the automaton for the expressions it can read (the PCRE subset without anchors, word
  /// boundaries, back references and look-around). The first max_expressions readable ones get a bit; the
  /// others are reported by covers() as not covered and must be screened some other way.
  ///
  /// The expressions are packed, exact, into up to max_tables tables of at most `max_states` states each:
  /// the states of one table grow roughly with the product of what its members track, so expressions that
  /// do not fit together go to the next table, and a cell walks every table in the same loop (independent
  /// loads, so the tables cost little more than one). What fits in none is relaxed in the last table until
  /// that table fits.
  static trigger_dfa build(const std::vector<trigger_source>& sources, std::size_t max_states = 8192);

  /// Bit i set: expression i may match somewhere in `text`. Bits of uncovered expressions are never set.
  std::uint64_t scan(std::string_view text) const;

  /// scan() for many cells: out[i] = scan(cells[i]). Four cells are walked side by side, so the table
  /// lookups of one cell overlap those of the others instead of each waiting for the one before.
  void scan_many(std::span<const std::string_view> cells, std::uint64_t* out) const;

  /// Expression i has a bit in scan()'s result.
  bool covers(std::size_t i) const { return i < covered_.size() && covered_[i]; }

  /// Expression i has a bit and it is exact: set exactly when the expression matches.
  bool exact(std::size_t i) const { return covers(i) && i < exact_.size() && exact_[i]; }

  /// How many states the tables hold together (0 when nothing is covered).
  std::size_t state_count() const;

  /// How many tables a scan walks.
  std::size_t table_count() const { return tables_.size(); }

  /// One table: a DFA over some of the expressions.
  using table = dfa_table;

 private:
  template <std::size_t N>
  std::uint64_t walk(std::string_view text) const;
  template <std::size_t N>
  void walk_four(const std::string_view* cells, std::uint64_t* out) const;

  std::vector<table> tables_;
  std::vector<bool> covered_;
  std::vector<bool> exact_;
};

}  // namespace phigate::masking

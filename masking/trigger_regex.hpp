// The expression syntax the DFAs read (trigger_dfa.cpp, span_dfa.cpp): a parse tree of byte sets.
#pragma once

#include <bitset>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace phigate::masking::trigger_regex {

constexpr unsigned unbounded = std::numeric_limits<unsigned>::max();
using byte_set = std::bitset<256>;

/// A parsed expression. Only what changes the language matters here: capturing and non-capturing groups are
/// the same, lazy quantifiers are the same as greedy ones (the set of strings that match does not change).
struct node {
  enum class kind { bytes, concat, alt, repeat } type = kind::concat;
  byte_set set;                // kind::bytes
  std::vector<node> children;  // concat, alt; repeat has one
  unsigned min = 1, max = 1;   // repeat
};

/// Reads the subset of PCRE that describes a set of strings without looking at the surroundings, with
/// Hyperscan's meaning of each construct or a superset of it (".", "\s"). Anything else (anchors, \b, back
/// references, look-around, inline options other than "(?i:") gives nullopt.
std::optional<node> parse(std::string_view expression, bool caseless);

/// parse(), but only where the reading is exactly Hyperscan's: "." and \s / \S give nullopt too.
std::optional<node> parse_exact(std::string_view expression, bool caseless);

}  // namespace phigate::masking::trigger_regex

#include "masking/trigger_dfa.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "masking/dfa_build.hpp"
#include "masking/trigger_regex.hpp"

namespace phigate::masking {
namespace {

using trigger_regex::byte_set;
using trigger_regex::node;
using trigger_regex::unbounded;

using dfa_build::nullable;

// Positions (byte sets) an exact expansion of `n` needs: x{2,5} is five copies of x, x{2,} three.
unsigned long long size(const node& n) {
  switch (n.type) {
    case node::kind::bytes:
      return 1;
    case node::kind::concat:
    case node::kind::alt: {
      unsigned long long sum = 0;
      for (const node& c : n.children) sum += size(c);
      return sum;
    }
    case node::kind::repeat: {
      unsigned long long copies = n.max == unbounded ? n.min + 1ull : n.max;
      return copies * size(n.children.front());
    }
  }
  return 0;
}

// Relaxation. prefix_of(n) gives an expression that a prefix of every match of `n` matches, with at most
// `budget` positions; `cut` says whether it stopped short of `n`, after which a sequence must stop too (what
// followed in `n` may now be anywhere). A cell that matches `n` therefore matches the result.
node prefix_of(const node& n, unsigned long long& budget, bool& cut) {
  if (size(n) <= budget) {
    budget -= size(n);
    return n;
  }
  // Whatever part of `n` is kept, a sequence stops after it (stopping early is always allowed: a prefix of
  // a prefix is a prefix).
  cut = true;
  node out{node::kind::concat};
  switch (n.type) {
    case node::kind::bytes:
      break;  // no budget left
    case node::kind::concat:
      for (const node& c : n.children) {
        bool inner_cut = false;
        out.children.push_back(prefix_of(c, budget, inner_cut));
        if (inner_cut) break;
      }
      break;
    case node::kind::alt: {
      node alt{node::kind::alt};
      unsigned long long left = budget;
      for (const node& c : n.children) {
        unsigned long long each = budget;
        bool inner_cut = false;
        alt.children.push_back(prefix_of(c, each, inner_cut));
        left = std::min(left, each);
      }
      budget = left;
      return alt;
    }
    case node::kind::repeat:
      // x{min,max} starts with x{min}; the optional copies after it are dropped.
      for (unsigned i = 0; i < n.min; ++i) {
        bool inner_cut = false;
        out.children.push_back(prefix_of(n.children.front(), budget, inner_cut));
        if (inner_cut) break;
      }
      break;
  }
  return out;
}

// The length of the shortest string `n` matches: how selective a relaxed form still is.
unsigned long long shortest(const node& n) {
  switch (n.type) {
    case node::kind::bytes:
      return 1;
    case node::kind::concat: {
      unsigned long long sum = 0;
      for (const node& c : n.children) sum += shortest(c);
      return sum;
    }
    case node::kind::alt: {
      unsigned long long least = std::numeric_limits<unsigned long long>::max();
      for (const node& c : n.children) least = std::min(least, shortest(c));
      return least;
    }
    case node::kind::repeat:
      return n.min * shortest(n.children.front());
  }
  return 0;
}

// An expression that some substring of every match of `n` matches, within `budget` and never matching the
// empty string; nullopt when none was found.
std::optional<node> relaxed(const node& n, unsigned long long budget) {
  if (n.type == node::kind::alt) {
    node alt{node::kind::alt};
    for (const node& c : n.children) {
      std::optional<node> r = relaxed(c, budget);
      if (!r) return std::nullopt;
      alt.children.push_back(std::move(*r));
    }
    return alt;
  }
  if (n.type != node::kind::concat) {
    bool cut = false;
    node r = prefix_of(n, budget, cut);
    return shortest(r) == 0 ? std::nullopt : std::optional<node>(std::move(r));
  }
  // Any run of consecutive parts is matched inside every match. Keep the run whose relaxed form needs the
  // longest string: an optional part that does not fit ends a prefix, so a later start can be better.
  std::optional<node> best;
  for (std::size_t from = 0; from < n.children.size(); ++from) {
    if (nullable(n.children[from])) continue;
    node rest{node::kind::concat};
    rest.children.assign(n.children.begin() + static_cast<std::ptrdiff_t>(from), n.children.end());
    unsigned long long left = budget;
    bool cut = false;
    node r = prefix_of(rest, left, cut);
    if (shortest(r) > 0 && (!best || shortest(r) > shortest(*best))) best = std::move(r);
  }
  return best;
}

// The last table: `fixed` as they are, plus `loose`, each relaxed until its own automaton is small (the
// union grows roughly with the product of what its members track); that limit tightens until the union
// fits; a member whose own automaton stays too large even relaxed is left out. `covered` and `exact` learn
// which of `loose` made it in and which kept their exact form.
std::optional<dfa_table> relaxed_table(const std::vector<std::pair<std::size_t, node>>& fixed,
                                       const std::vector<std::pair<std::size_t, node>>& loose,
                                       std::size_t max_states, std::vector<bool>& covered,
                                       std::vector<bool>& exact) {
  static constexpr unsigned long long budgets[] = {
      std::numeric_limits<unsigned long long>::max(), 48, 32, 24, 16, 12, 8, 6, 4, 3, 2};
  static constexpr std::size_t largest_own = 64;
  struct option {
    node form;
    std::size_t states;
  };
  std::vector<std::vector<option>> options(loose.size());  // per expression, most exact first
  for (std::size_t m = 0; m < loose.size(); ++m) {
    for (unsigned long long budget : budgets) {
      std::optional<node> r = relaxed(loose[m].second, budget);
      if (!r) continue;
      std::optional<dfa_table> t = dfa_build::build({{0, *r}}, largest_own + 1);
      std::size_t states = t ? t->state_count() : largest_own + 1;
      options[m].push_back({std::move(*r), states});
      if (states <= 8) break;
    }
  }
  for (std::size_t own_limit = largest_own; own_limit >= 8; own_limit /= 2) {
    std::vector<std::pair<std::size_t, node>> forms = fixed;
    std::vector<std::size_t> kept_exact, kept;
    for (std::size_t m = 0; m < loose.size(); ++m) {
      auto fits = std::find_if(options[m].begin(), options[m].end(),
                               [&](const option& o) { return o.states <= own_limit; });
      if (fits == options[m].end()) continue;
      forms.emplace_back(loose[m].first, fits->form);
      kept.push_back(loose[m].first);
      if (fits == options[m].begin() && size(loose[m].second) == size(fits->form))
        kept_exact.push_back(loose[m].first);
    }
    if (std::optional<dfa_table> t = dfa_build::build(forms, max_states)) {
      for (std::size_t i : kept) covered[i] = true;
      for (std::size_t i : kept_exact) exact[i] = true;
      return t;
    }
  }
  return std::nullopt;
}

}  // namespace

std::size_t trigger_dfa::state_count() const {
  std::size_t states = 0;
  for (const table& t : tables_) states += t.state_count();
  return states;
}

namespace {

// One step of one table: the next state, and the expressions an accepting state completes.
inline void step(const dfa_table& t, std::uint32_t& state, unsigned char byte, std::uint64_t& maybe) {
  state = t.step(state, byte);
  if (t.accepting(state)) maybe |= t.accepts[(state - t.first_accepting) / t.class_count];
}

}  // namespace

template <std::size_t N>
std::uint64_t trigger_dfa::walk(std::string_view text) const {
  std::uint32_t state[N];
  for (std::size_t k = 0; k < N; ++k) state[k] = tables_[k].start;
  std::uint64_t maybe = 0;
  for (char c : text) {
    for (std::size_t k = 0; k < N; ++k) step(tables_[k], state[k], static_cast<unsigned char>(c), maybe);
  }
  return maybe;
}

template <std::size_t N>
void trigger_dfa::walk_four(const std::string_view* cells, std::uint64_t* out) const {
  constexpr std::size_t lanes = 4;
  std::uint32_t state[lanes][N];
  std::uint64_t maybe[lanes] = {};
  std::size_t common = cells[0].size();
  for (std::size_t l = 0; l < lanes; ++l) {
    common = std::min(common, cells[l].size());
    for (std::size_t k = 0; k < N; ++k) state[l][k] = tables_[k].start;
  }
  for (std::size_t i = 0; i < common; ++i) {
    for (std::size_t l = 0; l < lanes; ++l) {
      const auto byte = static_cast<unsigned char>(cells[l][i]);
      for (std::size_t k = 0; k < N; ++k) step(tables_[k], state[l][k], byte, maybe[l]);
    }
  }
  for (std::size_t l = 0; l < lanes; ++l) {
    for (std::size_t i = common; i < cells[l].size(); ++i) {
      const auto byte = static_cast<unsigned char>(cells[l][i]);
      for (std::size_t k = 0; k < N; ++k) step(tables_[k], state[l][k], byte, maybe[l]);
    }
    out[l] = maybe[l];
  }
}

std::uint64_t trigger_dfa::scan(std::string_view text) const {
  switch (tables_.size()) {
    case 0:
      return 0;
    case 1:
      return walk<1>(text);
    case 2:
      return walk<2>(text);
    case 3:
      return walk<3>(text);
    default:
      return walk<4>(text);
  }
}

void trigger_dfa::scan_many(std::span<const std::string_view> cells, std::uint64_t* out) const {
  std::size_t i = 0;
  for (; i + 4 <= cells.size(); i += 4) {
    switch (tables_.size()) {
      case 0:
        std::fill(out + i, out + i + 4, 0);
        break;
      case 1:
        walk_four<1>(cells.data() + i, out + i);
        break;
      case 2:
        walk_four<2>(cells.data() + i, out + i);
        break;
      case 3:
        walk_four<3>(cells.data() + i, out + i);
        break;
      default:
        walk_four<4>(cells.data() + i, out + i);
    }
  }
  for (; i < cells.size(); ++i) out[i] = scan(cells[i]);
}

namespace {

using group = std::vector<std::pair<std::size_t, node>>;

// Exact tables: each takes the longest run of `pending` that fits (found by bisection, which keeps the
// number of subset constructions low), up to max_tables of them. What fits in none ends in `rest`.
struct exact_packing {
  std::vector<group> groups;
  std::vector<std::optional<dfa_table>> tables;  // each group's table
  group rest;
};

exact_packing pack_exactly(group pending, std::size_t max_states) {
  exact_packing out;
  auto prefix = [&](std::size_t n) {
    return group(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
  };
  while (!pending.empty() && out.groups.size() < trigger_dfa::max_tables) {
    std::size_t fits = 0, too_many = pending.size() + 1;  // prefix(fits) fits, prefix(too_many) does not
    std::optional<dfa_table> best = dfa_build::build(pending, max_states);
    if (best) fits = pending.size();
    while (fits + 1 < too_many) {
      std::size_t middle = (fits + too_many) / 2;
      if (std::optional<dfa_table> t = dfa_build::build(prefix(middle), max_states)) {
        best = std::move(t);
        fits = middle;
      } else {
        too_many = middle;
      }
    }
    if (fits == 0) {
      out.rest.push_back(std::move(pending.front()));  // too large alone: relaxed
      pending.erase(pending.begin());
      continue;
    }
    out.groups.push_back(prefix(fits));
    out.tables.push_back(std::move(best));
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(fits));
  }
  for (auto& member : pending) out.rest.push_back(std::move(member));
  return out;
}

}  // namespace

trigger_dfa trigger_dfa::build(const std::vector<trigger_source>& sources, std::size_t max_states) {
  trigger_dfa dfa;
  dfa.covered_.assign(sources.size(), false);
  dfa.exact_.assign(sources.size(), false);
  group readable;
  for (std::size_t i = 0; i < sources.size() && i < max_expressions; ++i) {
    std::optional<node> parsed = trigger_regex::parse(sources[i].expression, sources[i].caseless);
    if (parsed && !nullable(*parsed)) readable.emplace_back(i, std::move(*parsed));
  }
  exact_packing packed = pack_exactly(std::move(readable), max_states);
  auto& [groups, built, rest] = packed;
  // The last table takes the rest, relaxed; if the rest does not fit beside that table's exact members,
  // they are relaxed with it. What still does not fit stays uncovered (Hyperscan screens it).
  if (!rest.empty()) {
    if (groups.empty()) {
      groups.emplace_back();
      built.emplace_back();
    }
    std::optional<dfa_table> t = relaxed_table(groups.back(), rest, max_states, dfa.covered_, dfa.exact_);
    group all = groups.back();
    all.insert(all.end(), rest.begin(), rest.end());
    if (!t && !groups.back().empty() && (t = relaxed_table({}, all, max_states, dfa.covered_, dfa.exact_)))
      groups.back().clear();  // its members are now among the relaxed ones
    if (t) built.back() = std::move(t);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!built[g]) continue;
    dfa.tables_.push_back(std::move(*built[g]));
    for (const auto& member : groups[g]) dfa.covered_[member.first] = dfa.exact_[member.first] = true;
  }
  return dfa;
}

}  // namespace phigate::masking

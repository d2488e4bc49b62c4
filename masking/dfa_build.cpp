#include "masking/dfa_build.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace phigate::masking::dfa_build {
namespace {

using trigger_regex::byte_set;
using trigger_regex::unbounded;

// Glushkov construction: one state per byte set, `follow` says which may come next.
struct positions {
  std::vector<byte_set> sets;
  std::vector<std::vector<std::uint32_t>> follow;
};

struct glushkov {
  bool nullable = true;
  std::vector<std::uint32_t> first, last;
};

void append(std::vector<std::uint32_t>& to, const std::vector<std::uint32_t>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

void then(glushkov& acc, glushkov next, positions& p) {
  for (std::uint32_t l : acc.last) append(p.follow[l], next.first);
  if (acc.nullable) append(acc.first, next.first);
  if (next.nullable) append(next.last, acc.last);
  acc.last = std::move(next.last);
  acc.nullable = acc.nullable && next.nullable;
}

glushkov build_positions(const node& n, positions& p) {
  glushkov g;
  switch (n.type) {
    case node::kind::bytes:
      p.sets.push_back(n.set);
      p.follow.emplace_back();
      g.nullable = false;
      g.first = g.last = {static_cast<std::uint32_t>(p.sets.size() - 1)};
      break;
    case node::kind::concat:
      for (const node& c : n.children) then(g, build_positions(c, p), p);
      break;
    case node::kind::alt:
      g.nullable = false;
      for (const node& c : n.children) {
        glushkov b = build_positions(c, p);
        g.nullable = g.nullable || b.nullable;
        append(g.first, b.first);
        append(g.last, b.last);
      }
      break;
    case node::kind::repeat: {
      const node& x = n.children.front();
      for (unsigned i = 0; i < n.min; ++i) then(g, build_positions(x, p), p);
      if (n.max == unbounded) {
        glushkov loop = build_positions(x, p);
        for (std::uint32_t l : loop.last) append(p.follow[l], loop.first);
        loop.nullable = true;
        then(g, std::move(loop), p);
      }
      for (unsigned i = n.min; n.max != unbounded && i < n.max; ++i) {
        glushkov optional = build_positions(x, p);
        optional.nullable = true;
        then(g, std::move(optional), p);
      }
      break;
    }
  }
  return g;
}

void sort_unique(std::vector<std::uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The expressions as one Glushkov automaton, ready for the subset construction.
struct combined {
  positions p;
  std::vector<std::uint32_t> starts;   // first positions of every expression
  bool anchored = false;               // starts only before the first byte
  std::vector<std::uint64_t> accepts;  // position -> expressions it completes
  std::uint8_t byte_class[256] = {};
  std::vector<std::uint8_t> class_byte;  // one byte of each class
};

bool assign_byte_classes(combined& c) {
  // Bytes that no position tells apart share a class, which keeps the table narrow.
  std::map<std::vector<bool>, std::uint8_t> seen;
  for (unsigned b = 0; b < 256; ++b) {
    std::vector<bool> signature(c.p.sets.size());
    for (std::size_t i = 0; i < c.p.sets.size(); ++i) signature[i] = c.p.sets[i].test(b);
    auto [it, fresh] = seen.emplace(std::move(signature), static_cast<std::uint8_t>(seen.size()));
    if (fresh) {
      if (seen.size() > 255) return false;
      c.class_byte.push_back(static_cast<std::uint8_t>(b));
    }
    c.byte_class[b] = it->second;
  }
  return true;
}

struct position_set_hash {
  std::size_t operator()(const std::vector<std::uint32_t>& v) const noexcept {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the position numbers
    for (std::uint32_t q : v) h = (h ^ q) * 1099511628211ull;
    return static_cast<std::size_t>(h);
  }
};

// A subset construction's result, before its states are renumbered: state 0 is the start.
struct raw_table {
  std::size_t classes = 0;
  std::vector<std::uint32_t> next;
  std::vector<std::uint64_t> accepts;
  std::optional<std::uint32_t> dead;
};

// Subset construction over the combined automaton; false when it needs more than `max_states` states.
// Unanchored, every step may also begin a new match at any expression's first positions. Anchored, the
// start state is a virtual position (no byte enters it) whose followers are the first positions.
bool subset_construction(const combined& c, std::size_t max_states, raw_table& t) {
  const std::size_t classes = c.class_byte.size();
  std::vector<std::vector<std::uint8_t>> classes_of(c.p.sets.size());
  for (std::size_t q = 0; q < c.p.sets.size(); ++q) {
    for (std::size_t k = 0; k < classes; ++k)
      if (c.p.sets[q].test(c.class_byte[k])) classes_of[q].push_back(static_cast<std::uint8_t>(k));
  }
  const auto virtual_start = static_cast<std::uint32_t>(c.p.sets.size());
  // State s is the position set *states[s]; the sets live in `ids` (node-based, so pointers stay valid).
  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, position_set_hash> ids;
  std::vector<const std::vector<std::uint32_t>*> states;
  std::vector<std::uint32_t> first;
  if (c.anchored) first.push_back(virtual_start);
  states.push_back(&ids.emplace(first, 0).first->first);
  t.next.clear();
  t.accepts.assign(1, 0);
  std::vector<std::vector<std::uint32_t>> by_class(classes);
  std::vector<std::uint32_t> candidates;
  for (std::size_t s = 0; s < states.size(); ++s) {
    for (auto& v : by_class) v.clear();
    candidates.clear();
    if (!c.anchored) candidates = c.starts;
    for (std::uint32_t q : *states[s]) append(candidates, q == virtual_start ? c.starts : c.p.follow[q]);
    sort_unique(candidates);
    for (std::uint32_t q : candidates) {
      for (std::uint8_t k : classes_of[q]) by_class[k].push_back(q);
    }
    for (std::size_t k = 0; k < classes; ++k) {
      auto it = ids.find(by_class[k]);
      if (it == ids.end()) {
        if (states.size() >= max_states) return false;
        std::uint64_t mask = 0;
        for (std::uint32_t q : by_class[k]) mask |= c.accepts[q];
        it = ids.emplace(by_class[k], static_cast<std::uint32_t>(states.size())).first;
        states.push_back(&it->first);
        t.accepts.push_back(mask);
      }
      t.next.push_back(it->second);
    }
  }
  if (c.anchored) {
    if (auto dead = ids.find(std::vector<std::uint32_t>()); dead != ids.end()) t.dead = dead->second;
  }
  t.classes = classes;
  return true;
}

// Renumbers a table so that the rejecting states come first: a walk then tests for an accepting state with
// one compare.
dfa_table finish(const raw_table& raw, const std::uint8_t (&byte_class)[256]) {
  const std::size_t count = raw.accepts.size(), classes = raw.classes;
  std::vector<std::uint32_t> order(count), slot(count);
  std::uint32_t at = 0;
  for (int accepting = 0; accepting < 2; ++accepting) {
    for (std::size_t s = 0; s < count; ++s) {
      if ((raw.accepts[s] != 0) == (accepting == 1)) order[at++] = static_cast<std::uint32_t>(s);
    }
  }
  for (std::uint32_t i = 0; i < count; ++i) slot[order[i]] = i;
  dfa_table t;
  t.class_count = static_cast<std::uint32_t>(classes);
  std::copy(std::begin(byte_class), std::end(byte_class), t.byte_class);
  t.next.resize(count * classes);
  std::uint32_t rejecting = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t old = order[i];
    if (raw.accepts[old] == 0)
      ++rejecting;
    else
      t.accepts.push_back(raw.accepts[old]);
    for (std::size_t k = 0; k < classes; ++k)
      t.next[i * classes + k] = static_cast<std::uint32_t>(slot[raw.next[old * classes + k]] * classes);
  }
  t.start = static_cast<std::uint32_t>(slot[0] * classes);
  t.first_accepting = static_cast<std::uint32_t>(rejecting * classes);
  if (raw.dead) t.dead = static_cast<std::uint32_t>(slot[*raw.dead] * classes);
  return t;
}

}  // namespace

bool nullable(const node& n) {
  switch (n.type) {
    case node::kind::bytes:
      return false;
    case node::kind::concat:
      return std::all_of(n.children.begin(), n.children.end(), nullable);
    case node::kind::alt:
      return std::any_of(n.children.begin(), n.children.end(), nullable);
    case node::kind::repeat:
      return n.min == 0 || nullable(n.children.front());
  }
  return true;
}

node reversed(const node& n) {
  node r = n;
  r.children.clear();
  for (const node& c : n.children) r.children.push_back(reversed(c));
  if (n.type == node::kind::concat) std::reverse(r.children.begin(), r.children.end());
  return r;
}

std::optional<dfa_table> build(const std::vector<std::pair<std::size_t, node>>& forms, std::size_t max_states,
                               bool anchored) {
  combined c;
  c.anchored = anchored;
  for (const auto& [i, form] : forms) {
    glushkov g = build_positions(form, c.p);
    if (g.nullable) return std::nullopt;
    append(c.starts, g.first);
    c.accepts.resize(c.p.sets.size(), 0);
    for (std::uint32_t l : g.last) c.accepts[l] |= std::uint64_t{1} << i;
  }
  c.accepts.resize(c.p.sets.size(), 0);
  if (c.p.sets.empty() || !assign_byte_classes(c)) return std::nullopt;
  sort_unique(c.starts);
  for (auto& f : c.p.follow) sort_unique(f);
  raw_table t;
  if (!subset_construction(c, max_states, t)) return std::nullopt;
  return finish(t, c.byte_class);
}

}  // namespace phigate::masking::dfa_build

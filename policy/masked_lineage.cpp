#include "policy/masked_lineage.hpp"

#include <algorithm>
#include <optional>

namespace phigate::policy {
namespace {

bool table_may_be(const table_ref& table, const masked_column& masked, const session_facts& session) {
  if (table.name.empty()) return true;  // not tied to a relation: any table may be meant
  const auto candidates = resolve_table(table, session);
  return std::any_of(candidates.begin(), candidates.end(), [&](const table_ref& t) {
    return t.name == masked.table && (t.schema.empty() || t.schema == masked.schema);
  });
}

// The first masked column `sources` carry, and whether it came through a whole-row reference.
std::optional<std::pair<std::size_t, bool>> first_masked(const std::vector<column_ref>& sources,
                                                         const std::vector<masked_column>& masked,
                                                         const session_facts& session) {
  for (const auto& source : sources) {
    for (std::size_t i = 0; i < masked.size(); ++i) {
      if (may_denote(source, masked[i], session)) return std::pair{i, source.all_columns};
    }
  }
  return std::nullopt;
}

void add_unique(std::vector<std::size_t>& items, std::size_t item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
}

}  // namespace

bool may_denote(const column_ref& ref, const masked_column& masked, const session_facts& session) {
  if (!ref.all_columns && ref.column != masked.column) return false;
  return table_may_be(ref.table, masked, session);
}

masked_lineage find_masked_lineage(const statement_facts& facts, const std::vector<masked_column>& masked,
                                   const session_facts& session) {
  masked_lineage out;
  if (masked.empty()) return out;
  for (const auto& result : facts.result_columns) {
    if (result.derivation == column_derivation::star) {
      // Expanded by the server; RowDescription names each column's table and attribute.
      out.has_star = true;
      continue;
    }
    const auto hit = first_masked(result.sources, masked, session);
    if (!hit) continue;
    masked_flow flow =
        result.derivation == column_derivation::plain_reference ? masked_flow::plain : masked_flow::derived;
    if (hit->second) flow = masked_flow::whole_row;
    out.outputs.push_back({result.name, flow, hit->first});
  }
  for (const auto& column : facts.predicate_columns) {
    for (std::size_t i = 0; i < masked.size(); ++i) {
      if (may_denote(column, masked[i], session)) add_unique(out.predicates, i);
    }
  }
  return out;
}

}  // namespace phigate::policy

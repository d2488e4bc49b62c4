#include "policy/query_scope.hpp"

#include <algorithm>

namespace phigate::policy {
namespace {

void add_source(std::vector<column_ref>& sources, const column_ref& column) {
  if (std::find(sources.begin(), sources.end(), column) == sources.end()) sources.push_back(column);
}

lineage lineage_of_output(const result_column& output) {
  lineage out;
  for (const auto& source : output.sources) add_source(out.sources, source);
  out.plain = output.derivation == column_derivation::plain_reference;
  return out;
}

const result_column* find_output(const range_entry& entry, std::string_view column) {
  for (const auto& output : entry.outputs) {
    if (output.name == column) return &output;
  }
  return nullptr;
}

// A derived relation that passed a base table's `*` through (`WITH d AS (DELETE ... RETURNING *)`)
// has columns whose names only the catalog knows: a named column of it is that column of the table.
lineage through_star_outputs(const range_entry& entry, std::string_view column) {
  lineage out;
  for (const auto& output : entry.outputs) {
    if (output.derivation != column_derivation::star) continue;
    for (const auto& source : output.sources) {
      add_source(out.sources, column_ref{source.table, std::string(column), false});
    }
  }
  out.plain = out.sources.size() == 1;
  return out;
}

lineage whole_row(const range_entry& entry) {
  lineage out;
  out.sources = all_columns_of(entry);
  return out;
}

}  // namespace

void lineage::merge(const lineage& other) {
  for (const auto& source : other.sources) add_source(sources, source);
  plain = false;
}

std::vector<column_ref> all_columns_of(const range_entry& entry) {
  std::vector<column_ref> out;
  if (entry.table) {
    out.push_back(column_ref{*entry.table, {}, true});
    return out;
  }
  for (const auto& output : entry.outputs) {
    for (const auto& source : output.sources) add_source(out, source);
  }
  return out;
}

std::vector<result_column> star_columns_of(const range_entry& entry) {
  if (entry.table) return {result_column{"*", column_derivation::star, {column_ref{*entry.table, {}, true}}}};
  return entry.outputs;
}

void query_scope::declare_cte(std::string name) {
  ctes_.push_back(cte_definition{std::move(name), {}});
}

void query_scope::set_cte_outputs(std::string_view name, std::vector<result_column> outputs) {
  for (auto& cte : ctes_) {
    if (cte.name == name) cte.outputs = std::move(outputs);
  }
}

const cte_definition* query_scope::find_cte(std::string_view name) const {
  for (const query_scope* s = this; s != nullptr; s = s->parent_) {
    for (const auto& cte : s->ctes_) {
      if (cte.name == name) return &cte;
    }
  }
  return nullptr;
}

const range_entry* query_scope::find_entry(const std::vector<std::string_view>& qualifier) const {
  for (const query_scope* s = this; s != nullptr; s = s->parent_) {
    for (const auto& entry : s->entries_) {
      if (qualifier.size() == 1 && entry.visible_name == qualifier[0]) return &entry;
      // `schema.table.col` names the table itself, which is only possible when it has no alias.
      if (qualifier.size() >= 2 && entry.table && entry.visible_name == entry.table->name &&
          entry.table->name == qualifier.back() && entry.table->schema == qualifier[qualifier.size() - 2]) {
        return &entry;
      }
    }
  }
  return nullptr;
}

std::optional<lineage> query_scope::resolve_unqualified(std::string_view column) const {
  // Derived relations know their output names, so they win when they match; otherwise a name that
  // equals a relation's alias is a whole-row reference (`SELECT p FROM patients p`); otherwise every
  // base table of this level is a candidate, because only the catalog knows which has the column.
  lineage derived;
  int derived_matches = 0;
  for (const auto& entry : entries_) {
    if (const result_column* output = find_output(entry, column)) {
      derived.merge(lineage_of_output(*output));
      derived.plain = ++derived_matches == 1 && output->derivation == column_derivation::plain_reference;
    }
  }
  if (derived_matches > 0) return derived;
  for (const auto& entry : entries_) {
    if (entry.visible_name == column) return whole_row(entry);
  }
  lineage bases;
  for (const auto& entry : entries_) {
    if (entry.table) {
      add_source(bases.sources, column_ref{*entry.table, std::string(column), false});
    } else {
      for (const auto& source : through_star_outputs(entry, column).sources)
        add_source(bases.sources, source);
    }
  }
  if (bases.sources.empty()) return std::nullopt;
  bases.plain = bases.sources.size() == 1;
  return bases;
}

lineage query_scope::resolve(const std::vector<std::string_view>& names) const {
  if (names.empty()) return {};
  const std::string_view column = names.back();
  if (names.size() == 1) {
    for (const query_scope* s = this; s != nullptr; s = s->parent_) {
      if (auto found = s->resolve_unqualified(column)) return *found;
    }
    return lineage{{column_ref{{}, std::string(column), false}}, true};
  }
  std::vector<std::string_view> qualifier(names.begin(), names.end() - 1);
  if (qualifier.size() > 2) qualifier.erase(qualifier.begin());  // database name
  const range_entry* entry = find_entry(qualifier);
  if (entry == nullptr) {
    table_ref table{qualifier.size() == 2 ? std::string(qualifier[0]) : std::string(),
                    std::string(qualifier.back())};
    return lineage{{column_ref{table, std::string(column), false}}, true};
  }
  if (entry->table) return lineage{{column_ref{*entry->table, std::string(column), false}}, true};
  if (const result_column* output = find_output(*entry, column)) return lineage_of_output(*output);
  lineage through = through_star_outputs(*entry, column);
  return through.sources.empty() ? whole_row(*entry) : through;
}

std::vector<result_column> query_scope::expand_star(const std::vector<std::string_view>& qualifier) const {
  std::vector<result_column> out;
  if (!qualifier.empty()) {
    std::vector<std::string_view> q = qualifier;
    if (q.size() > 2) q.erase(q.begin());
    if (const range_entry* entry = find_entry(q)) return star_columns_of(*entry);
    table_ref table{q.size() == 2 ? std::string(q[0]) : std::string(), std::string(q.back())};
    out.push_back(result_column{"*", column_derivation::star, {column_ref{table, {}, true}}});
    return out;
  }
  for (const auto& entry : entries_) {
    auto columns = star_columns_of(entry);
    out.insert(out.end(), columns.begin(), columns.end());
  }
  return out;
}

}  // namespace phigate::policy

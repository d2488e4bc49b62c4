#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// The base columns one value derives from, and whether it is one of them unchanged.
struct lineage {
  std::vector<column_ref> sources;
  bool plain = false;

  /// Adds other's sources (deduplicated); the result is an expression, never plain.
  void merge(const lineage& other);
};

/// One relation visible in a FROM clause: a base table, or a derived relation (subquery, CTE, set
/// returning function) whose output columns carry their own lineage.
struct range_entry {
  std::string visible_name;  ///< alias, or the relation name when there is none
  std::optional<table_ref> table;
  std::vector<result_column> outputs;
};

/// A WITH query's name and the lineage of its output columns.
struct cte_definition {
  std::string name;
  std::vector<result_column> outputs;
};

/// Name resolution for one query level, chained to the enclosing level for correlated references.
/// It mirrors PostgreSQL's rules where it can without the catalog; where the catalog would decide
/// (an unqualified column with several base tables in FROM) it returns every candidate, so lineage
/// over-approximates rather than misses a source.
class query_scope {
 public:
  explicit query_scope(const query_scope* parent = nullptr) : parent_(parent) {}

  void add_entry(range_entry entry) { entries_.push_back(std::move(entry)); }
  /// Declares a CTE (before its query is walked, so recursive references resolve), then fills it.
  void declare_cte(std::string name);
  void set_cte_outputs(std::string_view name, std::vector<result_column> outputs);
  [[nodiscard]] const cte_definition* find_cte(std::string_view name) const;

  /// Resolves a ColumnRef's name parts (`col`, `t.col`, `s.t.col`, `db.s.t.col`).
  [[nodiscard]] lineage resolve(const std::vector<std::string_view>& names) const;

  /// Expands `*` (empty qualifier) or `t.*`: one star column per base table, the outputs of derived
  /// relations as they are.
  [[nodiscard]] std::vector<result_column> expand_star(const std::vector<std::string_view>& qualifier) const;

 private:
  [[nodiscard]] const range_entry* find_entry(const std::vector<std::string_view>& qualifier) const;
  [[nodiscard]] std::optional<lineage> resolve_unqualified(std::string_view column) const;

  const query_scope* parent_;
  std::vector<range_entry> entries_;
  std::vector<cte_definition> ctes_;
};

/// Every column of an entry, as sources: `table.*` for a base table, the outputs' sources otherwise.
std::vector<column_ref> all_columns_of(const range_entry& entry);

/// Result columns for `entry.*`.
std::vector<result_column> star_columns_of(const range_entry& entry);

}  // namespace phigate::policy

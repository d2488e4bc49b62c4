#pragma once

#include <string>
#include <vector>

#include "policy/analyzer.hpp"

namespace phigate::policy {

/// Who is asking: the person as phigate authenticated them, and the database they connected to.
struct identity_facts {
  std::string user;
  std::vector<std::string> groups;
  std::string database;
};

/// A column whose values are masked for the person asking: a masking column rule, "schema.table.column".
struct masked_column {
  std::string schema;
  std::string table;
  std::string column;
  [[nodiscard]] std::string qualified() const { return schema + "." + table + "." + column; }
  friend bool operator==(const masked_column&, const masked_column&) = default;
};

/// Session settings that change what a statement means. The gateway starts each session with the
/// defaults and updates them from the statements it lets through (see apply_session_changes).
struct session_facts {
  /// Schemas unqualified relation names may resolve to, as SET search_path spells them ("$user" included).
  std::vector<std::string> search_path{"$user", "public"};
  std::string role;  ///< the current role after SET ROLE; "" for the login role
  /// Columns masked for this person (the masking column rules, or none when masking does not apply to them).
  std::vector<masked_column> masked_columns;
};

/// Updates `session` from the SET search_path / RESET search_path / SET ROLE / RESET ROLE / RESET ALL /
/// DISCARD ALL statements in `statements`, which the gateway is about to forward. Conservative where the
/// outcome is not known here: SET LOCAL search_path adds its schemas to the current ones (they apply until
/// the transaction ends, which this function does not see), so resolution considers both.
void apply_session_changes(const analysis& statements, session_facts& session);

/// What statements do to the session's prepared statements, a namespace SQL-level PREPARE / DEALLOCATE
/// share with the extended protocol's Parse / Close.
struct prepared_statement_changes {
  bool all_dropped = false;        ///< DEALLOCATE ALL or DISCARD ALL
  std::vector<std::string> names;  ///< made by PREPARE or dropped by DEALLOCATE name
  [[nodiscard]] bool empty() const noexcept { return !all_dropped && names.empty(); }
};
prepared_statement_changes prepared_changes(const analysis& statements);

/// Relations an unqualified name may denote under `session` (known pg_catalog relations resolve to
/// pg_catalog, which PostgreSQL searches first); a qualified name denotes only itself.
std::vector<table_ref> resolve_table(const table_ref& table, const session_facts& session);

/// True for a relation of PostgreSQL 15's pg_catalog (pg_class, pg_namespace, pg_stat_activity, ...).
bool is_pg_catalog_relation(std::string_view name) noexcept;

}  // namespace phigate::policy

#include "policy/query_walker.hpp"

#include <string>

namespace phigate::policy {

using parse_tree::array;
using parse_tree::object;
using parse_tree::value;

table_ref query_walker::add_target_relation(const object& stmt, query_scope& scope) {
  const object* relation = parse_tree::object_field(stmt, "relation");
  if (relation == nullptr) return {};
  const table_ref target = parse_tree::range_var_table(*relation);
  facts_.add_table_written(target);
  scope.add_entry(range_entry{parse_tree::range_var_visible_name(*relation), target, {}});
  return target;
}

void query_walker::walk_assignments(const array* targets, const table_ref& target, query_scope& scope) {
  if (targets == nullptr) return;
  for (const value& item : *targets) {
    const object* res = parse_tree::node_fields(item, "ResTarget");
    if (res == nullptr) continue;
    facts_.add_column_written(column_ref{target, std::string(parse_tree::string_field(*res, "name")), false});
    if (const value* val = parse_tree::field(*res, "val")) walk_expression(*val, scope, false);
  }
}

std::vector<result_column> query_walker::walk_insert(const object& insert, const query_scope* parent) {
  query_scope scope(parent);
  walk_with(insert, scope);
  const object* relation = parse_tree::object_field(insert, "relation");
  if (relation == nullptr) return {};
  const table_ref target = parse_tree::range_var_table(*relation);
  facts_.add_table_written(target);
  facts_.add_kind(statement_kind::write, "write: INSERT INTO " + target.qualified());
  const array* columns = parse_tree::array_field(insert, "cols");
  if (columns == nullptr || columns->empty()) facts_.add_column_written(column_ref{target, {}, true});
  walk_assignments(columns, target, scope);
  if (const value* source = parse_tree::field(insert, "selectStmt")) {
    // The source query cannot see the target table; it runs in the WITH scope only.
    const std::size_t mark = facts_.tables_read.size();
    const auto rows = walk_query(*source, &scope);
    if (copies_table_data(rows, mark)) {
      facts_.add_kind(statement_kind::export_data,
                      "export: INSERT ... SELECT copies rows into " + target.qualified());
    }
  }
  scope.add_entry(range_entry{parse_tree::range_var_visible_name(*relation), target, {}});
  if (const object* conflict = parse_tree::object_field(insert, "onConflictClause")) {
    // EXCLUDED holds the proposed row: the same columns as the target.
    scope.add_entry(range_entry{"excluded", target, {}});
    walk_assignments(parse_tree::array_field(*conflict, "targetList"), target, scope);
    if (const value* where = parse_tree::field(*conflict, "whereClause"))
      walk_expression(*where, scope, true);
  }
  return walk_target_list(parse_tree::array_field(insert, "returningList"), scope);
}

std::vector<result_column> query_walker::walk_update(const object& update, const query_scope* parent) {
  query_scope scope(parent);
  walk_with(update, scope);
  const table_ref target = add_target_relation(update, scope);
  facts_.add_kind(statement_kind::write, "write: UPDATE " + target.qualified());
  if (const array* from = parse_tree::array_field(update, "fromClause")) {
    for (const value& item : *from) add_from_item(item, scope);
  }
  walk_assignments(parse_tree::array_field(update, "targetList"), target, scope);
  if (const value* where = parse_tree::field(update, "whereClause")) walk_expression(*where, scope, true);
  return walk_target_list(parse_tree::array_field(update, "returningList"), scope);
}

std::vector<result_column> query_walker::walk_delete(const object& del, const query_scope* parent) {
  query_scope scope(parent);
  walk_with(del, scope);
  const table_ref target = add_target_relation(del, scope);
  facts_.add_kind(statement_kind::write, "write: DELETE FROM " + target.qualified());
  if (const array* using_items = parse_tree::array_field(del, "usingClause")) {
    for (const value& item : *using_items) add_from_item(item, scope);
  }
  if (const value* where = parse_tree::field(del, "whereClause")) walk_expression(*where, scope, true);
  return walk_target_list(parse_tree::array_field(del, "returningList"), scope);
}

std::vector<result_column> query_walker::walk_merge(const object& merge, const query_scope* parent) {
  query_scope scope(parent);
  walk_with(merge, scope);
  const table_ref target = add_target_relation(merge, scope);
  facts_.add_kind(statement_kind::write, "write: MERGE INTO " + target.qualified());
  const std::size_t mark = facts_.tables_read.size();
  if (const value* source = parse_tree::field(merge, "sourceRelation")) add_from_item(*source, scope);
  const bool source_reads_tables = facts_.tables_read.size() > mark;
  if (const value* on = parse_tree::field(merge, "joinCondition")) walk_expression(*on, scope, true);
  const array* clauses = parse_tree::array_field(merge, "mergeWhenClauses");
  if (clauses == nullptr) return {};
  for (const value& item : *clauses) {
    const object* clause = parse_tree::node_fields(item, "MergeWhenClause");
    if (clause == nullptr) continue;
    if (const value* condition = parse_tree::field(*clause, "condition"))
      walk_expression(*condition, scope, true);
    const array* targets = parse_tree::array_field(*clause, "targetList");
    if (parse_tree::string_field(*clause, "commandType") == "CMD_INSERT") {
      if (targets == nullptr || targets->empty()) facts_.add_column_written(column_ref{target, {}, true});
      // WHEN NOT MATCHED THEN INSERT is INSERT ... SELECT from the source relation.
      if (source_reads_tables) {
        facts_.add_kind(statement_kind::export_data,
                        "export: MERGE ... INSERT copies rows into " + target.qualified());
      }
    }
    walk_assignments(targets, target, scope);
    walk_expressions(parse_tree::array_field(*clause, "values"), scope, false);
  }
  return {};
}

}  // namespace phigate::policy

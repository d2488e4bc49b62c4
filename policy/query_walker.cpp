#include "policy/query_walker.hpp"

#include <string>

namespace phigate::policy {

using parse_tree::array;
using parse_tree::object;
using parse_tree::value;

bool query_walker::enter() {
  if (++depth_ <= max_nesting_depth) return true;
  if (!depth_exceeded_) {
    depth_exceeded_ = true;
    facts_.add_kind(statement_kind::unknown,
                    "unknown: statement nests deeper than " + std::to_string(max_nesting_depth) + " levels");
  }
  return false;
}

std::vector<result_column> query_walker::walk_query(const value& query, const query_scope* parent) {
  const depth_guard guard(*this);
  if (!guard.ok) return {};
  const parse_tree::node n = parse_tree::as_node(query);
  if (!n) return {};
  if (n.type == "SelectStmt") return walk_select(*n.fields, parent);
  if (n.type == "InsertStmt") return walk_insert(*n.fields, parent);
  if (n.type == "UpdateStmt") return walk_update(*n.fields, parent);
  if (n.type == "DeleteStmt") return walk_delete(*n.fields, parent);
  if (n.type == "MergeStmt") return walk_merge(*n.fields, parent);
  scan_utility(query);
  return {};
}

bool query_walker::copies_table_data(const std::vector<result_column>& results, std::size_t mark) const {
  if (facts_.tables_read.size() > mark) return true;
  for (const auto& column : results) {
    if (!column.sources.empty()) return true;
  }
  return false;
}

void query_walker::walk_with(const object& stmt, query_scope& scope) {
  const object* with = parse_tree::object_field(stmt, "withClause");
  if (with == nullptr) return;
  const array* ctes = parse_tree::array_field(*with, "ctes");
  if (ctes == nullptr) return;
  for (const value& item : *ctes) {
    const object* cte = parse_tree::node_fields(item, "CommonTableExpr");
    if (cte == nullptr) continue;
    const std::string name(parse_tree::string_field(*cte, "ctename"));
    scope.declare_cte(name);
    const value* query = parse_tree::field(*cte, "ctequery");
    if (query == nullptr) continue;
    auto outputs = walk_query(*query, &scope);
    // WITH x(a, b) AS (...) renames the outputs positionally.
    if (const array* names = parse_tree::array_field(*cte, "aliascolnames")) {
      for (std::size_t i = 0; i < names->size() && i < outputs.size(); ++i) {
        outputs[i].name = std::string(parse_tree::string_node((*names)[i]));
      }
    }
    scope.set_cte_outputs(name, std::move(outputs));
  }
}

std::vector<result_column> query_walker::walk_select(const object& select, const query_scope* parent) {
  query_scope scope(parent);
  walk_with(select, scope);
  const std::size_t mark = facts_.tables_read.size();
  std::vector<result_column> results;
  if (parse_tree::string_field(select, "op") != "SETOP_NONE" &&
      parse_tree::field(select, "larg") != nullptr) {
    results = walk_set_operation(select, scope);
  } else if (const array* rows = parse_tree::array_field(select, "valuesLists")) {
    results = walk_values(*rows, scope);
  } else {
    if (const array* from = parse_tree::array_field(select, "fromClause")) {
      for (const value& item : *from) add_from_item(item, scope);
    }
    results = walk_target_list(parse_tree::array_field(select, "targetList"), scope);
  }
  walk_select_clauses(select, scope, results);
  if (const object* into = parse_tree::object_field(select, "intoClause"))
    walk_select_into(*into, results, mark);
  return results;
}

std::vector<result_column> query_walker::walk_set_operation(const object& select, query_scope& scope) {
  // UNION/INTERSECT/EXCEPT: output i derives from output i of every branch.
  std::vector<result_column> results;
  for (const char* side : {"larg", "rarg"}) {
    const value* branch = parse_tree::field(select, side);
    if (branch == nullptr) continue;
    const object* fields = branch->if_object();
    auto columns = fields == nullptr ? std::vector<result_column>{} : walk_select(*fields, &scope);
    if (results.empty()) {
      results = std::move(columns);
      continue;
    }
    for (std::size_t i = 0; i < results.size() && i < columns.size(); ++i) {
      lineage merged{results[i].sources, false};
      merged.merge(lineage{columns[i].sources, false});
      results[i].sources = std::move(merged.sources);
      results[i].derivation = column_derivation::expression;
    }
  }
  return results;
}

std::vector<result_column> query_walker::walk_values(const array& rows, query_scope& scope) {
  std::vector<result_column> results;
  for (const value& row : rows) {
    const object* list = parse_tree::node_fields(row, "List");
    const array* items = list == nullptr ? nullptr : parse_tree::array_field(*list, "items");
    if (items == nullptr) continue;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const lineage cell = walk_expression((*items)[i], scope, false);
      if (results.size() <= i) {
        results.push_back(result_column{"column" + std::to_string(i + 1), column_derivation::expression, {}});
      }
      lineage merged{results[i].sources, false};
      merged.merge(cell);
      results[i].sources = std::move(merged.sources);
    }
  }
  return results;
}

bool query_walker::walk_output_reference(const value& expr, const std::vector<result_column>& results,
                                         bool by_name) {
  // ORDER BY 2 / GROUP BY 2 name the second output column; ORDER BY alias names an output column
  // before any input column (GROUP BY prefers input columns, so it only takes positions).
  const result_column* output = nullptr;
  if (const object* constant = parse_tree::node_fields(expr, "A_Const")) {
    facts_.literal_sensitive = true;  // which column the statement reads depends on the number
    const object* ival = parse_tree::object_field(*constant, "ival");
    const value* position = ival == nullptr ? nullptr : parse_tree::field(*ival, "ival");
    const auto* number = position == nullptr ? nullptr : position->if_int64();
    if (number != nullptr && *number >= 1 && static_cast<std::size_t>(*number) <= results.size()) {
      output = &results[static_cast<std::size_t>(*number - 1)];
    }
  } else if (const object* column = parse_tree::node_fields(expr, "ColumnRef");
             column != nullptr && by_name) {
    const array* fields = parse_tree::array_field(*column, "fields");
    if (fields != nullptr && fields->size() == 1) {
      const std::string_view name = parse_tree::string_node(fields->front());
      for (const auto& result : results) {
        if (!name.empty() && result.name == name) output = &result;
      }
    }
  }
  if (output == nullptr) return false;
  record_columns(lineage{output->sources, false}, true);
  return true;
}

void query_walker::walk_select_clauses(const object& select, query_scope& scope,
                                       const std::vector<result_column>& results) {
  if (const value* where = parse_tree::field(select, "whereClause")) walk_expression(*where, scope, true);
  if (const value* having = parse_tree::field(select, "havingClause")) walk_expression(*having, scope, true);
  if (const array* group = parse_tree::array_field(select, "groupClause")) {
    for (const value& item : *group) {
      if (!walk_output_reference(item, results, false)) walk_expression(item, scope, true);
    }
  }
  if (const array* sort = parse_tree::array_field(select, "sortClause")) {
    for (const value& item : *sort) {
      const object* sort_by = parse_tree::node_fields(item, "SortBy");
      const value* key = sort_by == nullptr ? nullptr : parse_tree::field(*sort_by, "node");
      if (key == nullptr || !walk_output_reference(*key, results, true)) walk_expression(item, scope, true);
    }
  }
  walk_expressions(parse_tree::array_field(select, "windowClause"), scope, true);
  walk_expressions(parse_tree::array_field(select, "distinctClause"), scope, true);
  if (const value* limit = parse_tree::field(select, "limitCount")) walk_expression(*limit, scope, false);
  if (const value* offset = parse_tree::field(select, "limitOffset")) walk_expression(*offset, scope, false);
}

void query_walker::walk_select_into(const object& into, const std::vector<result_column>& results,
                                    std::size_t mark) {
  const object* rel = parse_tree::object_field(into, "rel");
  if (rel == nullptr) return;
  const table_ref target = parse_tree::range_var_table(*rel);
  facts_.add_table_written(target);
  facts_.add_column_written(column_ref{target, {}, true});
  facts_.add_kind(statement_kind::ddl, "ddl: SELECT INTO creates table " + target.qualified());
  facts_.add_kind(statement_kind::write, "write: SELECT INTO fills table " + target.qualified());
  if (copies_table_data(results, mark)) {
    facts_.add_kind(statement_kind::export_data,
                    "export: SELECT INTO copies rows into table " + target.qualified());
  }
}

void query_walker::add_from_item(const value& item, query_scope& scope) {
  const depth_guard guard(*this);
  if (!guard.ok) return;
  const parse_tree::node n = parse_tree::as_node(item);
  if (!n) return;
  if (n.type == "RangeVar") {
    const table_ref table = parse_tree::range_var_table(*n.fields);
    std::string visible = parse_tree::range_var_visible_name(*n.fields);
    const cte_definition* cte = table.schema.empty() ? scope.find_cte(table.name) : nullptr;
    if (cte != nullptr) {
      scope.add_entry(range_entry{std::move(visible), std::nullopt, cte->outputs});
      return;
    }
    facts_.add_table_read(table);
    scope.add_entry(range_entry{std::move(visible), table, {}});
  } else if (n.type == "JoinExpr") {
    if (const value* left = parse_tree::field(*n.fields, "larg")) add_from_item(*left, scope);
    if (const value* right = parse_tree::field(*n.fields, "rarg")) add_from_item(*right, scope);
    if (const value* quals = parse_tree::field(*n.fields, "quals")) walk_expression(*quals, scope, true);
    if (const array* using_columns = parse_tree::array_field(*n.fields, "usingClause")) {
      for (const value& name : *using_columns) {
        record_columns(scope.resolve({parse_tree::string_node(name)}), true);
      }
    }
  } else if (n.type == "RangeSubselect") {
    add_range_subselect(*n.fields, scope);
  } else if (n.type == "RangeFunction") {
    add_range_function(*n.fields, scope);
  } else if (n.type == "RangeTableSample") {
    if (const value* relation = parse_tree::field(*n.fields, "relation")) add_from_item(*relation, scope);
    walk_expressions(parse_tree::array_field(*n.fields, "args"), scope, false);
  } else {
    // XMLTABLE and other table functions: their expressions are still read and classified.
    const lineage columns = walk_children(item, scope, false);
    std::string visible;
    if (const object* alias = parse_tree::object_field(*n.fields, "alias")) {
      visible = std::string(parse_tree::string_field(*alias, "aliasname"));
    }
    scope.add_entry(range_entry{
        visible, std::nullopt, {result_column{visible, column_derivation::expression, columns.sources}}});
  }
}

void query_walker::add_range_subselect(const object& subselect, query_scope& scope) {
  const value* query = parse_tree::field(subselect, "subquery");
  if (query == nullptr) return;
  // Non-LATERAL subqueries cannot see sibling FROM items; passing the scope anyway only matters for
  // invalid SQL and keeps LATERAL correct.
  auto outputs = walk_query(*query, &scope);
  std::string visible;
  if (const object* alias = parse_tree::object_field(subselect, "alias")) {
    visible = std::string(parse_tree::string_field(*alias, "aliasname"));
    if (const array* names = parse_tree::array_field(*alias, "colnames")) {
      for (std::size_t i = 0; i < names->size() && i < outputs.size(); ++i) {
        outputs[i].name = std::string(parse_tree::string_node((*names)[i]));
      }
    }
  }
  scope.add_entry(range_entry{std::move(visible), std::nullopt, std::move(outputs)});
}

void query_walker::add_range_function(const object& function, query_scope& scope) {
  lineage args;
  if (const array* functions = parse_tree::array_field(function, "functions")) {
    for (const value& item : *functions) args.merge(walk_children(item, scope, false));
  }
  std::string visible;
  std::vector<result_column> outputs;
  if (const object* alias = parse_tree::object_field(function, "alias")) {
    visible = std::string(parse_tree::string_field(*alias, "aliasname"));
    if (const array* names = parse_tree::array_field(*alias, "colnames")) {
      for (const value& name : *names) {
        outputs.push_back(result_column{std::string(parse_tree::string_node(name)),
                                        column_derivation::expression, args.sources});
      }
    }
  }
  // Without column aliases a function's single output is named after the alias (or the function).
  if (outputs.empty()) outputs.push_back(result_column{visible, column_derivation::expression, args.sources});
  scope.add_entry(range_entry{std::move(visible), std::nullopt, std::move(outputs)});
}

}  // namespace phigate::policy

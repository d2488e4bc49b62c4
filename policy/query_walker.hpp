#pragma once

#include <cstddef>
#include <vector>

#include "policy/function_catalog.hpp"
#include "policy/parse_tree.hpp"
#include "policy/query_scope.hpp"
#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// Deepest nesting of queries and expressions the walker follows before it gives up and marks the
/// statement unknown; keeps recursion bounded on hostile input (`((((...))))`, long operator chains).
inline constexpr std::size_t max_nesting_depth = 1000;

/// Walks one statement's parse tree and records what it finds into statement_facts: tables, columns,
/// functions (classified through a function_catalog), lineage of result columns and the kinds that
/// queries imply at any depth (DML in a CTE is a write, a side-effecting function is admin, ...).
/// Kinds of the top-level statement itself are the statement classifier's business.
class query_walker {
 public:
  query_walker(statement_facts& facts, const function_catalog& catalog) : facts_(facts), catalog_(catalog) {}

  /// Walks SelectStmt, InsertStmt, UpdateStmt, DeleteStmt or MergeStmt; any other node is scanned as
  /// a utility. Returns the result columns (target list or RETURNING).
  std::vector<result_column> walk_query(const parse_tree::value& query, const query_scope* parent);

  /// Walks an expression; `predicate` records every column it reads as a predicate use too.
  lineage walk_expression(const parse_tree::value& expr, query_scope& scope, bool predicate);

  /// Walks a utility statement's fields: relations it names become tables_written, function calls
  /// are classified, embedded queries (CREATE RULE actions, ...) are walked.
  void scan_utility(const parse_tree::value& v);

  /// True when the query that produced `results` copies table data: some result column derives from a
  /// table column, or tables_read grew past `mark` (its size before the query was walked).
  [[nodiscard]] bool copies_table_data(const std::vector<result_column>& results, std::size_t mark) const;

 private:
  /// Counts one level of recursion for as long as it lives; `ok` is false past max_nesting_depth.
  struct depth_guard {
    explicit depth_guard(query_walker& walker) : walker_(walker), ok(walker.enter()) {}
    ~depth_guard() { --walker_.depth_; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
    query_walker& walker_;
    const bool ok;
  };

  std::vector<result_column> walk_select(const parse_tree::object& select, const query_scope* parent);
  std::vector<result_column> walk_set_operation(const parse_tree::object& select, query_scope& scope);
  std::vector<result_column> walk_values(const parse_tree::array& rows, query_scope& scope);
  std::vector<result_column> walk_insert(const parse_tree::object& insert, const query_scope* parent);
  std::vector<result_column> walk_update(const parse_tree::object& update, const query_scope* parent);
  std::vector<result_column> walk_delete(const parse_tree::object& del, const query_scope* parent);
  std::vector<result_column> walk_merge(const parse_tree::object& merge, const query_scope* parent);
  void walk_select_into(const parse_tree::object& into, const std::vector<result_column>& results,
                        std::size_t mark);
  void walk_with(const parse_tree::object& stmt, query_scope& scope);
  table_ref add_target_relation(const parse_tree::object& stmt, query_scope& scope);
  void add_from_item(const parse_tree::value& item, query_scope& scope);
  void add_range_subselect(const parse_tree::object& subselect, query_scope& scope);
  void add_range_function(const parse_tree::object& function, query_scope& scope);
  void walk_select_clauses(const parse_tree::object& select, query_scope& scope,
                           const std::vector<result_column>& results);
  bool walk_output_reference(const parse_tree::value& expr, const std::vector<result_column>& results,
                             bool by_name);
  void walk_assignments(const parse_tree::array* targets, const table_ref& target, query_scope& scope);

  std::vector<result_column> walk_target_list(const parse_tree::array* targets, query_scope& scope);
  lineage walk_column_ref(const parse_tree::object& column_ref, query_scope& scope, bool predicate);
  lineage walk_function_call(const parse_tree::object& call, query_scope& scope, bool predicate);
  lineage walk_sublink(const parse_tree::object& sublink, query_scope& scope, bool predicate);
  lineage walk_children(const parse_tree::value& v, query_scope& scope, bool predicate);
  void walk_expressions(const parse_tree::array* list, query_scope& scope, bool predicate);
  void classify_function(const function_call& call);
  void classify_set_config(const parse_tree::object& call);
  void classify_operator(const parse_tree::object& expr);
  void record_columns(const lineage& columns, bool predicate);
  bool enter();

  statement_facts& facts_;
  const function_catalog& catalog_;
  std::size_t depth_ = 0;
  bool depth_exceeded_ = false;
  /// Nesting of calls whose string arguments may name objects or settings (see walk_function_call).
  std::size_t string_argument_calls_ = 0;
};

}  // namespace phigate::policy

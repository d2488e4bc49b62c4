#include "policy/query_walker.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace phigate::policy {

using parse_tree::array;
using parse_tree::object;
using parse_tree::value;

namespace {

// Functions whose string arguments are only data: the facts of a call do not change with the text.
// Any other function may read a string as an object or setting name (nextval('s'), set_config('role',
// ...), pg_relation_size('t'), has_table_privilege(...)), so a string literal anywhere in its arguments
// makes the statement's facts literal-sensitive.
constexpr std::array string_data_functions = {"array_to_string",
                                              "btrim",
                                              "char_length",
                                              "concat",
                                              "concat_ws",
                                              "date_part",
                                              "date_trunc",
                                              "decode",
                                              "encode",
                                              "extract",
                                              "format",
                                              "initcap",
                                              "json_build_object",
                                              "jsonb_build_object",
                                              "left",
                                              "length",
                                              "lower",
                                              "lpad",
                                              "ltrim",
                                              "md5",
                                              "octet_length",
                                              "overlay",
                                              "position",
                                              "regexp_match",
                                              "regexp_matches",
                                              "regexp_replace",
                                              "repeat",
                                              "replace",
                                              "reverse",
                                              "right",
                                              "rpad",
                                              "rtrim",
                                              "split_part",
                                              "starts_with",
                                              "string_agg",
                                              "strpos",
                                              "substr",
                                              "substring",
                                              "timezone",
                                              "to_char",
                                              "to_date",
                                              "to_number",
                                              "to_timestamp",
                                              "translate",
                                              "upper"};

bool string_arguments_are_data(const function_call& call) {
  if (!call.schema.empty() && call.schema != "pg_catalog") return false;
  return std::find(string_data_functions.begin(), string_data_functions.end(), call.name) !=
         string_data_functions.end();
}

// A cast to regclass, regproc, regtype, ... turns a string into an object reference.
bool is_reg_type_cast(const object& cast) {
  const object* type_name = parse_tree::object_field(cast, "typeName");
  const array* names = type_name == nullptr ? nullptr : parse_tree::array_field(*type_name, "names");
  if (names == nullptr || names->empty()) return false;
  return parse_tree::string_node(names->back()).starts_with("reg");
}

bool is_query_node(std::string_view type) {
  return type == "SelectStmt" || type == "InsertStmt" || type == "UpdateStmt" || type == "DeleteStmt" ||
         type == "MergeStmt";
}

function_call function_name(const object& call) {
  std::vector<std::string_view> parts;
  if (const array* names = parse_tree::array_field(call, "funcname")) {
    for (const value& name : *names) parts.push_back(parse_tree::string_node(name));
  }
  if (parts.empty()) return {};
  return function_call{parts.size() > 1 ? std::string(parts[parts.size() - 2]) : std::string(),
                       std::string(parts.back())};
}

// The column name PostgreSQL gives an unnamed target (FigureColname), for the common cases.
std::string default_column_name(const value& expr) {
  const parse_tree::node n = parse_tree::as_node(expr);
  if (!n) return "?column?";
  if (n.type == "ColumnRef") {
    const array* fields = parse_tree::array_field(*n.fields, "fields");
    if (fields != nullptr && !fields->empty()) {
      const std::string_view last = parse_tree::string_node(fields->back());
      if (!last.empty()) return std::string(last);
    }
  } else if (n.type == "FuncCall") {
    return function_name(*n.fields).name;
  } else if (n.type == "TypeCast") {
    if (const value* arg = parse_tree::field(*n.fields, "arg")) {
      std::string inner = default_column_name(*arg);
      if (inner != "?column?") return inner;
    }
  } else if (n.type == "CoalesceExpr") {
    return "coalesce";
  } else if (n.type == "CaseExpr") {
    return "case";
  }
  return "?column?";
}

// Splits ColumnRef.fields into name parts; `star` is set when the last field is `*`.
std::vector<std::string_view> column_ref_names(const object& column_ref, bool& star) {
  std::vector<std::string_view> names;
  star = false;
  if (const array* fields = parse_tree::array_field(column_ref, "fields")) {
    for (const value& f : *fields) {
      if (parse_tree::node_fields(f, "A_Star") != nullptr) {
        star = true;
      } else {
        names.push_back(parse_tree::string_node(f));
      }
    }
  }
  return names;
}

}  // namespace

void query_walker::record_columns(const lineage& columns, bool predicate) {
  for (const auto& column : columns.sources) {
    facts_.add_column_read(column);
    if (predicate) facts_.add_predicate_column(column);
  }
}

void query_walker::walk_expressions(const array* list, query_scope& scope, bool predicate) {
  if (list == nullptr) return;
  for (const value& item : *list) walk_expression(item, scope, predicate);
}

std::vector<result_column> query_walker::walk_target_list(const array* targets, query_scope& scope) {
  std::vector<result_column> results;
  if (targets == nullptr) return results;
  for (const value& item : *targets) {
    const object* res = parse_tree::node_fields(item, "ResTarget");
    const value* val = res == nullptr ? nullptr : parse_tree::field(*res, "val");
    if (val == nullptr) continue;
    if (const object* column = parse_tree::node_fields(*val, "ColumnRef")) {
      bool star = false;
      const auto names = column_ref_names(*column, star);
      if (star) {
        for (auto& expanded : scope.expand_star(names)) {
          record_columns(lineage{expanded.sources, false}, false);
          results.push_back(std::move(expanded));
        }
        continue;
      }
    }
    const lineage flow = walk_expression(*val, scope, false);
    const std::string_view alias = parse_tree::string_field(*res, "name");
    results.push_back(result_column{
        alias.empty() ? default_column_name(*val) : std::string(alias),
        flow.plain ? column_derivation::plain_reference : column_derivation::expression, flow.sources});
  }
  return results;
}

lineage query_walker::walk_expression(const value& expr, query_scope& scope, bool predicate) {
  const depth_guard guard(*this);
  if (!guard.ok) return {};
  const parse_tree::node n = parse_tree::as_node(expr);
  if (!n) return walk_children(expr, scope, predicate);
  if (n.type == "ColumnRef") return walk_column_ref(*n.fields, scope, predicate);
  if (n.type == "FuncCall") return walk_function_call(*n.fields, scope, predicate);
  if (n.type == "SubLink") return walk_sublink(*n.fields, scope, predicate);
  if (n.type == "A_Const") {
    if (string_argument_calls_ > 0 && parse_tree::object_field(*n.fields, "sval") != nullptr)
      facts_.literal_sensitive = true;
    return {};
  }
  if (n.type == "ParamRef" || n.type == "A_Star") return {};
  if (n.type == "A_Expr") classify_operator(*n.fields);
  if (n.type == "TypeCast" && is_reg_type_cast(*n.fields)) facts_.literal_sensitive = true;
  if (is_query_node(n.type)) {
    lineage flow;
    for (const auto& column : walk_query(expr, &scope)) flow.merge(lineage{column.sources, false});
    return flow;
  }
  lineage flow;
  for (const auto& member : *n.fields) flow.merge(walk_children(member.value(), scope, predicate));
  flow.plain = false;
  return flow;
}

lineage query_walker::walk_children(const value& v, query_scope& scope, bool predicate) {
  lineage flow;
  if (const array* items = v.if_array()) {
    for (const value& item : *items) flow.merge(walk_children(item, scope, predicate));
    return flow;
  }
  if (v.if_object() == nullptr) return flow;
  if (parse_tree::as_node(v)) return walk_expression(v, scope, predicate);
  const depth_guard guard(*this);
  if (!guard.ok) return flow;
  for (const auto& member : *v.if_object()) flow.merge(walk_children(member.value(), scope, predicate));
  return flow;
}

lineage query_walker::walk_column_ref(const object& column_ref, query_scope& scope, bool predicate) {
  bool star = false;
  const auto names = column_ref_names(column_ref, star);
  lineage flow;
  if (star) {
    for (const auto& column : scope.expand_star(names)) flow.merge(lineage{column.sources, false});
  } else {
    flow = scope.resolve(names);
  }
  record_columns(flow, predicate);
  return flow;
}

lineage query_walker::walk_function_call(const object& call, query_scope& scope, bool predicate) {
  const function_call name = function_name(call);
  facts_.add_function(name);
  classify_function(name);
  if (name.name == "set_config" && (name.schema.empty() || name.schema == "pg_catalog")) {
    classify_set_config(call);
    facts_.literal_sensitive = true;
  }
  lineage flow;
  const bool names_by_string = !string_arguments_are_data(name);
  if (names_by_string) ++string_argument_calls_;
  if (const array* args = parse_tree::array_field(call, "args")) {
    for (const value& arg : *args) flow.merge(walk_expression(arg, scope, predicate));
  }
  if (names_by_string) --string_argument_calls_;
  walk_expressions(parse_tree::array_field(call, "agg_order"), scope, predicate);
  if (const value* filter = parse_tree::field(call, "agg_filter")) walk_expression(*filter, scope, true);
  if (const value* over = parse_tree::field(call, "over")) walk_children(*over, scope, true);
  flow.plain = false;
  return flow;
}

lineage query_walker::walk_sublink(const object& sublink, query_scope& scope, bool predicate) {
  lineage flow;
  if (const value* test = parse_tree::field(sublink, "testexpr"))
    flow.merge(walk_expression(*test, scope, true));
  const value* subselect = parse_tree::field(sublink, "subselect");
  if (subselect == nullptr) return flow;
  const auto results = walk_query(*subselect, &scope);
  // EXISTS yields only a boolean; every other sublink passes the subquery's values on (a scalar
  // subquery in the target list returns them outright).
  if (parse_tree::string_field(sublink, "subLinkType") != "EXISTS_SUBLINK") {
    for (const auto& column : results) {
      flow.merge(lineage{column.sources, false});
      if (predicate) record_columns(lineage{column.sources, false}, true);
    }
  }
  flow.plain = false;
  return flow;
}

void query_walker::classify_operator(const object& expr) {
  // OPERATOR(schema.op) outside pg_catalog calls whatever function that schema's operator names.
  const array* name = parse_tree::array_field(expr, "name");
  if (name == nullptr || name->size() < 2) return;
  const std::string_view schema = parse_tree::string_node((*name)[name->size() - 2]);
  if (schema == "pg_catalog") return;
  const std::string op(parse_tree::string_node(name->back()));
  facts_.add_kind(statement_kind::admin,
                  "admin: OPERATOR(" + std::string(schema) + "." + op + ") is not known to be read-only");
}

void query_walker::classify_set_config(const object& call) {
  // set_config('role', ...) is SET ROLE by another name; a setting name that is not a literal could
  // be either, so it counts as a privilege change too.
  const array* args = parse_tree::array_field(call, "args");
  if (args == nullptr || args->empty()) return;
  const object* constant = parse_tree::node_fields(args->front(), "A_Const");
  const object* text = constant == nullptr ? nullptr : parse_tree::object_field(*constant, "sval");
  const std::string_view setting =
      text == nullptr ? std::string_view{} : parse_tree::string_field(*text, "sval");
  if (setting == "role" || setting == "session_authorization" || text == nullptr) {
    facts_.add_kind(statement_kind::privilege, "privilege: set_config() may change the current role");
  }
}

void query_walker::classify_function(const function_call& call) {
  const std::string shown = (call.schema.empty() ? call.name : call.schema + "." + call.name) + "()";
  switch (catalog_.classify(call)) {
    case function_class::read_only:
      return;
    case function_class::write:
      facts_.add_kind(statement_kind::write, "write: " + shown + " changes database state");
      return;
    case function_class::export_data:
      facts_.add_kind(statement_kind::export_data,
                      "export: " + shown + " reads or sends data outside the query");
      return;
    case function_class::admin:
      facts_.add_kind(statement_kind::admin, "admin: " + shown + " has server side effects");
      return;
    case function_class::runs_sql_text:
      facts_.add_kind(statement_kind::unknown, "unknown: " + shown + " runs SQL text that is not analyzed");
      return;
    case function_class::not_known:
      facts_.add_kind(statement_kind::admin, "admin: " + shown + " is not known to be read-only");
      return;
  }
}

void query_walker::scan_utility(const value& v) {
  const depth_guard guard(*this);
  if (!guard.ok) return;
  if (const array* items = v.if_array()) {
    for (const value& item : *items) scan_utility(item);
    return;
  }
  const object* o = v.if_object();
  if (o == nullptr) return;
  const parse_tree::node n = parse_tree::as_node(v);
  if (n && is_query_node(n.type)) {
    walk_query(v, nullptr);
    return;
  }
  if (n && n.type == "FuncCall") {
    const function_call name = function_name(*n.fields);
    facts_.add_function(name);
    classify_function(name);
  }
  const object& fields = n ? *n.fields : *o;
  if (!parse_tree::string_field(fields, "relname").empty()) {
    facts_.add_table_written(parse_tree::range_var_table(fields));
    return;
  }
  for (const auto& member : fields) scan_utility(member.value());
}

}  // namespace phigate::policy

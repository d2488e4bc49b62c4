#include "policy/statement_classifier.hpp"

#include <array>
#include <optional>
#include <string>

#include "policy/query_walker.hpp"
#include "policy/utility_rules.hpp"

namespace phigate::policy {

using parse_tree::array;
using parse_tree::object;
using parse_tree::value;

namespace {

bool option_enabled(const object& def_elem) {
  // EXPLAIN (ANALYZE) has no argument; EXPLAIN (ANALYZE false|off|0) turns it off.
  const value* arg = parse_tree::field(def_elem, "arg");
  if (arg == nullptr) return true;
  if (const object* b = parse_tree::node_fields(*arg, "Boolean"))
    return parse_tree::bool_field(*b, "boolval");
  const std::string_view text = parse_tree::string_node(*arg);
  return !(text == "false" || text == "off" || text == "0" || text == "no");
}

bool explain_analyzes(const object& explain) {
  const array* options = parse_tree::array_field(explain, "options");
  if (options == nullptr) return false;
  for (const value& item : *options) {
    const object* def = parse_tree::node_fields(item, "DefElem");
    if (def != nullptr && parse_tree::string_field(*def, "defname") == "analyze") return option_enabled(*def);
  }
  return false;
}

void classify_explain(const object& explain, statement_facts& facts, const function_catalog& catalog) {
  const value* query = parse_tree::field(explain, "query");
  if (query == nullptr) return;
  if (explain_analyzes(explain)) {
    facts.add_kind(statement_kind::read, "read: EXPLAIN ANALYZE output");
    classify_statement(*query, facts, catalog);
    facts.result_columns.clear();  // the client receives the plan, not the statement's rows
    return;
  }
  // Plain EXPLAIN only plans: nothing it names runs, so its kinds are dropped, but the relations and
  // columns it mentions are still recorded as read (plans reveal row estimates and predicates).
  statement_facts planned;
  classify_statement(*query, planned, catalog);
  facts.add_kind(statement_kind::read, "read: EXPLAIN without ANALYZE only plans the statement");
  for (const auto& table : planned.tables_read) facts.add_table_read(table);
  for (const auto& table : planned.tables_written) facts.add_table_read(table);
  for (const auto& column : planned.columns_read) facts.add_column_read(column);
  for (const auto& column : planned.predicate_columns) facts.add_predicate_column(column);
  for (const auto& function : planned.functions) facts.add_function(function);
  if (planned.kinds.contains(statement_kind::unknown)) {
    facts.add_kind(statement_kind::unknown, "unknown: EXPLAIN of a statement that cannot be analyzed");
  }
}

void copy_relation(const object& copy, const object& relation, bool is_from, statement_facts& facts) {
  const table_ref table = parse_tree::range_var_table(relation);
  std::vector<column_ref> columns;
  if (const array* names = parse_tree::array_field(copy, "attlist")) {
    for (const value& name : *names)
      columns.push_back(column_ref{table, std::string(parse_tree::string_node(name)), false});
  }
  if (columns.empty()) columns.push_back(column_ref{table, {}, true});
  if (is_from) {
    facts.add_table_written(table);
    for (const auto& column : columns) facts.add_column_written(column);
    facts.add_kind(statement_kind::write, "write: COPY " + table.qualified() + " FROM");
    return;
  }
  facts.add_table_read(table);
  facts.add_kind(statement_kind::read, "read: COPY " + table.qualified() + " TO");
  for (const auto& column : columns) {
    facts.add_column_read(column);
    facts.result_columns.push_back(
        result_column{column.all_columns ? "*" : column.column,
                      column.all_columns ? column_derivation::star : column_derivation::plain_reference,
                      {column}});
  }
}

// FORMAT, DELIMITER, QUOTE, ESCAPE and HEADER from the option list (the old `CSV` and `BINARY` keywords
// arrive as FORMAT too).
copy_format read_copy_format(const object& copy) {
  copy_format out;
  const array* options = parse_tree::array_field(copy, "options");
  if (options == nullptr) return out;
  std::optional<char> delimiter, escape;
  for (const value& item : *options) {
    const object* def = parse_tree::node_fields(item, "DefElem");
    if (def == nullptr) continue;
    const std::string_view name = parse_tree::string_field(*def, "defname");
    const value* arg = parse_tree::field(*def, "arg");
    const std::string_view text = arg == nullptr ? std::string_view{} : parse_tree::string_node(*arg);
    if (name == "format") {
      out.format = text == "csv"      ? copy_format::kind::csv
                   : text == "binary" ? copy_format::kind::binary
                                      : copy_format::kind::text;
    } else if (name == "delimiter" && text.size() == 1) {
      delimiter = text[0];
    } else if (name == "quote" && text.size() == 1) {
      out.quote = text[0];
    } else if (name == "escape" && text.size() == 1) {
      escape = text[0];
    } else if (name == "header") {
      const object* boolean = arg == nullptr ? nullptr : parse_tree::node_fields(*arg, "Boolean");
      if (boolean != nullptr)
        out.header = parse_tree::bool_field(*boolean, "boolval");
      else
        out.header = arg == nullptr || (text != "false" && text != "off" && text != "0");
    }
  }
  out.delimiter = delimiter.value_or(out.format == copy_format::kind::csv ? ',' : '\t');
  out.escape = escape.value_or(out.quote);
  return out;
}

void classify_copy(const object& copy, statement_facts& facts, const function_catalog& catalog) {
  facts.copy = read_copy_format(copy);
  const bool is_from = parse_tree::bool_field(copy, "is_from");
  if (const value* query = parse_tree::field(copy, "query")) {
    query_walker walker(facts, catalog);
    facts.add_kind(statement_kind::read, "read: COPY (query) TO");
    facts.result_columns = walker.walk_query(*query, nullptr);
  } else if (const object* relation = parse_tree::object_field(copy, "relation")) {
    copy_relation(copy, *relation, is_from, facts);
  }
  const bool program = parse_tree::bool_field(copy, "is_program");
  const bool file = !parse_tree::string_field(copy, "filename").empty();
  if (program) {
    facts.add_kind(statement_kind::export_data, is_from
                                                    ? "export: COPY ... FROM PROGRAM runs a server command"
                                                    : "export: COPY ... TO PROGRAM runs a server command");
  } else if (file) {
    facts.add_kind(statement_kind::export_data, is_from ? "export: COPY ... FROM 'file' reads a server file"
                                                        : "export: COPY ... TO 'file' writes a server file");
  } else if (!is_from) {
    facts.add_kind(statement_kind::export_data, "export: COPY ... TO STDOUT");
  }
}

void classify_create_table_as(const object& ctas, statement_facts& facts, const function_catalog& catalog) {
  const object* into = parse_tree::object_field(ctas, "into");
  const object* rel = into == nullptr ? nullptr : parse_tree::object_field(*into, "rel");
  const bool matview = parse_tree::string_field(ctas, "objtype") == "OBJECT_MATVIEW";
  const std::string what = matview ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS";
  table_ref target;
  if (rel != nullptr) target = parse_tree::range_var_table(*rel);
  facts.add_table_written(target);
  facts.add_column_written(column_ref{target, {}, true});
  facts.add_kind(statement_kind::ddl, "ddl: " + what + " " + target.qualified());
  const value* query = parse_tree::field(ctas, "query");
  if (query == nullptr) return;
  if (parse_tree::node_fields(*query, "ExecuteStmt") != nullptr) {
    classify_statement(*query, facts, catalog);
    return;
  }
  query_walker walker(facts, catalog);
  const std::size_t mark = facts.tables_read.size();
  const auto rows = walker.walk_query(*query, nullptr);
  if (into != nullptr && parse_tree::bool_field(*into, "skipData")) return;
  facts.add_kind(statement_kind::write, "write: " + what + " fills " + target.qualified());
  if (walker.copies_table_data(rows, mark)) {
    facts.add_kind(statement_kind::export_data,
                   "export: " + what + " copies rows into " + target.qualified());
  }
}

void classify_view(const object& view, statement_facts& facts, const function_catalog& catalog) {
  table_ref target;
  if (const object* rel = parse_tree::object_field(view, "view")) target = parse_tree::range_var_table(*rel);
  facts.add_table_written(target);
  facts.add_kind(statement_kind::ddl, "ddl: CREATE VIEW " + target.qualified());
  // The definition does not run now, but it runs for whoever reads the view later, with the view
  // owner's rights: its functions are classified as if it ran.
  if (const value* query = parse_tree::field(view, "query")) {
    query_walker walker(facts, catalog);
    walker.walk_query(*query, nullptr);
  }
}

void classify_query(const value& stmt, std::string_view type, statement_facts& facts,
                    const function_catalog& catalog) {
  if (type == "SelectStmt") facts.add_kind(statement_kind::read, "read: SELECT");
  query_walker walker(facts, catalog);
  facts.result_columns = walker.walk_query(stmt, nullptr);
}

}  // namespace

void classify_statement(const value& stmt, statement_facts& facts, const function_catalog& catalog) {
  const parse_tree::node n = parse_tree::as_node(stmt);
  if (!n) {
    facts.add_kind(statement_kind::unknown, "unknown: empty parse tree");
    return;
  }
  if (n.type == "SelectStmt" || n.type == "InsertStmt" || n.type == "UpdateStmt" || n.type == "DeleteStmt" ||
      n.type == "MergeStmt") {
    classify_query(stmt, n.type, facts, catalog);
  } else if (n.type == "ExplainStmt") {
    classify_explain(*n.fields, facts, catalog);
  } else if (n.type == "CopyStmt") {
    classify_copy(*n.fields, facts, catalog);
  } else if (n.type == "CreateTableAsStmt") {
    classify_create_table_as(*n.fields, facts, catalog);
  } else if (n.type == "ViewStmt") {
    classify_view(*n.fields, facts, catalog);
  } else if (n.type == "DeclareCursorStmt" || n.type == "PrepareStmt") {
    const bool cursor = n.type == "DeclareCursorStmt";
    facts.add_kind(cursor ? statement_kind::read : statement_kind::session,
                   cursor ? "read: DECLARE CURSOR" : "session: PREPARE stores a statement for EXECUTE");
    if (const value* query = parse_tree::field(*n.fields, "query"))
      classify_statement(*query, facts, catalog);
  } else {
    classify_utility(n, facts, catalog);
  }
}

}  // namespace phigate::policy

#include "policy/analyzer.hpp"

#include <boost/json/parse.hpp>

#include <string>

#include "policy/parse_tree.hpp"
#include "policy/pg_query_handle.hpp"
#include "policy/query_walker.hpp"
#include "policy/statement_classifier.hpp"

namespace phigate::policy {
namespace {

// libpg_query nests about three JSON levels per parse-tree level; the walker stops at
// max_nesting_depth on its own, this only keeps Boost.JSON from refusing trees the walker accepts.
constexpr std::size_t max_json_depth = 4 * max_nesting_depth;

analysis failed(std::string_view sql, std::string message, int cursor) {
  analysis out;
  statement_facts facts;
  facts.text = std::string(sql);
  facts.add_kind(statement_kind::unknown, "unknown: " + message);
  out.kinds = facts.kinds;
  out.statements.push_back(std::move(facts));
  out.error = analysis_error{std::move(message), cursor};
  return out;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// Normalized text and fingerprint are computed on the statement alone so that the same statement
// gets the same cache key whatever else was sent with it.
void add_identity(statement_facts& facts) {
  const normalize_handle normalized(pg_query_normalize(facts.text.c_str()));
  facts.normalized = normalized->error == nullptr && normalized->normalized_query != nullptr
                         ? std::string(normalized->normalized_query)
                         : facts.text;
  const fingerprint_handle fingerprint(pg_query_fingerprint(facts.text.c_str()));
  if (fingerprint->error == nullptr) {
    facts.fingerprint = fingerprint->fingerprint;
    if (fingerprint->fingerprint_str != nullptr) facts.fingerprint_hex = fingerprint->fingerprint_str;
  }
}

std::string_view statement_text(std::string_view sql, const parse_tree::object& raw) {
  const auto number = [&](std::string_view key) -> std::size_t {
    const parse_tree::value* v = parse_tree::field(raw, key);
    const auto* n = v == nullptr ? nullptr : v->if_int64();
    return n == nullptr || *n < 0 ? 0 : static_cast<std::size_t>(*n);
  };
  // stmt_location/stmt_len are the grammar's own statement boundaries (the ones
  // pg_query_split_with_parser reports); a length of 0 means "to the end of the input".
  const std::size_t location = std::min(number("stmt_location"), sql.size());
  const std::size_t length = number("stmt_len");
  return trim(length == 0 ? sql.substr(location) : sql.substr(location, length));
}

}  // namespace

analysis analyze_sql(std::string_view sql) {
  return analyze_sql(sql, builtin_function_catalog());
}

analysis analyze_sql(std::string_view sql, const function_catalog& functions) {
  // libpg_query reads a C string: an embedded NUL would hide everything after it from the analyzer
  // while the bytes could still reach the server.
  if (sql.find('\0') != std::string_view::npos) return failed(sql, "statement text contains a NUL byte", 0);
  const std::string text(sql);
  const parse_handle parsed(pg_query_parse(text.c_str()));
  if (parsed->error != nullptr) {
    return failed(sql, pg_query_error_text(parsed->error), parsed->error->cursorpos);
  }
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  const boost::json::value tree = boost::json::parse(parsed->parse_tree, ec, {}, options);
  if (ec) return failed(sql, "statement nests too deeply to analyze", 0);
  analysis out;
  const parse_tree::object* root = tree.if_object();
  const parse_tree::array* stmts = root == nullptr ? nullptr : parse_tree::array_field(*root, "stmts");
  if (stmts == nullptr) return out;
  for (const parse_tree::value& raw : *stmts) {
    const parse_tree::object* raw_fields = raw.if_object();
    const parse_tree::value* stmt = raw_fields == nullptr ? nullptr : parse_tree::field(*raw_fields, "stmt");
    if (stmt == nullptr) continue;
    statement_facts facts;
    facts.text = std::string(statement_text(sql, *raw_fields));
    add_identity(facts);
    classify_statement(*stmt, facts, functions);
    if (facts.kinds.empty()) facts.add_kind(statement_kind::unknown, "unknown: statement was not classified");
    out.kinds.insert(facts.kinds);
    out.statements.push_back(std::move(facts));
  }
  return out;
}

}  // namespace phigate::policy

#include "policy/analyzer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <string>

#include "policy/parse_tree.hpp"
#include "policy/pg_query_handle.hpp"
#include "policy/pg_query_raw.hpp"
#include "policy/query_walker.hpp"
#include "policy/statement_classifier.hpp"

namespace phigate::policy {
namespace {

// libpg_query nests about three JSON levels per parse-tree level; the walker stops at
// max_nesting_depth on its own, this only keeps Boost.JSON from refusing trees the walker accepts.
constexpr std::size_t max_json_depth = 4 * max_nesting_depth;
// Room for the JSON tree of a pgbench-sized statement (about 2 KiB of values) before the monotonic
// resource has to ask the heap for more.
constexpr std::size_t initial_tree_bytes = 8 * 1024;

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
// gets the same cache key whatever else was sent with it. `whole_input_fingerprint` is the fingerprint
// of the input's tree when the input is this one statement: pg_query_fingerprint would parse the text
// again only to hash the same tree.
void add_identity(statement_facts& facts, std::optional<std::uint64_t> whole_input_fingerprint) {
  const normalize_handle normalized(pg_query_normalize(facts.text.c_str()));
  facts.normalized = normalized->error == nullptr && normalized->normalized_query != nullptr
                         ? std::string(normalized->normalized_query)
                         : facts.text;
  if (whole_input_fingerprint) {
    facts.fingerprint = *whole_input_fingerprint;
    facts.fingerprint_hex = fingerprint_hex(facts.fingerprint);
    return;
  }
  const fingerprint_handle fingerprint(pg_query_fingerprint(facts.text.c_str()));
  if (fingerprint->error == nullptr) {
    facts.fingerprint = fingerprint->fingerprint;
    if (fingerprint->fingerprint_str != nullptr) facts.fingerprint_hex = fingerprint->fingerprint_str;
  }
}

// The parse tree as Boost.JSON values plus, for single-statement input, the fingerprint taken from the
// same parse. The values live in `memory`, so building and dropping the tree costs no heap traffic for
// ordinary statements.
struct parsed_input {
  std::optional<analysis> failure;
  boost::json::value tree;
  std::optional<std::uint64_t> fingerprint;
};

parsed_input parse_input(std::string_view sql, const std::string& text,
                         boost::json::monotonic_resource& memory) {
  // The tree must be made in `memory` from the start: assigning a value from another resource copies it.
  parsed_input out{std::nullopt, boost::json::value(&memory), std::nullopt};
  const pg_query_raw_parse_result parsed(text.c_str());
  if (const PgQueryError* error = parsed.error()) {
    out.failure = failed(sql, pg_query_error_text(error), error->cursorpos);
    return out;
  }
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  out.tree = boost::json::parse(parsed.json(), ec, &memory, options);
  if (ec) {
    out.failure = failed(sql, "statement nests too deeply to analyze", 0);
    return out;
  }
  const parse_tree::object* root = out.tree.if_object();
  const parse_tree::array* stmts = root == nullptr ? nullptr : parse_tree::array_field(*root, "stmts");
  if (stmts != nullptr && stmts->size() == 1) out.fingerprint = parsed.fingerprint();
  return out;
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
  std::array<unsigned char, initial_tree_bytes> buffer;
  boost::json::monotonic_resource memory(buffer.data(), buffer.size());
  parsed_input input = parse_input(sql, text, memory);
  if (input.failure) return std::move(*input.failure);
  analysis out;
  const parse_tree::object* root = input.tree.if_object();
  const parse_tree::array* stmts = root == nullptr ? nullptr : parse_tree::array_field(*root, "stmts");
  if (stmts == nullptr) return out;
  for (const parse_tree::value& raw : *stmts) {
    const parse_tree::object* raw_fields = raw.if_object();
    const parse_tree::value* stmt = raw_fields == nullptr ? nullptr : parse_tree::field(*raw_fields, "stmt");
    if (stmt == nullptr) continue;
    statement_facts facts;
    facts.text = std::string(statement_text(sql, *raw_fields));
    add_identity(facts, input.fingerprint);
    classify_statement(*stmt, facts, functions);
    // Only plain DML is walked with literal sensitivity in mind; utility statements read their
    // arguments (SET values, COPY file names, EXPLAIN options) as they please.
    const std::string_view type = parse_tree::as_node(*stmt).type;
    if (type != "SelectStmt" && type != "InsertStmt" && type != "UpdateStmt" && type != "DeleteStmt" &&
        type != "MergeStmt")
      facts.literal_sensitive = true;
    if (facts.kinds.empty()) facts.add_kind(statement_kind::unknown, "unknown: statement was not classified");
    out.kinds.insert(facts.kinds);
    out.statements.push_back(std::move(facts));
  }
  return out;
}

}  // namespace phigate::policy

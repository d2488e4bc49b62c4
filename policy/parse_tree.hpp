#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "policy/statement_facts.hpp"

/// Read-only helpers over libpg_query's JSON parse tree. A node is an object with exactly one key, the
/// node type ("SelectStmt", "ColumnRef", ...), whose value holds the node's fields. Fields that the
/// grammar types statically (InsertStmt.relation, IntoClause.rel) appear without the wrapper.
/// Nothing here throws: missing fields read as empty.
namespace phigate::policy::parse_tree {

using boost::json::array;
using boost::json::object;
using boost::json::value;

/// A node's type and fields, or an empty type when `v` is not a wrapped node.
struct node {
  std::string_view type;
  const object* fields = nullptr;
  explicit operator bool() const noexcept { return fields != nullptr; }
};

/// Unwraps {"Type": {...}}; node types start with an upper-case letter, field names never do.
node as_node(const value& v) noexcept;

/// The fields of `v` when it is a node of `type`, else nullptr.
const object* node_fields(const value& v, std::string_view type) noexcept;

/// A member that is an object / array / string / bool; nullptr, empty or false when absent.
const object* object_field(const object& o, std::string_view key) noexcept;
const array* array_field(const object& o, std::string_view key) noexcept;
const value* field(const object& o, std::string_view key) noexcept;
std::string_view string_field(const object& o, std::string_view key) noexcept;
bool bool_field(const object& o, std::string_view key) noexcept;

/// The text of a {"String": {"sval": ...}} node; empty for anything else.
std::string_view string_node(const value& v) noexcept;

/// RangeVar fields (already unwrapped) as a table_ref.
table_ref range_var_table(const object& range_var);

/// The name visible to column references: the alias when given, else the relation name.
std::string range_var_visible_name(const object& range_var);

}  // namespace phigate::policy::parse_tree

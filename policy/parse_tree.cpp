#include "policy/parse_tree.hpp"

#include <cctype>

namespace phigate::policy::parse_tree {

node as_node(const value& v) noexcept {
  const object* o = v.if_object();
  if (o == nullptr || o->size() != 1) return {};
  const auto& member = *o->begin();
  const std::string_view key = member.key();
  if (key.empty() || std::isupper(static_cast<unsigned char>(key.front())) == 0) return {};
  const object* fields = member.value().if_object();
  if (fields == nullptr) return {};
  return node{key, fields};
}

const object* node_fields(const value& v, std::string_view type) noexcept {
  const node n = as_node(v);
  return n.type == type ? n.fields : nullptr;
}

const value* field(const object& o, std::string_view key) noexcept {
  return o.if_contains(key);
}

const object* object_field(const object& o, std::string_view key) noexcept {
  const value* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_object();
}

const array* array_field(const object& o, std::string_view key) noexcept {
  const value* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_array();
}

std::string_view string_field(const object& o, std::string_view key) noexcept {
  const value* v = o.if_contains(key);
  if (v == nullptr) return {};
  const auto* s = v->if_string();
  return s == nullptr ? std::string_view{} : std::string_view(*s);
}

bool bool_field(const object& o, std::string_view key) noexcept {
  const value* v = o.if_contains(key);
  if (v == nullptr) return false;
  const bool* b = v->if_bool();
  return b != nullptr && *b;
}

std::string_view string_node(const value& v) noexcept {
  const object* fields = node_fields(v, "String");
  return fields == nullptr ? std::string_view{} : string_field(*fields, "sval");
}

table_ref range_var_table(const object& range_var) {
  return table_ref{std::string(string_field(range_var, "schemaname")),
                   std::string(string_field(range_var, "relname"))};
}

std::string range_var_visible_name(const object& range_var) {
  if (const object* alias = object_field(range_var, "alias")) {
    const std::string_view name = string_field(*alias, "aliasname");
    if (!name.empty()) return std::string(name);
  }
  return std::string(string_field(range_var, "relname"));
}

}  // namespace phigate::policy::parse_tree

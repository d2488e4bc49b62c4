#include "policy/statement_facts.hpp"

#include <algorithm>

namespace phigate::policy {
namespace {

template <typename T>
void add_unique(std::vector<T>& items, const T& item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
}

}  // namespace

std::string table_ref::qualified() const {
  return schema.empty() ? name : schema + "." + name;
}

std::string column_ref::to_string() const {
  std::string out = table.qualified();
  if (!out.empty()) out += '.';
  out += all_columns ? "*" : column;
  return out;
}

std::string_view to_string(column_derivation derivation) noexcept {
  switch (derivation) {
    case column_derivation::plain_reference:
      return "plain_reference";
    case column_derivation::expression:
      return "expression";
    case column_derivation::star:
      return "star";
  }
  return "expression";
}

void statement_facts::add_kind(statement_kind kind, std::string reason) {
  kinds.insert(kind);
  const bool seen = std::any_of(reasons.begin(), reasons.end(),
                                [&](const kind_reason& r) { return r.kind == kind && r.reason == reason; });
  if (!seen) reasons.push_back(kind_reason{kind, std::move(reason)});
}

void statement_facts::add_table_read(const table_ref& table) {
  add_unique(tables_read, table);
}
void statement_facts::add_table_written(const table_ref& table) {
  add_unique(tables_written, table);
}
void statement_facts::add_column_read(const column_ref& column) {
  add_unique(columns_read, column);
}
void statement_facts::add_column_written(const column_ref& column) {
  add_unique(columns_written, column);
}
void statement_facts::add_predicate_column(const column_ref& column) {
  add_unique(predicate_columns, column);
}
void statement_facts::add_function(const function_call& function) {
  add_unique(functions, function);
}

}  // namespace phigate::policy

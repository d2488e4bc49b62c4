// Column rules: every value of a named column is masked whole by one transform, whatever it holds, for the
// people masking applies to. The gateway ties a rule to the column's table OID and attribute number (so an
// alias changes nothing) and, through the statement's lineage, to expressions computed from the column.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "masking/transforms.hpp"

namespace phigate::masking {

struct column_rule {
  std::string schema;
  std::string table;
  std::string column;
  transform_kind transform = transform_kind::redact;

  [[nodiscard]] std::string qualified() const { return schema + "." + table + "." + column; }
};

/// What happens to a result column computed from a masked column (`ssn || ''`, `lower(ssn)`, `md5(ssn)`).
enum class derived_action { mask, refuse };
/// What happens to a whole row of a table with masked columns as one value (`row_to_json(p)`, `SELECT p`).
enum class whole_row_action { refuse, scan };

/// "schema.table.column" split into its three names (lower-case identifiers as PostgreSQL stores unquoted
/// names; no quoting); nullopt unless there are exactly three non-empty parts.
std::optional<column_rule> parse_column_name(std::string_view text);

}  // namespace phigate::masking

// Which result columns and predicates of a statement touch columns that are masked for the person asking.
// Masking rules name columns as schema.table.column; the analyzer's lineage names the base columns every
// output derives from. Pure: no catalog access, so unqualified names resolve against the session's
// search_path, conservatively (a name that may denote a masked table is treated as that table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/session_facts.hpp"
#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// How one output of a statement carries a masked column's values.
enum class masked_flow : std::uint8_t {
  plain,      ///< the column itself, maybe renamed (`ssn AS note`)
  derived,    ///< an expression over it (`ssn || ''`, `lower(ssn)`, `md5(ssn)`, `array_agg(ssn)`, casts)
  whole_row,  ///< a whole row of its table as one value (`SELECT p FROM patients p`, `row_to_json(p)`)
};

struct masked_output {
  std::string name;  ///< the output name PostgreSQL gives the column
  masked_flow flow = masked_flow::plain;
  std::size_t rule = 0;  ///< index of the first masked column it carries
  friend bool operator==(const masked_output&, const masked_output&) = default;
};

struct masked_lineage {
  std::vector<masked_output> outputs;   ///< outputs carrying masked values, in output order
  std::vector<std::size_t> predicates;  ///< masked columns the statement filters, joins, groups or orders on
  /// Output names of columns the analyzer could not tie to base columns one by one (`*` over a relation
  /// whose columns it does not know): the gateway resolves those by the table OID in RowDescription.
  bool has_star = false;
};

/// True when `ref` may denote `masked` under `session` (an unqualified table may resolve to any schema of
/// the search_path; a column not tied to any table matches by name alone).
bool may_denote(const column_ref& ref, const masked_column& masked, const session_facts& session);

/// The outputs and predicates of `facts` that involve any of `masked`.
masked_lineage find_masked_lineage(const statement_facts& facts, const std::vector<masked_column>& masked,
                                   const session_facts& session);

}  // namespace phigate::policy

#include "gateway/lineage_planner.hpp"

#include <algorithm>

#include "policy/masked_lineage.hpp"

namespace phigate {
namespace {

std::string refusal_text(const policy::masked_output& out, const policy::masked_column& column) {
  if (out.flow == policy::masked_flow::whole_row) {
    return "phigate: result column \"" + out.name + "\" returns whole rows of " + column.schema + "." +
           column.table + ", which has masked column " + column.column +
           " (masking.whole_row: refuse); select the columns you need";
  }
  return "phigate: result column \"" + out.name + "\" is computed from masked column " + column.qualified() +
         " (masking.derived_columns: refuse)";
}

void add_name(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

// COPY TO STDOUT carries no column names: its fields are named from the statement when it names them all,
// or from the catalog's column list of the one table `COPY table TO` reads.
void describe_copy(const policy::statement_facts& facts, const policy::session_facts& session,
                   lineage_plan& plan, bool has_star) {
  plan.copy_csv = facts.copy.format == policy::copy_format::kind::csv;
  plan.copy_delimiter = facts.copy.delimiter;
  plan.copy_quote = facts.copy.quote;
  plan.copy_escape = facts.copy.escape;
  plan.copy_header = facts.copy.header;
  if (!has_star) {
    plan.copy_fields = plan.names;
    return;
  }
  const auto& results = facts.result_columns;
  if (results.size() != 1 || results[0].sources.size() != 1 || !results[0].sources[0].all_columns) return;
  for (const auto& table : policy::resolve_table(results[0].sources[0].table, session))
    plan.copy_star_tables.push_back(table.qualified());
}

}  // namespace

std::vector<policy::masked_column> masked_columns_of(const masking_config& masking) {
  std::vector<policy::masked_column> out;
  out.reserve(masking.columns.size());
  for (const auto& rule : masking.columns) out.push_back({rule.schema, rule.table, rule.column});
  return out;
}

lineage_verdict plan_lineage(const policy::analysis& statements, const policy::session_facts& session,
                             const masking_config& masking) {
  lineage_verdict verdict;
  if (session.masked_columns.empty()) return verdict;
  lineage_plan plan;
  for (const auto& facts : statements.statements) {
    const auto found = policy::find_masked_lineage(facts, session.masked_columns, session);
    for (const auto& out : found.outputs) {
      const bool whole_row = out.flow == policy::masked_flow::whole_row;
      const bool refused = whole_row ? masking.whole_row == masking::whole_row_action::refuse
                                     : out.flow == policy::masked_flow::derived &&
                                           masking.derived_columns == masking::derived_action::refuse;
      if (refused) {
        verdict.refusal = refusal_text(out, session.masked_columns[out.rule]);
        verdict.rule_id = whole_row ? "masking.whole_row" : "masking.derived_columns";
        return verdict;
      }
      // A whole row that is scanned rather than refused is left to the content scan, cell by cell.
      if (!whole_row) plan.outputs.push_back({out.name, out.rule, out.flow == policy::masked_flow::derived});
    }
    for (const auto& result : facts.result_columns) add_name(plan.names, result.name);
    if (statements.statements.size() == 1 && facts.kinds.contains(policy::statement_kind::export_data))
      describe_copy(facts, session, plan, found.has_star);
  }
  // Most statements touch no masked column: the plan is shared only when it says something.
  if (!plan.outputs.empty() || !plan.copy_fields.empty() || !plan.copy_star_tables.empty())
    verdict.plan = std::make_shared<const lineage_plan>(std::move(plan));
  return verdict;
}

}  // namespace phigate

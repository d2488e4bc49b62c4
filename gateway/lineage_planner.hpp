// Column rules through a statement's lineage: which result columns of an allowed statement carry a masked
// column's values (the column itself under any alias, an expression over it, or a whole row of its table),
// and whether the configuration refuses the statement for it. Runs in the decide step, before anything is
// forwarded, for people masking applies to.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/config.hpp"
#include "gateway/seams.hpp"
#include "policy/analyzer.hpp"
#include "policy/session_facts.hpp"

namespace phigate {

struct lineage_verdict {
  std::string refusal;  ///< non-empty: refuse the statement with this message
  std::string rule_id;  ///< for a refusal: "masking.derived_columns" or "masking.whole_row"
  std::shared_ptr<const lineage_plan> plan;  ///< null when no output carries a masked column
};

/// The column rules as the policy's analysis names columns.
std::vector<policy::masked_column> masked_columns_of(const masking_config& masking);

/// Plans (or refuses) `statements` against the column rules in `masking`; `session.masked_columns` must be
/// masked_columns_of(masking).
lineage_verdict plan_lineage(const policy::analysis& statements, const policy::session_facts& session,
                             const masking_config& masking);

}  // namespace phigate

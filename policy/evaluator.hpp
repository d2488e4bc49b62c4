#pragma once

#include <memory>

#include "policy/analyzer.hpp"
#include "policy/decision.hpp"
#include "policy/policy_model.hpp"
#include "policy/session_facts.hpp"

namespace phigate::policy {

/// Evaluates analyzed statements against a policy. Pure: the same analysis, identity and session give
/// the same decision, and nothing is remembered between calls.
///
/// Each kind of each statement is decided on its own by the first rule, in file order, that applies to
/// the person and database, covers the kind and matches the statement's tables (pg_hba.conf style: put
/// exceptions before general rules). No matching rule: deny with rule `default-deny`. The decision for
/// the whole input is the strictest of these (deny > hold > allow), so an allowed read inside
/// `COPY (...) TO STDOUT` cannot carry the export with it.
///
/// Tables: a rule with `tables:` allows (action allow) only statements whose every relation, read or
/// written, is listed; it denies or holds statements touching any listed relation. Unqualified names
/// are resolved against the session's search_path (see resolve_table); when a name could denote
/// several relations, an allow needs all of them listed and a deny or hold needs any.
class evaluator {
 public:
  explicit evaluator(std::shared_ptr<const policy_model> model);

  [[nodiscard]] decision evaluate(const analysis& input, const identity_facts& who,
                                  const session_facts& session) const;

  [[nodiscard]] const policy_model& model() const noexcept { return *model_; }

 private:
  std::shared_ptr<const policy_model> model_;
};

}  // namespace phigate::policy

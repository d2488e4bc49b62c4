#pragma once

#include <optional>
#include <string>

#include "policy/policy_model.hpp"
#include "policy/statement_kind.hpp"

namespace phigate::policy {

/// The outcome of evaluating one statement string (all its statements) against the policy.
struct decision {
  rule_action verdict = rule_action::deny;
  /// The rule that decided: for allow, the rule that allowed the strictest kind; for deny and hold, the
  /// rule that denied or held. "default-deny" when no rule allowed a kind. Empty for input with no
  /// statements (allowed: the server answers it with EmptyQueryResponse).
  std::string rule_id;
  std::string reason;  ///< for humans: what was refused or held and why
  /// The kind that decided (the strictest kind for allow); nullopt for input with no statements.
  std::optional<statement_kind> kind;
  std::optional<approval_requirement> approval;  ///< set exactly when verdict is hold

  [[nodiscard]] bool allowed() const noexcept { return verdict == rule_action::allow; }
};

/// The id of the implicit last rule: whatever no rule allows is denied.
inline constexpr std::string_view default_deny_rule_id = "default-deny";

}  // namespace phigate::policy

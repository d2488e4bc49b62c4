#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/function_catalog.hpp"
#include "policy/statement_kind.hpp"

namespace phigate::policy {

/// What a rule does with a statement it matches.
enum class rule_action : std::uint8_t {
  allow,  ///< forward the statement
  deny,   ///< refuse it with the rule id and reason
  hold,   ///< wait for approval (see approval_requirement)
};

std::string_view to_string(rule_action action) noexcept;

/// Who may release a held statement, how many of them, and how long the statement waits.
struct approval_requirement {
  std::vector<std::string> groups;  ///< approvers must belong to one of these groups
  unsigned quorum = 1;              ///< distinct approvers needed
  std::chrono::seconds timeout{15 * 60};
  /// The requester must say why (a `/* justification: ... */` comment in the statement) before the request
  /// is filed; without one the statement is refused with a message that says how to give it.
  bool justification_required = false;
};

/// A table pattern of a rule: "schema.name" or "schema.*" (every relation of the schema).
struct table_pattern {
  std::string schema;
  std::string name;  ///< "*" for every relation of the schema

  [[nodiscard]] bool matches(std::string_view table_schema, std::string_view table_name) const noexcept;
  [[nodiscard]] std::string to_string() const;
};

/// One rule of the policy file. Every list that is empty matches anything, except `kinds`, which
/// then matches every kind but unknown: a statement the analyzer cannot read is only ever matched by
/// a rule that names kind unknown explicitly.
struct policy_rule {
  std::string id;  ///< unique; appears in errors, audit and the approval UI
  std::string description;
  std::vector<std::string> groups;     ///< the person belongs to any of these...
  std::vector<std::string> users;      ///< ...or is one of these (both empty: everyone)
  std::vector<std::string> databases;  ///< database named at connection
  std::vector<statement_kind> kinds;
  std::vector<table_pattern> tables;
  /// The rule matches only statements that filter, join, group or order by a column masked for the person
  /// (`WHERE ssn LIKE '123-%'` reveals the masked value by inference).
  bool masked_predicates = false;
  rule_action action = rule_action::deny;
  std::string reason;                            ///< optional text for deny and hold messages
  std::optional<approval_requirement> approval;  ///< set exactly when action is hold
  int line = 0;                                  ///< where the rule starts in the file (1-based)

  /// True when the rule names `kind` (or names no kinds and `kind` is not unknown).
  [[nodiscard]] bool covers_kind(statement_kind kind) const noexcept;
  /// True when the rule applies to this person (by user name or any group) and database.
  [[nodiscard]] bool applies_to(std::string_view user, const std::vector<std::string>& person_groups,
                                std::string_view database) const;
};

/// A loaded, validated policy file: its rules in file order and the function catalog extended by its
/// `functions:` section. Immutable once loaded; shared by every session through the gateway snapshot.
struct policy_model {
  std::string source_path;
  std::vector<policy_rule> rules;
  function_catalog functions;
};

}  // namespace phigate::policy

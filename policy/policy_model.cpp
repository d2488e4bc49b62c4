#include "policy/policy_model.hpp"

#include <algorithm>

namespace phigate::policy {

std::string_view to_string(rule_action action) noexcept {
  switch (action) {
    case rule_action::allow:
      return "allow";
    case rule_action::deny:
      return "deny";
    case rule_action::hold:
      return "hold";
  }
  return "deny";
}

bool table_pattern::matches(std::string_view table_schema, std::string_view table_name) const noexcept {
  return schema == table_schema && (name == "*" || name == table_name);
}

std::string table_pattern::to_string() const {
  return schema + "." + name;
}

bool policy_rule::covers_kind(statement_kind kind) const noexcept {
  // A rule without kinds is a rule about everything the analyzer understood; allowing what it could not
  // read must be written down on purpose.
  if (kinds.empty()) return kind != statement_kind::unknown;
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool policy_rule::applies_to(std::string_view user, const std::vector<std::string>& person_groups,
                             std::string_view database) const {
  if (!databases.empty() && std::find(databases.begin(), databases.end(), database) == databases.end())
    return false;
  if (groups.empty() && users.empty()) return true;
  if (std::find(users.begin(), users.end(), user) != users.end()) return true;
  return std::any_of(person_groups.begin(), person_groups.end(), [&](const std::string& g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  });
}

}  // namespace phigate::policy

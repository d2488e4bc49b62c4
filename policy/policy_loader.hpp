#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy_model.hpp"

namespace phigate::policy {

/// One problem found in a policy file.
struct policy_error {
  std::string file;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown
  std::string message;
  [[nodiscard]] std::string to_string() const;  ///< "file:line:column: message"
};

/// Thrown by load_policy / parse_policy with every problem found, in file order.
class policy_exception : public std::runtime_error {
 public:
  explicit policy_exception(std::vector<policy_error> errors);
  [[nodiscard]] const std::vector<policy_error>& errors() const noexcept { return errors_; }

 private:
  std::vector<policy_error> errors_;
};

/// Reads and validates a policy file (YAML). Unknown keys, wrong types, missing or duplicate rule ids,
/// unknown kinds, unqualified table names, a hold without approval (or an approval on anything but a
/// hold), bad durations: all are errors, collected with file:line:column.
policy_model load_policy(const std::string& path);

/// The same over text already in memory; `file` names it in errors.
policy_model parse_policy(std::string_view yaml, const std::string& file);

}  // namespace phigate::policy

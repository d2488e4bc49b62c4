// load_policy: reads the policy file through yaml::reader, as the gateway config is read: every problem is
// collected with file:line:column instead of stopping at the first, and unknown keys are errors (a misspelt
// `tabels:` would otherwise widen a rule silently).
#include "policy/policy_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "policy/yaml_reader.hpp"

namespace phigate::policy {
namespace {

using yaml::entry;
using yaml::type_name;

constexpr unsigned max_quorum = 100;
constexpr std::chrono::seconds max_hold_timeout{7 * 24 * 3600};

bool valid_rule_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

class policy_reader : public yaml::reader {
 public:
  using yaml::reader::reader;

  policy_model read(const YAML::Node& root);

 private:
  template <typename T, typename Convert>
  std::vector<T> converted_list(const entry& e, Convert convert);
  std::optional<table_pattern> table_value(const entry& e);
  std::optional<std::chrono::seconds> duration_value(const entry& e);
  std::optional<unsigned> quorum_value(const entry& e);

  void read_functions(const entry& e, policy_model& model);
  void read_rules(const entry& e, policy_model& model);
  std::optional<policy_rule> read_rule(const entry& e);
  void read_action(const std::map<std::string, entry>& f, const entry& e, policy_rule& rule);
  std::optional<approval_requirement> read_approval(const entry& e);
};

template <typename T, typename Convert>
std::vector<T> policy_reader::converted_list(const entry& e, Convert convert) {
  std::vector<T> out;
  if (!e.value.IsSequence()) {
    error(e, "expected a list, got " + std::string(type_name(e.value)));
    return out;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const entry item{e.mark(), e.value[i], e.path + "[" + std::to_string(i) + "]"};
    if (auto value = convert(item)) out.push_back(std::move(*value));
  }
  return out;
}

std::optional<table_pattern> policy_reader::table_value(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  const auto dot = text->find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text->size() ||
      text->find('.', dot + 1) != std::string::npos) {
    // Unqualified names would depend on each session's search_path; rules name one relation exactly.
    error(e, "table '" + *text + "' must be written schema.table or schema.* (for example public." + *text +
                 ")");
    return std::nullopt;
  }
  return table_pattern{text->substr(0, dot), text->substr(dot + 1)};
}

std::optional<std::chrono::seconds> policy_reader::duration_value(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  std::uint64_t number = 0;
  const char* end = text->data() + text->size();
  const auto [unit, ec] = std::from_chars(text->data(), end, number);
  std::uint64_t scale = 0;
  if (ec == std::errc() && unit + 1 == end) {
    scale = *unit == 's' ? 1 : *unit == 'm' ? 60 : *unit == 'h' ? 3600 : *unit == 'd' ? 86400 : 0;
  }
  if (scale == 0 || number == 0 || number > static_cast<std::uint64_t>(max_hold_timeout.count()) / scale ||
      std::chrono::seconds(number * scale) > max_hold_timeout) {
    error(e, "expected a duration such as 90s, 15m, 2h or 1d (at most 7d), got '" + *text + "'");
    return std::nullopt;
  }
  return std::chrono::seconds(number * scale);
}

std::optional<unsigned> policy_reader::quorum_value(const entry& e) {
  unsigned value = 0;
  const std::string text = e.value.IsScalar() ? e.value.Scalar() : std::string();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!e.value.IsScalar() || e.value.Tag() == "!" || ec != std::errc() || end != text.data() + text.size() ||
      value < 1 || value > max_quorum) {
    error(e, "expected an integer from 1 to " + std::to_string(max_quorum));
    return std::nullopt;
  }
  return value;
}

void policy_reader::read_functions(const entry& e, policy_model& model) {
  const auto f = known_fields(e, {"read_only"});
  const auto it = f.find("read_only");
  if (it == f.end()) return;
  for (const auto& name : string_list(it->second).value_or(std::vector<std::string>{}))
    model.functions.add_read_only(name);
}

void policy_reader::read_rules(const entry& e, policy_model& model) {
  if (!e.value.IsSequence())
    return error(e, "expected a list of rules, got " + std::string(type_name(e.value)));
  std::map<std::string, int> first_line;
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    // A rule's own position anchors its "missing required key" errors.
    const entry item{e.value[i].Mark(), e.value[i], "rules[" + std::to_string(i) + "]"};
    auto rule = read_rule(item);
    if (!rule) continue;
    if (const auto [it, inserted] = first_line.emplace(rule->id, rule->line); !inserted) {
      error(item.mark(), item.path + ": duplicate rule id '" + rule->id + "' (first at line " +
                             std::to_string(it->second) + ")");
      continue;
    }
    model.rules.push_back(std::move(*rule));
  }
}

std::optional<policy_rule> policy_reader::read_rule(const entry& e) {
  const auto f = known_fields(e, {"id", "description", "groups", "users", "databases", "kinds", "tables",
                                  "masked_predicates", "action", "reason", "approval"});
  if (!e.value.IsMap()) return std::nullopt;
  policy_rule rule;
  rule.line = e.mark().line + 1;
  const std::size_t errors_before = error_count();
  if (const entry* id = require(f, e, "id")) {
    rule.id = string_value(*id).value_or("");
    if (!rule.id.empty() && !valid_rule_id(rule.id))
      error(*id, "rule id '" + rule.id + "' may use only letters, digits, '-', '_' and '.'");
  }
  // An empty list would read as "nobody" to a person but match everyone (an absent key's meaning); refuse it.
  for (const char* key : {"groups", "users", "databases", "kinds", "tables"}) {
    if (const auto it = f.find(key);
        it != f.end() && it->second.value.IsSequence() && it->second.value.size() == 0)
      error(it->second, "must not be empty (leave the key out to match any)");
  }
  const auto list = [&](const char* key, std::vector<std::string>& out) {
    if (const auto it = f.find(key); it != f.end()) out = string_list(it->second).value_or(out);
  };
  list("groups", rule.groups);
  list("users", rule.users);
  list("databases", rule.databases);
  if (const auto it = f.find("description"); it != f.end())
    rule.description = string_value(it->second).value_or("");
  if (const auto it = f.find("reason"); it != f.end()) rule.reason = string_value(it->second).value_or("");
  if (const auto it = f.find("masked_predicates"); it != f.end())
    rule.masked_predicates = bool_value(it->second).value_or(false);
  if (const auto it = f.find("kinds"); it != f.end()) {
    rule.kinds =
        converted_list<statement_kind>(it->second, [&](const entry& item) -> std::optional<statement_kind> {
          const auto text = string_value(item);
          if (!text) return std::nullopt;
          const auto kind = statement_kind_from_string(*text);
          if (!kind)
            error(item, "unknown kind '" + *text +
                            "' (expected read, write, ddl, export, privilege, admin, session or unknown)");
          return kind;
        });
  }
  if (const auto it = f.find("tables"); it != f.end())
    rule.tables =
        converted_list<table_pattern>(it->second, [&](const entry& item) { return table_value(item); });
  read_action(f, e, rule);
  if (error_count() != errors_before) return std::nullopt;
  return rule;
}

void policy_reader::read_action(const std::map<std::string, entry>& f, const entry& e, policy_rule& rule) {
  const entry* action = require(f, e, "action");
  const auto approval = f.find("approval");
  if (!action) return;
  const auto text = string_value(*action);
  if (!text) return;
  if (*text == "allow") {
    rule.action = rule_action::allow;
  } else if (*text == "deny") {
    rule.action = rule_action::deny;
  } else if (*text == "hold") {
    rule.action = rule_action::hold;
  } else {
    return error(*action, "unknown action '" + *text + "' (expected allow, deny or hold)");
  }
  if (rule.action == rule_action::hold && approval == f.end())
    return error(*action, "a hold needs an approval: { groups: [...], quorum: N, timeout: 15m }");
  if (rule.action != rule_action::hold && approval != f.end())
    return error(approval->second.key_mark,
                 approval->second.path + ": only a rule with action hold takes an approval");
  if (approval != f.end()) rule.approval = read_approval(approval->second);
}

std::optional<approval_requirement> policy_reader::read_approval(const entry& e) {
  const auto f = known_fields(e, {"groups", "quorum", "timeout", "justification"});
  if (!e.value.IsMap()) return std::nullopt;
  approval_requirement approval;
  if (const entry* groups = require(f, e, "groups")) {
    approval.groups = string_list(*groups).value_or(std::vector<std::string>{});
    if (groups->value.IsSequence() && groups->value.size() == 0)
      error(*groups, "must name at least one group");
  }
  if (const auto it = f.find("quorum"); it != f.end()) approval.quorum = quorum_value(it->second).value_or(1);
  if (const auto it = f.find("timeout"); it != f.end())
    approval.timeout = duration_value(it->second).value_or(approval.timeout);
  if (const auto it = f.find("justification"); it != f.end()) {
    const auto text = string_value(it->second);
    if (text && *text != "required" && *text != "optional")
      error(it->second, "unknown justification '" + *text + "' (expected required or optional)");
    approval.justification_required = text == "required";
  }
  return approval;
}

policy_model policy_reader::read(const YAML::Node& root) {
  policy_model model;
  const entry top{YAML::Mark::null_mark(), root, ""};
  if (!root.IsMap()) {
    error(root.IsNull() ? YAML::Mark::null_mark() : root.Mark(),
          "expected a mapping with 'rules:' at the top level, got " + std::string(type_name(root)));
    return model;
  }
  const auto f = known_fields(top, {"rules", "functions"});
  if (const auto it = f.find("functions"); it != f.end()) read_functions(it->second, model);
  if (const auto it = f.find("rules"); it != f.end())
    read_rules(it->second, model);
  else
    error(YAML::Mark::null_mark(), "missing required key 'rules'");
  return model;
}

}  // namespace

std::string policy_error::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return out + ": " + message;
}

policy_exception::policy_exception(std::vector<policy_error> errors)
    : std::runtime_error(errors.empty() ? "invalid policy" : errors.front().to_string()),
      errors_(std::move(errors)) {}

policy_model parse_policy(std::string_view yaml, const std::string& file) {
  policy_reader reader(file);
  policy_model model;
  try {
    model = reader.read(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    // yaml-cpp stops at the first syntax error; nothing after it can be trusted, so it is reported alone.
    reader.error(e.mark, e.msg);
  }
  auto errors = reader.take_errors<policy_error>();
  if (!errors.empty()) throw policy_exception(std::move(errors));
  model.source_path = file;
  return model;
}

policy_model load_policy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw policy_exception({{path, 0, 0, "cannot read: " + std::string(std::strerror(errno))}});
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), path);
}

}  // namespace phigate::policy

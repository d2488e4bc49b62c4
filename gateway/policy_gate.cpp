#include "gateway/policy_gate.hpp"

#include <spdlog/spdlog.h>

#include "gateway/analysis_cache.hpp"
#include "policy/policy_loader.hpp"

namespace phigate {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

policy_gate::policy_gate(std::shared_ptr<const policy::policy_model> policy, const session_identity& who)
    : policy_(std::move(policy)), evaluator_(policy_), identity_{who.user, who.groups, who.database} {}

std::string policy_gate::client_message(const policy::decision& d) {
  if (d.verdict == policy::rule_action::hold) {
    // Holds become waits once approvals land in the session; until then the statement is refused, and the
    // message says who could have approved it so the person knows the way forward.
    const auto& a = *d.approval;
    return "phigate: statement requires approval (rule " + d.rule_id + ": " + d.reason +
           "; approvers: " + join(a.groups) + ", quorum " + std::to_string(a.quorum) +
           "); approvals are not yet available through this gateway";
  }
  return "phigate: " + d.reason + " (rule " + d.rule_id + ")";
}

decision policy_gate::decide(const session_identity& who, const statement_request& request) {
  const auto analysis = analysis_cache::for_this_thread().get(request.sql, policy_);
  const auto d = evaluator_.evaluate(*analysis, identity_, session_);
  if (d.allowed()) {
    // Recorded when forwarded, not when the server confirms: a SET that then fails leaves phigate
    // resolving against a path the server does not use (documented in README "Policy").
    policy::apply_session_changes(*analysis, session_);
    return decision::allow();
  }
  spdlog::info("session of {}: {} by rule {}: {}", who.user,
               d.verdict == policy::rule_action::hold ? "held" : "denied", d.rule_id, d.reason);
  return decision::deny("42501", client_message(d));
}

std::shared_ptr<const policy::policy_model> load_gateway_policy(const gateway_config& config) {
  if (config.policy_file.empty()) {
    spdlog::warn(
        "{}: no policy_file: every statement is allowed (add a policy to classify and refuse statements)",
        config.source_path.empty() ? "config" : config.source_path);
    return nullptr;
  }
  try {
    return std::make_shared<const policy::policy_model>(policy::load_policy(config.policy_file));
  } catch (const policy::policy_exception& e) {
    std::vector<config_error> errors;
    for (const auto& err : e.errors()) errors.push_back({err.file, err.line, err.column, err.message});
    throw config_exception(std::move(errors));
  }
}

}  // namespace phigate

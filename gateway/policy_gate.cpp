#include "gateway/policy_gate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gateway/analysis_cache.hpp"
#include "gateway/lineage_planner.hpp"
#include "policy/policy_loader.hpp"

namespace phigate {

namespace {

void add_unique(std::vector<std::string>& items, std::string item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

policy_gate::policy_gate(std::shared_ptr<const policy::policy_model> policy, const session_identity& who,
                         std::shared_ptr<audit_recorder> audit, std::shared_ptr<const masking_config> masking,
                         std::shared_ptr<column_catalog> catalog)
    : policy_(std::move(policy)),
      evaluator_(policy_),
      identity_{who.user, who.groups, who.database},
      audit_(std::move(audit)),
      masking_(std::move(masking)),
      catalog_(std::move(catalog)),
      database_(who.database) {
  if (masking_) session_.masked_columns = masked_columns_of(*masking_);
}

decision policy_gate::allow(const session_identity& who, const statement_request& request,
                            const std::shared_ptr<const policy::analysis>& analysis,
                            const policy::decision& d) {
  auto allowed = decision::allow();
  if (masking_) {
    auto lineage = plan_lineage(*analysis, session_, *masking_);
    if (!lineage.refusal.empty()) {
      spdlog::info("session of {}: denied by {}: {}", who.user, lineage.rule_id, lineage.refusal);
      const policy::decision refused{policy::rule_action::deny, lineage.rule_id, lineage.refusal, d.kind, {}};
      return recorded(who, request, analysis, refused, decision::deny("42501", lineage.refusal));
    }
    allowed.plan = std::move(lineage.plan);
  }
  // Recorded when forwarded, not when the server confirms: a SET that then fails leaves phigate
  // resolving against a path the server does not use (documented in README "Policy").
  policy::apply_session_changes(*analysis, session_);
  if (const auto changes = policy::prepared_changes(*analysis); !changes.empty()) {
    allowed.forgets_all_statements = changes.all_dropped;
    allowed.forgets_statements = changes.names;
  }
  const auto& statements = analysis->statements;
  if (catalog_ && std::any_of(statements.begin(), statements.end(),
                              [](const auto& s) { return s.kinds.contains(policy::statement_kind::ddl); }))
    catalog_->refresh(database_);
  return recorded(who, request, analysis, d, std::move(allowed));
}

decision policy_gate::recorded(const session_identity& who, const statement_request& request,
                               const std::shared_ptr<const policy::analysis>& analysis,
                               const policy::decision& d, decision out) const {
  return audit_ ? audit_->record_decision(who, request, analysis, &d, std::move(out)) : out;
}

std::string policy_gate::client_message(const policy::decision& d) {
  if (d.verdict == policy::rule_action::hold) {
    // Used only when the statement cannot be held (the gateway has no approvals store): the message says
    // who could have approved it so the person knows the way forward.
    const auto& a = *d.approval;
    return "phigate: statement requires approval (rule " + d.rule_id + ": " + d.reason +
           "; approvers: " + join(a.groups) + ", quorum " + std::to_string(a.quorum) +
           "); approvals are not configured on this gateway";
  }
  return "phigate: " + d.reason + " (rule " + d.rule_id + ")";
}

std::shared_ptr<const hold_details> policy_gate::describe_hold(const policy::analysis& analysis,
                                                               const policy::decision& d) const {
  auto h = std::make_shared<hold_details>();
  h->rule_id = d.rule_id;
  h->kind = d.kind ? std::string(policy::to_string(*d.kind)) : "unknown";
  h->reason = d.reason;
  for (const auto& st : analysis.statements) {
    h->normalized += (h->normalized.empty() ? "" : ";\n") + st.normalized;
    for (const auto& r : st.reasons) h->kind_reasons.push_back(r.reason);  // "export: COPY ... TO STDOUT"
    for (const auto* list : {&st.tables_read, &st.tables_written})
      for (const auto& t : *list) add_unique(h->tables, t.qualified());
    for (const auto* list : {&st.columns_read, &st.columns_written})
      for (const auto& c : *list) add_unique(h->columns, c.to_string());
  }
  const auto& a = *d.approval;
  h->approver_groups = a.groups;
  h->quorum = a.quorum;
  h->timeout = a.timeout;
  h->justification_required = a.justification_required;
  h->settings = {{"search_path", join(session_.search_path)}, {"role", session_.role}};
  return h;
}

decision policy_gate::decide(const session_identity& who, const statement_request& request) {
  // Fail closed: nothing runs that the audit log cannot record.
  if (audit_ && !audit_->healthy()) return audit_->refuse_unavailable(who, request);
  const auto analysis = analysis_cache::for_this_thread().get(request.sql, policy_);
  const auto d = evaluator_.evaluate(*analysis, identity_, session_);
  // A statement running under an approval consumed for its exact bytes: the hold is satisfied, a deny
  // (a policy made stricter since the request was filed) still refuses it.
  if (d.allowed() || (request.approved && d.verdict == policy::rule_action::hold))
    return allow(who, request, analysis, d);
  spdlog::info("session of {}: {} by rule {}: {}", who.user,
               d.verdict == policy::rule_action::hold ? "held" : "denied", d.rule_id, d.reason);
  if (d.verdict == policy::rule_action::hold)
    return recorded(who, request, analysis, d,
                    decision::held(client_message(d), describe_hold(*analysis, d)));
  return recorded(who, request, analysis, d, decision::deny("42501", client_message(d)));
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

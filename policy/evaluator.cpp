// Evaluation is per kind: a statement that is both a read and an export must pass the policy as a read and
// as an export, each decided by its own first matching rule, and the strictest answer stands. Deciding per
// statement on "any kind listed" would let a read rule carry an export through.
#include "policy/evaluator.hpp"

#include <algorithm>

#include "policy/masked_lineage.hpp"

namespace phigate::policy {
namespace {

int severity(rule_action action) noexcept {
  switch (action) {
    case rule_action::allow:
      return 0;
    case rule_action::hold:
      return 1;
    case rule_action::deny:
      return 2;
  }
  return 2;
}

/// Every relation the statement touches, each with every relation it may resolve to.
std::vector<std::vector<table_ref>> resolved_tables(const statement_facts& facts,
                                                    const session_facts& session) {
  std::vector<std::vector<table_ref>> out;
  for (const auto* list : {&facts.tables_read, &facts.tables_written}) {
    for (const auto& table : *list) out.push_back(resolve_table(table, session));
  }
  return out;
}

bool listed(const policy_rule& rule, const table_ref& table) {
  return std::any_of(rule.tables.begin(), rule.tables.end(),
                     [&](const table_pattern& p) { return p.matches(table.schema, table.name); });
}

// An allow must cover everything the statement may touch; a deny or hold needs only one listed relation.
bool tables_match(const policy_rule& rule, const std::vector<std::vector<table_ref>>& tables) {
  if (rule.tables.empty()) return true;
  if (rule.action == rule_action::allow) {
    return std::all_of(tables.begin(), tables.end(), [&](const std::vector<table_ref>& candidates) {
      return std::all_of(candidates.begin(), candidates.end(),
                         [&](const table_ref& t) { return listed(rule, t); });
    });
  }
  return std::any_of(tables.begin(), tables.end(), [&](const std::vector<table_ref>& candidates) {
    return std::any_of(candidates.begin(), candidates.end(),
                       [&](const table_ref& t) { return listed(rule, t); });
  });
}

// " of public.a, public.b" naming every relation the statement may touch, or "" when it touches none.
std::string tables_text(const std::vector<std::vector<table_ref>>& tables) {
  std::vector<std::string> names;
  for (const auto& candidates : tables) {
    for (const auto& table : candidates) {
      if (std::find(names.begin(), names.end(), table.qualified()) == names.end())
        names.push_back(table.qualified());
    }
  }
  std::string out;
  for (const auto& name : names) out += (out.empty() ? " of " : ", ") + name;
  return out;
}

std::string kind_reason_text(const statement_facts& facts, statement_kind kind) {
  for (const auto& r : facts.reasons) {
    if (r.kind == kind) return r.reason;
  }
  return std::string(to_string(kind));
}

// " (filters on masked column public.patients.ssn, ...)" for the masked columns in predicates.
std::string inference_text(const std::vector<std::size_t>& predicates, const session_facts& session) {
  std::string out;
  for (const std::size_t i : predicates)
    out += (out.empty() ? "filters on masked column " : ", ") + session.masked_columns[i].qualified();
  return out;
}

decision decide_kind(const policy_model& model, const statement_facts& facts, statement_kind kind,
                     const std::vector<std::vector<table_ref>>& tables, const identity_facts& who,
                     const std::string& inference) {
  std::string why = kind_reason_text(facts, kind);
  for (const auto& rule : model.rules) {
    if (!rule.covers_kind(kind) || !rule.applies_to(who.user, who.groups, who.database)) continue;
    if (!tables_match(rule, tables)) continue;
    if (rule.masked_predicates) {
      if (inference.empty()) continue;
      why += "; " + inference;
    }
    decision d{rule.action, rule.id, {}, kind, rule.approval};
    const std::string detail = rule.reason.empty() ? why : rule.reason + " (" + why + ")";
    if (rule.action == rule_action::deny) d.reason = std::string(to_string(kind)) + " denied: " + detail;
    if (rule.action == rule_action::hold)
      d.reason = std::string(to_string(kind)) + " requires approval: " + detail;
    if (rule.action == rule_action::allow) d.reason = "allowed: " + why;
    return d;
  }
  decision d{rule_action::deny, std::string(default_deny_rule_id), {}, kind, std::nullopt};
  d.reason = kind == statement_kind::unknown
                 ? "statement cannot be analyzed and no rule allows unknown statements (" + why + ")"
                 : "no rule allows " + std::string(to_string(kind)) + tables_text(tables) + " for " +
                       who.user + " on " + who.database + " (" + why + ")";
  return d;
}

}  // namespace

evaluator::evaluator(std::shared_ptr<const policy_model> model) : model_(std::move(model)) {}

decision evaluator::evaluate(const analysis& input, const identity_facts& who,
                             const session_facts& session) const {
  if (input.statements.empty()) return {rule_action::allow, {}, "no statement", std::nullopt, std::nullopt};
  std::optional<decision> result;
  for (const auto& facts : input.statements) {
    const auto tables = resolved_tables(facts, session);
    const std::string inference =
        inference_text(find_masked_lineage(facts, session.masked_columns, session).predicates, session);
    kind_set kinds = facts.kinds;
    // A statement without any kind is one the analyzer could not place: fail closed.
    if (kinds.empty()) kinds.insert(statement_kind::unknown);
    for (std::size_t i = 0; i < statement_kind_count; ++i) {
      const auto kind = static_cast<statement_kind>(i);
      if (!kinds.contains(kind)) continue;
      decision d = decide_kind(*model_, facts, kind, tables, who, inference);
      // Stricter verdict wins; among equal verdicts the stricter kind names the decision.
      if (!result || severity(d.verdict) > severity(result->verdict) ||
          (severity(d.verdict) == severity(result->verdict) &&
           strictness(kind) > strictness(*result->kind))) {
        result = std::move(d);
      }
    }
  }
  return *result;
}

}  // namespace phigate::policy

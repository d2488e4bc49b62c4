#include "audit/record_item.hpp"

namespace phigate::audit {

namespace {

bool same_list(const std::vector<std::string>* a, const std::vector<std::string>* b) {
  if (a == b) return true;
  const bool a_empty = !a || a->empty();
  const bool b_empty = !b || b->empty();
  if (a_empty || b_empty) return a_empty == b_empty;
  return *a == *b;
}

}  // namespace

bool operator==(const decision_view& a, const decision_view& b) noexcept {
  return same_text(a.verdict, b.verdict) && same_text(a.rule_id, b.rule_id) &&
         same_text(a.reason, b.reason) && same_text(a.sqlstate, b.sqlstate) && same_list(a.kinds, b.kinds) &&
         same_list(a.tables, b.tables);
}

record_item view_of(const event& e) {
  record_item item;
  item.kind = e.kind;
  item.time = e.time;
  item.session = e.session;
  item.who = e.who.get();
  item.result = e.result;
  item.detail = e.detail;
  if (e.statement) {
    const auto& s = *e.statement;
    item.statement =
        statement_view{s.normalized, s.text_hmac, s.params_hmac, s.key_id, s.text ? &*s.text : nullptr};
  }
  if (e.decision) {
    const auto& d = *e.decision;
    item.decision = decision_view{d.verdict, d.rule_id, d.reason, &d.kinds, &d.tables, d.sqlstate};
  }
  if (e.approval) item.approval = &*e.approval;
  if (e.outcome) item.outcome = &*e.outcome;
  return item;
}

}  // namespace phigate::audit

#include "gateway/audit_recorder.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>
#include <utility>

#include "audit/sqlite_store.hpp"
#include "gateway/config.hpp"
#include "policy/analyzer.hpp"
#include "policy/decision.hpp"

namespace phigate {

namespace {

// Set by audit_session before each client message; read by the decide step on the same thread while the
// session handles that message.
thread_local audit_context current;

bool same_actor(const audit::actor& a, const session_identity& who) {
  return a.person == who.user && a.database == who.database && a.client_address == who.client_address &&
         a.application == who.application_name && a.upstream_role == who.upstream_role &&
         a.upstream_user == who.upstream_user && a.groups == who.groups;
}

// The session's own actor when it is `who`'s (the usual case: not copied), else a new one.
std::shared_ptr<const audit::actor> actor_for(const session_identity& who) {
  if (current.who && *current.who && (current.identity == &who || same_actor(**current.who, who)))
    return *current.who;
  return audit_recorder::make_actor(who);
}

// Whether `sql` is the text of the statement the session is handling (its Query or Execute), not another
// one the gate decides about on the way (a Parse, a Bind of a held statement).
bool is_current_statement(std::string_view sql) {
  return current.text && *current.text && (*current.text)->sql == sql;
}

void log_notice(audit::log_notice notice, const std::string& message) {
  switch (notice) {
    case audit::log_notice::unhealthy:
      spdlog::error("audit log unavailable: {}; refusing new statements with SQLSTATE {} until it recovers",
                    message, audit_unavailable_sqlstate);
      break;
    case audit::log_notice::recovered:
      spdlog::warn("{}; statements are accepted again", message);
      break;
    case audit::log_notice::warning:
      spdlog::warn("audit: {}", message);
      break;
  }
}

std::unique_ptr<audit::audit_log> open_log(const audit_config& config) {
  audit::log_options options;
  options.checkpoint_interval = config.checkpoint_interval;
  options.commit_delay = config.commit_delay;
  options.sync_interval = config.sync_interval;
  options.checkpoint_file = config.checkpoint_file;
  if (!config.signing_key_file.empty()) {
    std::string problem;
    auto key = audit::signing_key::load_pem_file(config.signing_key_file, problem);
    if (!key) throw std::runtime_error("audit.signing_key_file: " + problem);
    options.signer = std::make_shared<const audit::signing_key>(std::move(*key));
  } else {
    spdlog::warn("audit: no signing_key_file: the log is hash-chained but no checkpoint is signed");
  }
  auto store = std::make_unique<audit::sqlite_store>(config.store, audit::sqlite_store::mode::write);
  auto log = std::make_unique<audit::audit_log>(std::move(store), std::move(options), log_notice);
  spdlog::info("audit: recording to {} (HMAC key id {}{})", log->describe(), config.key_id,
               config.keep_literals ? ", statement text kept" : "");
  return log;
}

std::string_view verdict_name(decision::verdict v) {
  switch (v) {
    case decision::verdict::allow:
      return "allow";
    case decision::verdict::deny:
      return "deny";
    case decision::verdict::hold:
      return "hold";
  }
  return "deny";
}

// The current session's open batch when `session` is that session, else null.
std::shared_ptr<statement_batch>* batch_of(std::uint64_t session) {
  return current.batch && current.session == session ? current.batch : nullptr;
}

// Nothing more joins the session's open batch: a record that must follow its statements comes next.
void end_batch(std::uint64_t session) {
  if (auto* open = batch_of(session); open && *open) {
    (*open)->close();
    open->reset();
  }
}

// Adds the fact `fill(statement_fact&)` writes to the session's open batch `open`, or to a new one it
// queues on `log`; `slot` (if any) learns where.
template <class Fill>
void batch_fact(audit::audit_log& log, audit_hashing h, std::shared_ptr<statement_batch>& open,
                std::uint64_t session, const std::shared_ptr<const audit::actor>& who, const Fill& fill,
                statement_slot* slot) {
  std::size_t index = 0;
  if (!open || open->who() != who || !open->add(fill, index)) {
    auto batch = std::make_shared<statement_batch>(h, session, who, open ? open->size() : 0);
    batch->add(fill, index);
    if (!log.append(queue_batch(batch))) {  // dropped: the log says so in its notices
      open.reset();
      if (slot) *slot = {};
      return;
    }
    open = std::move(batch);
  }
  if (slot) *slot = {open, index};
}

// The decide step's verdict `d` as the record says it (`verdict`: the policy's, when there is one).
void fill_verdict(fact_verdict& info, const decision& d, const policy::decision* verdict, bool approved) {
  info.verdict = verdict_name(d.what);
  if (d.what != decision::verdict::allow) info.sqlstate = d.sqlstate;
  if (verdict) {
    info.rule_id = verdict->rule_id;
    if (d.what != decision::verdict::allow) info.reason = verdict->reason;
  }
  if (approved) info.reason = "runs under a consumed approval";
}

}  // namespace

audit_recorder::audit_recorder(const audit_config& config)
    : audit_recorder(open_log(config),
                     std::make_shared<const audit::hmac_key>(config.key_id, config.hmac_key),
                     config.keep_literals) {}

audit_recorder::audit_recorder(std::unique_ptr<audit::audit_log> log,
                               std::shared_ptr<const audit::hmac_key> key, bool keep_literals)
    : log_(std::move(log)), key_(std::move(key)), keep_literals_(keep_literals) {}

audit_recorder::~audit_recorder() {
  log_->close();
}

std::shared_ptr<const audit::actor> audit_recorder::make_actor(const session_identity& who) {
  return std::make_shared<const audit::actor>(audit::actor{who.user, who.groups, who.client_address,
                                                           who.application_name, who.database,
                                                           who.upstream_role, who.upstream_user});
}

void audit_recorder::set_current(audit_context context) noexcept {
  current = context;
}
void audit_recorder::set_current_session(std::uint64_t session) noexcept {
  current = audit_context{session};
}

std::string audit_recorder::encode_params(const pg::bind& bind) {
  std::string out;
  const auto number = [&](long long n) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
  };
  number(static_cast<long long>(bind.params.size()));
  out += ';';
  for (std::size_t i = 0; i < bind.params.size(); ++i) {
    const int format = bind.param_formats.empty()       ? 0
                       : bind.param_formats.size() == 1 ? bind.param_formats[0]
                                                        : bind.param_formats[i];
    number(format);
    out += ':';
    if (!bind.params[i]) {
      out += "-1;";
      continue;
    }
    const auto& bytes = *bind.params[i];
    number(static_cast<long long>(bytes.size()));
    out += ':';
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    out += ';';
  }
  return out;
}
std::uint64_t audit_recorder::current_session() noexcept {
  return current.session;
}

audit::event audit_recorder::make_event(audit::event_kind kind, std::uint64_t session,
                                        const session_identity* who) const {
  audit::event e;
  e.kind = kind;
  e.session = session;
  if (who) e.who = make_actor(*who);
  return e;
}

void audit_recorder::fill_decision(statement_fact& fact, const statement_request& request,
                                   bool current_statement,
                                   const std::shared_ptr<const policy::analysis>& analysis) {
  // The session's statement shares the text the session copied for its outcome; another gets a copy.
  fact.text = current_statement ? *current.text : std::make_shared<audit_statement_text>(request.sql);
  if (request.bind)
    fact.params = encode_params(*request.bind);  // the Bind's bytes do not outlive the call
  else if (current_statement && current.params)
    fact.params = *current.params;  // an Execute: its portal's Bind
  if (analysis) {
    fact.summary = summary_of(analysis);
    fact.kinds = analysis->kinds;
  }
}

bool audit_recorder::append_single(std::shared_ptr<const audit::actor> who, statement_fact fact,
                                   bool durable) {
  const auto session = current_session();
  end_batch(session);
  auto facts = single_fact(hashing(), session, std::move(who), std::move(fact));
  return durable ? log_->append_durable(std::move(facts)) : log_->append(std::move(facts));
}

decision audit_recorder::refuse_unavailable(const session_identity& who, const statement_request& request) {
  const bool ours = is_current_statement(request.sql);
  if (ours && current.slot) *current.slot = {};
  statement_fact fact;
  fill_decision(fact, request, ours, nullptr);
  fact.verdict = fact_verdict{"deny", std::string(audit_unavailable_rule), "the audit log is unavailable",
                              std::string(audit_unavailable_sqlstate)};
  append_single(actor_for(who), std::move(fact), false);
  return decision::deny(std::string(audit_unavailable_sqlstate),
                        "phigate: the audit log is unavailable, so statements are refused until it recovers "
                        "(the gateway's log says why)");
}

void audit_recorder::gateway_start(const gateway_config& config) {
  auto e = make_event(audit::event_kind::gateway_start, 0, nullptr);
  e.detail = "config " + config.source_path;
  log_->append_durable(std::move(e));
}

void audit_recorder::gateway_stop() {
  log_->append_durable(make_event(audit::event_kind::gateway_stop, 0, nullptr));
}

void audit_recorder::policy_reload(bool ok, std::string detail) {
  auto e = make_event(audit::event_kind::policy_reload, 0, nullptr);
  e.result = ok ? "ok" : "failed";
  e.detail = std::move(detail);
  log_->append(std::move(e));
}

void audit_recorder::connection(std::uint64_t session, const session_identity& who) {
  log_->append(make_event(audit::event_kind::connection, session, &who));
}

void audit_recorder::authentication(std::uint64_t session, const session_identity& who, bool ok,
                                    std::string detail) {
  auto e = make_event(audit::event_kind::authentication, session, &who);
  e.result = ok ? "ok" : "failed";
  e.detail = std::move(detail);
  log_->append(std::move(e));
}

decision audit_recorder::record_decision(const session_identity& who, const statement_request& request,
                                         const std::shared_ptr<const policy::analysis>& analysis,
                                         const policy::decision* verdict, decision d) {
  // Only the statement the session is handling learns where its decision is, for its outcome.
  const bool ours = is_current_statement(request.sql);
  statement_slot* slot = ours ? current.slot : nullptr;
  const auto fill = [&](statement_fact& fact) {
    fill_decision(fact, request, ours, analysis);
    fill_verdict(fact.verdict, d, verdict, request.approved);
  };
  auto actor = actor_for(who);
  auto* open = batch_of(current_session());
  if (d.what == decision::verdict::allow && open && current.who && actor == *current.who) {
    batch_fact(*log_, hashing(), *open, current_session(), actor, fill, slot);
    return d;
  }
  if (slot) *slot = {};  // no outcome follows a refusal; nor may it join an earlier decision
  statement_fact fact;
  fill(fact);
  // A denial or hold must be on disk before the client hears of it: an auditor asking "was this refused?"
  // gets an answer for every refusal the client saw.
  if (d.what == decision::verdict::allow) {
    append_single(std::move(actor), std::move(fact), false);
    return d;
  }
  if (!append_single(std::move(actor), std::move(fact), true)) return refuse_unavailable(who, request);
  return d;
}

bool audit_recorder::approval_step(const session_identity& requester, std::uint64_t session,
                                   std::string_view request_id, std::string_view step,
                                   const std::vector<std::string>& approvers, std::string_view reason,
                                   std::string_view digest, std::string_view normalized) {
  end_batch(session);  // the step follows the statements the session sent before it
  auto e = make_event(audit::event_kind::approval, session, &requester);
  e.approval = audit::approval_info{std::string(request_id), std::string(step), approvers,
                                    std::string(reason), std::string(digest)};
  if (!normalized.empty()) {
    audit::statement_info s;
    s.normalized = std::string(normalized);
    e.statement = std::move(s);
  }
  return log_->append_durable(std::move(e));
}

void audit_recorder::outcome(std::uint64_t session, const std::shared_ptr<const audit::actor>& who,
                             shared_statement_text sql, const statement_slot& slot,
                             audit::outcome_info&& result, std::shared_ptr<statement_batch>& open) {
  if (slot.batch && slot.batch->complete(slot.index, result)) return;
  const auto fill = [&](statement_fact& fact) {
    fact.text = std::move(sql);
    fact.decided = false;
    fact.outcome = std::move(result);
  };
  batch_fact(*log_, hashing(), open, session, who, fill, nullptr);
}

}  // namespace phigate

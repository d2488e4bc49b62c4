#include "gateway/audit_recorder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <unordered_map>
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

// The session's own actor when it is `who`'s (the usual case: compared, not copied), else a new one.
std::shared_ptr<const audit::actor> actor_for(const session_identity& who) {
  if (current.who && *current.who && same_actor(**current.who, who)) return *current.who;
  return audit_recorder::make_actor(who);
}

// Whether `sql` is the text of the statement the session is handling (its Query or Execute), not another
// one the gate decides about on the way (a Parse, a Bind of a held statement).
bool is_current_statement(std::string_view sql) {
  return current.text && *current.text && (*current.text)->sql == sql;
}

// The text the session copied for the statement's outcome record when it is `sql`, else a copy.
shared_statement_text text_for(std::string_view sql) {
  if (is_current_statement(sql)) return *current.text;
  return std::make_shared<audit_statement_text>(sql);
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

// Writer thread: the statement's keyed hash, worked out once for its decision and outcome records.
const std::string& text_hmac(audit_statement_text& text, const audit::hmac_key& key) {
  if (text.text_hmac.empty()) text.text_hmac = key.digest_hex(text.sql);
  return text.text_hmac;
}

// What a decision record takes from the analysis besides its kinds: the normalized text of every
// statement and every relation read or written, as written.
struct statement_summary {
  std::string normalized;
  std::vector<std::string> tables;
};
using shared_summary = std::shared_ptr<const statement_summary>;

statement_summary summarize(const policy::analysis& analysis) {
  statement_summary out;
  for (const auto& st : analysis.statements)
    if (!st.normalized.empty()) out.normalized += (out.normalized.empty() ? "" : "; ") + st.normalized;
  for (const auto& st : analysis.statements) {
    for (const auto* list : {&st.tables_read, &st.tables_written}) {
      for (const auto& t : *list) {
        auto name = t.qualified();
        if (std::find(out.tables.begin(), out.tables.end(), name) == out.tables.end())
          out.tables.push_back(std::move(name));
      }
    }
  }
  return out;
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Session thread: summaries of single statements by normalized text, so a statement seen before costs one
// lookup and the analysis (a fresh copy per statement for texts that differ only in literals) is never kept
// past the decide step. The normalized text fixes the relations: literals are all it leaves out. Only
// normalized text is kept, never literals. Several statements in one Query are summarized each time.
shared_summary summary_of(const policy::analysis& analysis) {
  constexpr std::size_t max_entries = 1024;
  thread_local std::unordered_map<std::string, shared_summary, string_hash, std::equal_to<>> known;
  if (analysis.statements.size() != 1 || analysis.statements.front().normalized.empty())
    return std::make_shared<const statement_summary>(summarize(analysis));
  const std::string_view normalized = analysis.statements.front().normalized;
  if (auto it = known.find(normalized); it != known.end()) return it->second;
  auto summary = std::make_shared<const statement_summary>(summarize(analysis));
  if (known.size() >= max_entries) known.clear();
  known.emplace(std::string(normalized), summary);
  return summary;
}

// Writer thread: "read,export" as a list.
void add_kinds(audit::decision_info& info, policy::kind_set kinds) {
  const std::string names = kinds.to_string();
  for (std::size_t start = 0; start < names.size();) {
    const auto comma = names.find(',', start);
    info.kinds.push_back(names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? names.size() : comma + 1;
  }
}

// What the writer needs besides the facts: the HMAC key and whether statement text is kept. The recorder
// owns the key and closes its log (building every queued record) before the key goes.
struct hashing {
  const audit::hmac_key* key = nullptr;
  bool keep_literals = false;
};

// What decision and outcome records of one statement share: the session, the person, the text. The writer
// fills the common fields and the text's HMAC.
class pending_statement_event : public audit::pending_event {
 protected:
  pending_statement_event(hashing h, std::uint64_t session, std::shared_ptr<const audit::actor> who,
                          shared_statement_text text)
      : hashing_(h), session_(session), who_(std::move(who)), text_(std::move(text)) {}

  audit::event start(audit::event_kind kind) {
    audit::event e;
    e.kind = kind;
    e.time = time_;
    e.session = session_;
    e.who = std::move(who_);
    return e;
  }
  audit::statement_info statement() const {
    audit::statement_info s;
    s.key_id = hashing_.key->id();
    s.text_hmac = text_hmac(*text_, *hashing_.key);
    return s;
  }

  hashing hashing_;
  std::chrono::system_clock::time_point time_ = std::chrono::system_clock::now();
  std::uint64_t session_;
  std::shared_ptr<const audit::actor> who_;
  shared_statement_text text_;
};

// A decision record as the session saw it: verdict, rule and reason, the text, the parameters, the kinds
// and the statement's summary. The writer adds the HMACs and the lists. An allowed statement's outcome that
// arrives while this is still queued is folded in: one `statement` record with both sections, one body,
// one chain hash and one row instead of two, which halves the writer's work per statement.
class pending_decision final : public pending_statement_event {
 public:
  pending_decision(hashing h, std::uint64_t session, std::shared_ptr<const audit::actor> who,
                   shared_statement_text text, std::optional<std::string> params, shared_summary summary,
                   policy::kind_set kinds, audit::decision_info info)
      : pending_statement_event(h, session, std::move(who), std::move(text)),
        params_(std::move(params)),
        summary_(std::move(summary)),
        kinds_(kinds),
        info_(std::move(info)) {}

  // Under the log's queue lock, before the writer takes this event.
  bool absorb(audit::outcome_info& result) {
    if (outcome_) return false;
    outcome_ = std::move(result);
    return true;
  }

  audit::event build() override {
    audit::event e = start(outcome_ ? audit::event_kind::statement : audit::event_kind::decision);
    audit::statement_info s = statement();
    if (summary_) {
      s.normalized = summary_->normalized;
      add_kinds(info_, kinds_);
      info_.tables = summary_->tables;
    }
    if (params_) s.params_hmac = hashing_.key->digest_hex(*params_);
    if (hashing_.keep_literals) s.text = text_->sql;
    e.statement = std::move(s);
    e.decision = std::move(info_);
    e.outcome = std::move(outcome_);
    return e;
  }

 private:
  std::optional<std::string> params_;  ///< encode_params of the Bind, when there was one
  shared_summary summary_;             ///< null without an analysis
  policy::kind_set kinds_;
  audit::decision_info info_;
  std::optional<audit::outcome_info> outcome_;  ///< folded in by absorb()
};

// An outcome record: the counters the session kept; the writer adds the text's HMAC.
class pending_outcome final : public pending_statement_event {
 public:
  pending_outcome(hashing h, std::uint64_t session, std::shared_ptr<const audit::actor> who,
                  shared_statement_text text, audit::outcome_info result)
      : pending_statement_event(h, session, std::move(who), std::move(text)), result_(std::move(result)) {}

  audit::event build() override {
    audit::event e = start(audit::event_kind::outcome);
    e.statement = statement();
    e.outcome = std::move(result_);
    return e;
  }

 private:
  audit::outcome_info result_;
};

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

std::unique_ptr<audit::pending_event> audit_recorder::decision_facts(const session_identity& who,
                                                                     const statement_request& request,
                                                                     shared_statement_text text,
                                                                     const policy::analysis* analysis,
                                                                     audit::decision_info info) const {
  std::optional<std::string> params;
  if (request.bind)
    params = encode_params(*request.bind);  // the Bind's bytes do not outlive the call
  else if (current.params && is_current_statement(request.sql))
    params = *current.params;  // an Execute: its portal's Bind
  return std::make_unique<pending_decision>(hashing{key_.get(), keep_literals_}, current_session(),
                                            actor_for(who), std::move(text), std::move(params),
                                            analysis ? summary_of(*analysis) : nullptr,
                                            analysis ? analysis->kinds : policy::kind_set{}, std::move(info));
}

decision audit_recorder::refuse_unavailable(const session_identity& who, const statement_request& request) {
  log_->append(decision_facts(who, request, text_for(request.sql), nullptr,
                              audit::decision_info{"deny",
                                                   std::string(audit_unavailable_rule),
                                                   "the audit log is unavailable",
                                                   {},
                                                   {},
                                                   std::string(audit_unavailable_sqlstate)}));
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
  audit::decision_info info;
  info.verdict = std::string(verdict_name(d.what));
  if (d.what != decision::verdict::allow) info.sqlstate = d.sqlstate;
  if (verdict) {
    info.rule_id = verdict->rule_id;
    if (d.what != decision::verdict::allow) info.reason = verdict->reason;
  }
  if (request.approved) info.reason = "runs under a consumed approval";
  // Only the statement the session is handling gets the ticket its outcome looks for.
  std::uint64_t* ticket = is_current_statement(request.sql) ? current.decision_ticket : nullptr;
  auto facts = decision_facts(who, request, text_for(request.sql), analysis.get(), std::move(info));
  if (d.what == decision::verdict::allow) {
    const auto queued = log_->append(std::move(facts));
    if (ticket) *ticket = queued;
    return d;
  }
  if (ticket) *ticket = 0;  // no outcome follows a refusal; nor may it join an earlier decision
  // A denial or hold must be on disk before the client hears of it: an auditor asking "was this refused?"
  // gets an answer for every refusal the client saw.
  if (!log_->append_durable(std::move(facts))) return refuse_unavailable(who, request);
  return d;
}

bool audit_recorder::approval_step(const session_identity& requester, std::uint64_t session,
                                   std::string_view request_id, std::string_view step,
                                   const std::vector<std::string>& approvers, std::string_view reason,
                                   std::string_view digest, std::string_view normalized) {
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

void audit_recorder::outcome(std::uint64_t session, std::shared_ptr<const audit::actor> who,
                             shared_statement_text sql, std::uint64_t ticket, audit::outcome_info result) {
  // The ticket names the pending_decision this recorder queued for this statement on this session's thread;
  // once the writer has taken it, amend() does nothing and the outcome gets its own record.
  if (ticket != 0 && log_->amend(ticket, [&](audit::pending_event& queued) {
        return static_cast<pending_decision&>(queued).absorb(result);
      }))
    return;
  log_->append(std::make_unique<pending_outcome>(hashing{key_.get(), keep_literals_}, session, std::move(who),
                                                 std::move(sql), std::move(result)));
}

}  // namespace phigate

#include "gateway/audit_recorder.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "audit/sqlite_store.hpp"
#include "gateway/config.hpp"
#include "policy/analyzer.hpp"
#include "policy/decision.hpp"

namespace phigate {

namespace {

thread_local std::uint64_t current_session_id = 0;

audit::actor actor_of(const session_identity& who) {
  return {who.user,     who.groups,        who.client_address, who.application_name,
          who.database, who.upstream_role, who.upstream_user};
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

// Parameters as HMAC input: count, then per parameter its format and a length-prefixed value (-1 for NULL),
// so no two different parameter lists encode alike.
std::string encode_params(const pg::bind& bind) {
  std::string out = std::to_string(bind.params.size()) + ";";
  for (std::size_t i = 0; i < bind.params.size(); ++i) {
    const int format = bind.param_formats.empty()       ? 0
                       : bind.param_formats.size() == 1 ? bind.param_formats[0]
                                                        : bind.param_formats[i];
    out += std::to_string(format) + ":";
    if (!bind.params[i]) {
      out += "-1;";
      continue;
    }
    const auto& bytes = *bind.params[i];
    out += std::to_string(bytes.size()) + ":";
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    out += ";";
  }
  return out;
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

void audit_recorder::set_current_session(std::uint64_t session) noexcept {
  current_session_id = session;
}
std::uint64_t audit_recorder::current_session() noexcept {
  return current_session_id;
}

audit::event audit_recorder::make_event(audit::event_kind kind, std::uint64_t session,
                                        const session_identity* who) const {
  audit::event e;
  e.kind = kind;
  e.session = session;
  if (who) e.who = actor_of(*who);
  return e;
}

audit::statement_info audit_recorder::describe_statement(std::string_view sql, const pg::bind* bind,
                                                         const policy::analysis* analysis) const {
  audit::statement_info s;
  if (analysis) {
    for (const auto& st : analysis->statements)
      if (!st.normalized.empty()) s.normalized += (s.normalized.empty() ? "" : "; ") + st.normalized;
  }
  s.key_id = key_->id();
  s.text_hmac = key_->digest_hex(sql);
  if (bind) s.params_hmac = key_->digest_hex(encode_params(*bind));
  if (keep_literals_) s.text = std::string(sql);
  return s;
}

decision audit_recorder::refuse_unavailable(const session_identity& who, const statement_request& request) {
  auto e = make_event(audit::event_kind::decision, current_session(), &who);
  e.statement = describe_statement(request.sql, request.bind, nullptr);
  e.decision =
      audit::decision_info{"deny", std::string(audit_unavailable_rule),    "the audit log is unavailable", {},
                           {},     std::string(audit_unavailable_sqlstate)};
  log_->append(std::move(e));
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
                                         const policy::analysis* analysis, const policy::decision* verdict,
                                         decision d) {
  auto e = make_event(audit::event_kind::decision, current_session(), &who);
  e.statement = describe_statement(request.sql, request.bind, analysis);
  audit::decision_info info;
  info.verdict = std::string(verdict_name(d.what));
  if (d.what != decision::verdict::allow) info.sqlstate = d.sqlstate;
  if (verdict) {
    info.rule_id = verdict->rule_id;
    if (d.what != decision::verdict::allow) info.reason = verdict->reason;
  }
  if (request.approved) info.reason = "runs under a consumed approval";
  if (analysis) {
    const std::string kinds = analysis->kinds.to_string();
    for (std::size_t start = 0; start < kinds.size();) {
      const auto comma = kinds.find(',', start);
      info.kinds.push_back(
          kinds.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      start = comma == std::string::npos ? kinds.size() : comma + 1;
    }
    for (const auto& st : analysis->statements) {
      for (const auto* list : {&st.tables_read, &st.tables_written}) {
        for (const auto& t : *list) {
          auto name = t.qualified();
          if (std::find(info.tables.begin(), info.tables.end(), name) == info.tables.end())
            info.tables.push_back(std::move(name));
        }
      }
    }
  }
  e.decision = std::move(info);
  if (d.what == decision::verdict::allow) {
    log_->append(std::move(e));
    return d;
  }
  // A denial or hold must be on disk before the client hears of it: an auditor asking "was this refused?"
  // gets an answer for every refusal the client saw.
  if (!log_->append_durable(std::move(e))) return refuse_unavailable(who, request);
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

void audit_recorder::outcome(std::uint64_t session, const session_identity& who, std::string_view sql,
                             audit::outcome_info result) {
  auto e = make_event(audit::event_kind::outcome, session, &who);
  audit::statement_info s;
  s.key_id = key_->id();
  s.text_hmac = key_->digest_hex(sql);
  e.statement = std::move(s);
  e.outcome = std::move(result);
  log_->append(std::move(e));
}

}  // namespace phigate

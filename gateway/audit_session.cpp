#include "gateway/audit_session.hpp"

#include <charconv>

namespace phigate {

namespace {

// Upper bound on statements awaiting their outcome: a client may pipeline without reading, and the session's
// own queue bounds it too; beyond this the oldest are recorded without waiting.
constexpr std::size_t max_pending_statements = 4096;

// "INSERT 0 5" → rows 5, "SELECT 3" → 3, "BEGIN" → no count.
void read_command_tag(std::string_view tag, audit::outcome_info& out) {
  const auto space = tag.find(' ');
  if (out.command.empty()) out.command = std::string(tag.substr(0, space));
  const auto last = tag.rfind(' ');
  if (last == std::string_view::npos) return;
  std::uint64_t rows = 0;
  const auto digits = tag.substr(last + 1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), rows);
  if (ec == std::errc{} && ptr == digits.data() + digits.size()) out.rows += rows;
}

// The text of a Query, or of the statement an Execute runs (its portal's; `params` then points at the
// parameters its Bind gave); "" when the message cannot be read or the portal is unknown.
std::string_view statement_sql(const pg::frame& f, const pg_response_queue& responses,
                               const std::string*& params) {
  if (f.type == pg::frontend_type::query) {
    auto q = pg::query::decode(f);
    return q ? q->sql : std::string_view();
  }
  if (auto e = pg::execute::decode(f)) {
    if (auto p = responses.portals.find(e->portal); p != responses.portals.end()) {
      params = &p->second.audit_params;
      return p->second.sql;
    }
  }
  return {};
}

}  // namespace

void audit_session::connected(std::shared_ptr<audit_recorder> recorder, std::uint64_t session_id,
                              const session_identity& who) {
  recorder_ = std::move(recorder);
  id_ = session_id;
  if (!recorder_) return;
  actor_ = audit_recorder::make_actor(who);
  recorder_->connection(id_, who);
}

void audit_session::authenticated(const session_identity& who, bool ok, std::string detail) {
  if (!recorder_) return;
  actor_ = audit_recorder::make_actor(who);  // now with groups and the upstream role
  if (ok) identity_ = &who;
  recorder_->authentication(id_, who, ok, std::move(detail));
}

shared_statement_text audit_session::text_of(std::string_view sql) {
  if (!last_text_ || last_text_->sql != sql) last_text_ = std::make_shared<audit_statement_text>(sql);
  return last_text_;
}

std::string audit_session::params_of(const pg::bind& bind) const {
  return recorder_ ? audit_recorder::encode_params(bind) : std::string();
}

void audit_session::on_client_message(const pg::frame& f, const pg_response_queue& responses) {
  if (!recorder_) return;
  statement::kind what = statement::kind::sync;
  switch (f.type) {
    case pg::frontend_type::query:
      what = statement::kind::query;
      break;
    case pg::frontend_type::execute:
      what = statement::kind::execute;
      break;
    case pg::frontend_type::sync:
      break;
    default:
      audit_recorder::set_current({id_, &actor_, nullptr, nullptr, nullptr, &batch_, identity_});
      return;
  }
  if (pending_.size() >= max_pending_statements) pending_.pop_front();
  auto& s = pending_.emplace_back();
  s.what = what;
  const std::string* params = nullptr;
  if (what != statement::kind::sync) {
    s.sql = text_of(statement_sql(f, responses, params));
    s.started = std::chrono::steady_clock::now();
  }
  // The decide step's record for this message shares the actor, the text and the parameters.
  audit_recorder::set_current({id_, &actor_, s.sql ? &s.sql : nullptr, params, &s.slot, &batch_, identity_});
}

void audit_session::finish(statement& s, const row_rewriter& rewriter, const session_identity& who) {
  const auto& counts = rewriter.masked_counts();
  for (const auto& [label, total] : counts) {
    const auto seen = masked_seen_[label];
    if (total > seen) s.result.masked[label] = total - seen;
    masked_seen_[label] = total;
  }
  if (s.refused) return;
  s.result.duration_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - s.started)
          .count());
  if (!actor_) actor_ = audit_recorder::make_actor(who);
  if (!s.sql) s.sql = std::make_shared<audit_statement_text>(std::string_view());
  recorder_->outcome(id_, actor_, std::move(s.sql), s.slot, std::move(s.result), batch_);
}

void audit_session::drop_until_sync() {
  while (!pending_.empty() && pending_.front().what == statement::kind::execute) pending_.pop_front();
}

void audit_session::on_server_message(const pg::frame& f, const expected_response* front,
                                      const row_rewriter& rewriter, const session_identity& who) {
  if (!recorder_ || pending_.empty()) return;
  statement& s = pending_.front();
  const bool execute = s.what == statement::kind::execute;
  switch (f.type) {
    case pg::backend_type::data_row:
      if (execute) ++s.result.rows;
      return;
    case pg::backend_type::command_complete:
      if (auto c = pg::command_complete::decode(f)) {
        if (execute) s.result.rows = 0;  // the tag's count is authoritative; DataRows were a fallback
        if (s.what != statement::kind::sync) read_command_tag(c->tag, s.result);
      }
      [[fallthrough]];
    case pg::backend_type::empty_query_response:
    case pg::backend_type::portal_suspended:
      if (execute) {
        finish(s, rewriter, who);
        pending_.pop_front();
      }
      return;
    case pg::backend_type::error_response: {
      if (s.what == statement::kind::sync) return;
      // A denial replaced the statement upstream: the server's error is phigate's own refusal.
      if (front && !front->denial.empty()) s.refused = true;
      if (s.result.sqlstate == "00000") {
        if (auto err = pg::error_response::decode(f))
          s.result.sqlstate = std::string(err->field('C').value_or("XX000"));
      }
      if (execute) {
        finish(s, rewriter, who);
        pending_.pop_front();
        drop_until_sync();  // the server skips the rest of the pipeline up to Sync
      }
      return;
    }
    case pg::backend_type::ready_for_query:
      if (s.what == statement::kind::query) finish(s, rewriter, who);
      drop_until_sync();
      if (!pending_.empty()) pending_.pop_front();
      return;
    default:
      return;
  }
}

}  // namespace phigate

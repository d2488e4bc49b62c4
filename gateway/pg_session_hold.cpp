// Statements held for approval. The batch the policy held (a Query, or extended-protocol messages up to
// Sync) stays in the session: a request is filed, the client gets a NoticeResponse at once, and the session
// waits — for a decision, the request's expiry, the client's CancelRequest or its disconnect — while nothing
// goes upstream. Approved: the approval is consumed for the digest of exactly these bytes and the batch is
// replayed through the ordinary path, where the policy is checked again (a stricter policy wins). Anything
// else: the batch is refused the way a denial is, so the server's transaction state stays true.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>

#include "gateway/pg_session.hpp"

namespace phigate {

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "15m", "1h30m", "45s": how long a request waits, for the notice.
std::string duration_text(std::chrono::seconds d) {
  const auto s = d.count();
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "m";
  if (s % 60 != 0 || out.empty()) out += std::to_string(s % 60) + "s";
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

// The notice a client gets when its statement is held.
std::string held_notice(const approvals::request& r) {
  const auto& rules = r.rules;
  std::string text = "statement held for approval as request " + r.id + " (rule " + r.rule_id +
                     "); approvers: " + std::to_string(rules.quorum) + " of " +
                     (rules.groups.empty() ? std::string("any approver") : join(rules.groups, ", ")) +
                     "; expires in " + duration_text(rules.timeout);
  std::string bytes;
  pg::encode_error(bytes, "NOTICE", "00000", text, {},
                   "an approver can run: phigate approvals approve " + r.id + " (or use phigate review)",
                   pg::backend_type::notice_response);
  return bytes;
}

// Who said no and why, for the client's error.
std::string denial_text(const approvals::request& r) {
  std::vector<std::string> deniers;
  for (const auto& v : r.votes)
    if (!v.approve) deniers.push_back(v.approver);
  const bool reason_names_them = r.decided_reason.starts_with("denied by");  // a deny given without a reason
  return "phigate: request " + r.id + " was denied" + (deniers.empty() ? "" : " by " + join(deniers, ", ")) +
         (r.decided_reason.empty() || reason_names_them ? "" : ": " + r.decided_reason);
}

// "dana: monthly report; erin: ok" — what the approvers said, for the audit record.
std::string vote_reasons(const approvals::request& r) {
  std::vector<std::string> said;
  for (const auto& v : r.votes)
    if (!v.reason.empty()) said.push_back(v.approver + ": " + v.reason);
  return join(said, "; ");
}

}  // namespace

std::string find_justification(const std::vector<std::string>& statements) {
  constexpr std::string_view marker = "justification:";
  for (const auto& sql : statements) {
    for (std::size_t at = sql.find(marker); at != std::string::npos; at = sql.find(marker, at + 1)) {
      // Only inside a comment that starts with the marker: `/* justification: … */` or `-- justification: …`.
      const auto before = sql.find_last_not_of(" \t", at == 0 ? std::string::npos : at - 1);
      if (before == std::string::npos || before == 0) continue;
      const std::string_view opener(sql.data() + before - 1, 2);
      const bool block = opener == "/*";
      if (!block && opener != "--") continue;
      const auto start = at + marker.size();
      const auto end = block ? sql.find("*/", start) : sql.find('\n', start);
      std::string text = sql.substr(start, end == std::string::npos ? std::string::npos : end - start);
      const auto first = text.find_first_not_of(" \t\r\n");
      const auto last = text.find_last_not_of(" \t\r\n");
      if (first != std::string::npos) return text.substr(first, last - first + 1);
    }
  }
  return {};
}

std::string describe_parameter(std::size_t number, const std::optional<byte_span>& value,
                               std::int16_t format) {
  const std::string name = "$" + std::to_string(number) + " = ";
  if (!value) return name + "NULL";
  if (format != 0) return name + "<binary, " + std::to_string(value->size()) + " bytes>";
  std::string quoted = "'";
  for (char c : as_chars(*value)) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return name + quoted + "'";
}

struct pg_session::hold_outcome {
  enum class how { decided, cancelled, client_gone } what = how::decided;
  approvals::request latest;
};

void pg_session::start_hold(const pg::frame& f, decision d, bool extended, std::string_view portal_sql) {
  held_ = std::make_unique<held_batch>();
  held_->first = std::move(d);
  held_->extended = extended;
  if (!portal_sql.empty()) {
    // Held at Execute: the portal was bound before the batch; its statement is what the approval covers.
    held_->digest.statements.emplace_back(portal_sql);
    held_->digest.parameters.emplace_back();
    held_->digest.parameter_formats.emplace_back();
  }
  hold_frame(f);
}

pg_session::maybe_end pg_session::hold_frame(const pg::frame& f) {
  if (f.type == pg::frontend_type::terminate) return session_end::client_terminate;  // nothing was filed yet
  if (held_->frames.size() + f.whole.size() > config().limits.max_message_bytes)
    return protocol_violation("client: a batch held for approval grew beyond max_message_bytes");
  const auto known_sql = [this](std::string_view name) {
    auto it = responses_.statements.find(name);
    return it == responses_.statements.end() ? std::string() : it->second.sql;
  };
  if (!held_->add(f, known_sql)) return protocol_violation("client: malformed message in a held batch");
  return std::nullopt;
}

approvals::request pg_session::draft_request(const held_batch& held, std::string justification) const {
  const auto& h = *held.first.hold;
  approvals::request r;
  r.requester = identity_.user;
  r.requester_groups = identity_.groups;
  r.database = identity_.database;
  r.upstream_role = identity_.upstream_role;
  r.client_address = identity_.client_address;
  r.application_name = identity_.application_name;
  r.session_id = id_;
  r.rule_id = h.rule_id;
  r.kind = h.kind;
  r.reason = h.reason;
  r.kind_reasons = h.kind_reasons;
  r.statement = join(held.digest.statements, "\n");
  r.normalized = h.normalized;
  r.parameters = held.parameters;
  r.tables = h.tables;
  r.columns = h.columns;
  // Results reach this person in the clear when nothing masks them for them: reviewers should know.
  const auto& masking = config().masking;
  r.masking_lifted = !masking || !masking->enabled ||
                     std::any_of(identity_.groups.begin(), identity_.groups.end(), [&](const std::string& g) {
                       return std::find(masking->unmasked_groups.begin(), masking->unmasked_groups.end(),
                                        g) != masking->unmasked_groups.end();
                     });
  r.justification = std::move(justification);
  r.digest = approvals::compute_digest(held.digest);
  r.rules = {h.approver_groups, h.quorum, h.timeout};
  return r;
}

asio::awaitable<pg_session::maybe_end> pg_session::resolve_hold(std::string& to_upstream) {
  const auto held = std::move(held_);
  const auto& h = *held->first.hold;
  approval_hub* hub = ctx_->approvals_hub();
  if (!hub) {
    refuse_held(*held, "42501", held->first.message, to_upstream);
    co_return std::nullopt;
  }
  auto justification = find_justification(held->digest.statements);
  if (h.justification_required && justification.empty()) {
    refuse_held(*held, "42501",
                "phigate: rule " + h.rule_id +
                    " holds this statement and needs a justification; start it with "
                    "/* justification: why it is needed */",
                to_upstream);
    co_return std::nullopt;
  }
  held->digest.database = identity_.database;
  held->digest.upstream_role = identity_.upstream_role;
  held->digest.requester = identity_.user;
  held->digest.settings = h.settings;
  approvals::request filed;
  try {
    filed = hub->service().create(draft_request(*held, std::move(justification)));
  } catch (const std::exception& e) {
    // Fail closed: a statement that cannot be filed is not run.
    spdlog::error("session {}: cannot file an approval request: {}", id_, e.what());
    refuse_held(*held, "58030",
                "phigate: the statement needs approval, but the approvals store is unavailable", to_upstream);
    co_return std::nullopt;
  }
  if (!audit_step(filed, "requested", h.reason)) {
    hub->service().abandon(filed.id, "the audit log could not record the request");
    refuse_held(*held, "58030", "phigate: the statement needs approval, but the audit log cannot record it",
                to_upstream);
    co_return std::nullopt;
  }
  spdlog::info("session {} of {}: held by rule {} as request {}", id_, identity_.user, h.rule_id, filed.id);
  if (!co_await send_client(held_notice(filed))) {
    hub->service().abandon(filed.id, "client disconnected");
    co_return session_end::client_eof;
  }
  const auto outcome = co_await await_decision(*hub, filed);
  using how = hold_outcome::how;
  if (outcome.what == how::client_gone) {
    hub->service().abandon(filed.id, "client disconnected");
    audit_step(outcome.latest, "abandoned", "client disconnected");
    co_return session_end::client_eof;
  }
  if (outcome.what == how::cancelled) {
    hub->service().abandon(filed.id, "client cancelled");
    audit_step(outcome.latest, "abandoned", "client cancelled");
    refuse_held(*held, "57014",
                "canceling statement due to user request (phigate request " + filed.id + " abandoned)",
                to_upstream);
    co_return std::nullopt;
  }
  co_return settle_hold(*held, *hub, outcome.latest, filed.digest, to_upstream);
}

pg_session::maybe_end pg_session::settle_hold(const held_batch& held, approval_hub& hub,
                                              const approvals::request& r, const std::string& digest,
                                              std::string& to_upstream) {
  switch (r.state) {
    case approvals::request_state::approved:
      // Recorded before the statement runs; an audit log that cannot record it refuses it (fail closed).
      if (audit_step(r, "approved", vote_reasons(r)) && hub.service().consume(r.id, digest) &&
          audit_step(r, "consumed", ""))
        return release_held(held, to_upstream);
      refuse_held(held, "42501",
                  "phigate: the approval of request " + r.id +
                      " could not be used (it expired, or the audit log could not record it)",
                  to_upstream);
      break;
    case approvals::request_state::denied:
      audit_step(r, "denied", r.decided_reason);
      refuse_held(held, "42501", denial_text(r), to_upstream);
      break;
    case approvals::request_state::expired:
      audit_step(r, "expired", r.decided_reason);
      refuse_held(held, "42501",
                  "phigate: request " + r.id + " (rule " + r.rule_id + ") expired: no decision within " +
                      duration_text(r.rules.timeout),
                  to_upstream);
      break;
    default:
      refuse_held(held, "42501",
                  "phigate: request " + r.id + " is " + std::string(approvals::to_string(r.state)) +
                      (r.decided_reason.empty() ? "" : ": " + r.decided_reason),
                  to_upstream);
  }
  return std::nullopt;
}

asio::awaitable<pg_session::hold_outcome> pg_session::await_decision(approval_hub& hub,
                                                                     const approvals::request& filed) {
  using namespace asio::experimental::awaitable_operators;
  struct waiter {
    explicit waiter(asio::any_io_executor ex) : wake(ex) {}
    asio::steady_timer wake;
    std::optional<approvals::request> latest;
    bool cancelled = false;
  };
  auto ex = client_.socket().get_executor();
  auto w = std::make_shared<waiter>(ex);
  const auto token = hub.watch(filed.id, ex, [w](const approvals::request& r) {
    if (!w->latest || r.seq >= w->latest->seq) w->latest = r;
    w->wake.cancel();
  });
  if (client_key_pid_)
    ctx_->cancels().set_hold_hook(*client_key_pid_, [w, ex] {
      asio::post(ex, [w] {
        w->cancelled = true;
        w->wake.cancel();
      });
    });
  if (auto now = hub.service().get(filed.id); now && (!w->latest || now->seq > w->latest->seq))
    w->latest = now;
  const auto deadline =
      asio::steady_timer::clock_type::now() + std::chrono::milliseconds(filed.expires_ms - now_ms());
  hold_outcome out;
  for (;;) {
    if (w->latest && w->latest->state != approvals::request_state::pending) break;
    if (w->cancelled) {
      out.what = hold_outcome::how::cancelled;
      break;
    }
    if (asio::steady_timer::clock_type::now() >= deadline) {
      hub.service().expire_due();
      w->latest = hub.service().get(filed.id);
      break;
    }
    w->wake.expires_at(deadline);
    if (client_reader_.buffered() >= config().limits.max_message_bytes) {
      co_await w->wake.async_wait(
          asio::as_tuple(asio::use_awaitable));  // the client is flooding: stop reading
      continue;
    }
    error_code io;
    auto woke = co_await (w->wake.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                          client_reader_.fill(client_, io));
    if (woke.index() == 1 && io) {
      out.what = hold_outcome::how::client_gone;
      break;
    }
  }
  hub.unwatch(token);
  if (client_key_pid_) ctx_->cancels().set_hold_hook(*client_key_pid_, {});
  if (w->latest) out.latest = *w->latest;
  if (out.what == hold_outcome::how::decided && !w->latest) out.latest = filed;  // the store lost it: refuse
  co_return out;
}

bool pg_session::audit_step(const approvals::request& r, std::string_view step, std::string_view reason) {
  auto* audit = ctx_->audit();
  if (!audit) return true;
  std::vector<std::string> approvers;
  for (const auto& v : r.votes) approvers.push_back(v.approve ? v.approver : v.approver + " (denied)");
  return audit->approval_step(identity_, id_, r.id, step, approvers, reason, r.digest, r.normalized);
}

pg_session::maybe_end pg_session::release_held(const held_batch& held, std::string& to_upstream) {
  // The approved bytes go through the ordinary path, judged again under the approval.
  spdlog::info("session {} of {}: releasing an approved statement", id_, identity_.user);
  audit_recorder::set_current_session(id_);  // other sessions of this thread ran while this one waited
  replaying_approved_ = true;
  byte_span rest = as_bytes(held.frames);
  maybe_end end;
  while (!rest.empty() && !end) {
    auto f = pg::split_frame(rest, rest.size());
    if (!f) {
      end = protocol_violation("internal: held batch unreadable");
      break;
    }
    rest = rest.subspan(f->whole.size());
    end = on_client_message(*f, to_upstream);
  }
  replaying_approved_ = false;
  return end;
}

void pg_session::refuse_held(const held_batch& held, std::string_view sqlstate, std::string message,
                             std::string& to_upstream) {
  deny_into(decision::deny(std::string(sqlstate), std::move(message)), to_upstream, held.extended);
  if (!held.extended) return;
  // The client ended its batch with Sync (or Flush): pass that on so the server's skip-to-Sync and the
  // session's expectations line up exactly as after any other error.
  byte_span rest = as_bytes(held.frames);
  std::optional<pg::frame> last;
  while (!rest.empty()) {
    auto f = pg::split_frame(rest, rest.size());
    if (!f) break;
    rest = rest.subspan(f->whole.size());
    last = *f;
  }
  if (!last) return;
  to_upstream.append(as_chars(last->whole));
  if (last->type == pg::frontend_type::sync)
    responses_.push(expected_response{expected_response::kind::sync});
}

}  // namespace phigate

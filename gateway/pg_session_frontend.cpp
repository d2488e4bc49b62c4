// Query cycle, client side: what each frontend message does to the session's bookkeeping, and the decide
// step. Parse and Execute are judged; a refusal replaces the message upstream (see deny_into).
#include "gateway/pg_session.hpp"

namespace phigate {

namespace {

// A statement text that every PostgreSQL version rejects at parse time, before it looks at transaction state
// or touches any prepared statement. A denied statement is replaced by it, so the server itself raises the
// error: its transaction state (aborted inside BEGIN) and its skip-until-Sync behaviour stay exactly what the
// client expects, and phigate substitutes its own error text for the server's.
constexpr std::string_view refused_statement_sql = "PHIGATE REFUSED";
constexpr std::string_view refused_statement_name = "phigate_refused";

// Passes the client's message on untouched.
void forward(const pg::frame& f, std::string& to_upstream) {
  to_upstream.append(as_chars(f.whole));
}

}  // namespace

void pg_session::deny_into(const decision& d, std::string& to_upstream, bool extended) {
  expected_response e{extended ? expected_response::kind::parse : expected_response::kind::simple_query};
  pg::encode_error(e.denial, "ERROR", d.sqlstate.empty() ? "42501" : d.sqlstate, d.message);
  if (extended) {
    e.name = refused_statement_name;
    pg::parse{refused_statement_name, refused_statement_sql, {}}.encode(to_upstream);
  } else {
    pg::query{refused_statement_sql}.encode(to_upstream);
  }
  responses_.push(std::move(e));
}

void pg_session::forget_prepared(const decision& d) {
  // The server's statement of that name is now one phigate did not see parsed (or none): a Bind of it is
  // refused rather than run under the text phigate remembers.
  if (d.forgets_all_statements) responses_.statements.clear();
  for (const auto& name : d.forgets_statements) responses_.statements.erase(name);
}

pg_session::maybe_end pg_session::on_client_message(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  if (held_) return hold_frame(f);  // the rest of a held batch waits with it
  switch (f.type) {
    case pg::frontend_type::query:
      return on_query(f, to_upstream);
    case pg::frontend_type::parse:
      return on_parse(f, to_upstream);
    case pg::frontend_type::bind:
      return on_bind(f, to_upstream);
    case pg::frontend_type::describe:
      return on_describe(f, to_upstream);
    case pg::frontend_type::execute:
      return on_execute(f, to_upstream);
    case pg::frontend_type::close: {
      auto c = pg::close::decode(f);
      if (!c) return protocol_violation("client: malformed Close");
      if (c->kind == 'S')
        responses_.statements.erase(std::string(c->name));
      else
        responses_.portals.erase(std::string(c->name));
      forward(f, to_upstream);
      responses_.push(expected_response{kind::close, std::string(c->name), c->kind});
      return std::nullopt;
    }
    case pg::frontend_type::sync:
      forward(f, to_upstream);
      responses_.push(expected_response{kind::sync});
      return std::nullopt;
    case pg::frontend_type::flush:
    case pg::frontend_type::copy_data:
    case pg::frontend_type::copy_done:
    case pg::frontend_type::copy_fail:
      forward(f, to_upstream);
      return std::nullopt;
    case pg::frontend_type::terminate:
      return session_end::client_terminate;
    case pg::frontend_type::function_call:
      // The fastpath interface calls functions by OID with no statement text to judge.
      deny_into(decision::deny("0A000", "phigate does not allow the fastpath function call interface"),
                to_upstream, false);
      return std::nullopt;
    default:
      return protocol_violation("client: invalid frontend message type " + std::to_string(int(f.type)));
  }
}

pg_session::maybe_end pg_session::on_query(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto q = pg::query::decode(f);
  if (!q) return protocol_violation("client: malformed Query");
  auto d =
      gate_->decide(identity_, {statement_request::protocol::simple, q->sql, nullptr, replaying_approved_});
  if (d.what == decision::verdict::deny) {
    deny_into(d, to_upstream, false);
  } else if (d.what == decision::verdict::hold) {
    start_hold(f, std::move(d), false);
  } else {
    forget_prepared(d);
    forward(f, to_upstream);
    expected_response query{kind::simple_query};
    query.plan = std::move(d.plan);
    responses_.push(std::move(query));
  }
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_parse(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto p = pg::parse::decode(f);
  if (!p) return protocol_violation("client: malformed Parse");
  // Judged at Parse as well as at Execute: planning at Bind can already evaluate functions, so a
  // statement the policy refuses never reaches the server at all. Execute judges again, because the
  // session's state (search_path, role) may have changed in between.
  auto d =
      gate_->decide(identity_, {statement_request::protocol::extended, p->sql, nullptr, replaying_approved_});
  if (d.what == decision::verdict::deny) {
    deny_into(d, to_upstream, true);
    return std::nullopt;
  }
  // Parsing runs nothing, so a held statement is parsed now and held when it is bound: a client that
  // prepares once and executes later is asked for approval once, for the execution.
  responses_.statements[std::string(p->name)] = {std::string(p->sql), nullptr,
                                                 d.what == decision::verdict::hold};
  forward(f, to_upstream);
  responses_.push(expected_response{kind::parse, std::string(p->name)});
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_bind(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto b = pg::bind::decode(f);
  if (!b) return protocol_violation("client: malformed Bind");
  auto st = responses_.statements.find(b->statement);
  if (st == responses_.statements.end()) {
    // A statement phigate did not see parsed (one made by SQL-level PREPARE shares the namespace) has
    // no text phigate judged: refuse to bind it rather than run it unseen.
    if (auto stale = responses_.portals.find(b->portal); stale != responses_.portals.end())
      responses_.portals.erase(stale);
    deny_into(decision::deny("26000", "prepared statement \"" + std::string(b->statement) +
                                          "\" was not prepared through phigate's protocol messages"),
              to_upstream, true);
    return std::nullopt;
  }
  if (st->second.held && !replaying_approved_) {
    // Planning at Bind can already evaluate functions: the hold starts here, parameters included.
    auto d = gate_->decide(identity_, {statement_request::protocol::extended, st->second.sql, &*b, false});
    if (d.what == decision::verdict::hold) {
      start_hold(f, std::move(d), true);
      return std::nullopt;
    }
    if (d.what == decision::verdict::deny) {
      deny_into(d, to_upstream, true);
      return std::nullopt;
    }
  }
  auto portal = responses_.portals.find(b->portal);
  if (portal == responses_.portals.end())
    portal = responses_.portals.emplace(std::string(b->portal), pg_response_queue::portal_info{}).first;
  portal->second = {std::string(b->statement), st->second.sql, b->result_formats,
                    std::make_shared<shape_slot>(), audit_.params_of(*b)};
  if (st->second.shape)
    portal->second.slot->shape = apply_result_formats(*st->second.shape, b->result_formats);
  forward(f, to_upstream);
  responses_.push(expected_response{kind::bind, std::string(b->portal)});
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_describe(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto d = pg::describe::decode(f);
  if (!d) return protocol_violation("client: malformed Describe");
  forward(f, to_upstream);
  expected_response e{d->kind == 'S' ? kind::describe_statement : kind::describe_portal,
                      std::string(d->name)};
  if (d->kind == 'P') {
    if (auto portal = responses_.portals.find(d->name); portal != responses_.portals.end()) {
      e.slot = portal->second.slot;
      e.slot->describe_pending = true;
    }
  }
  responses_.push(std::move(e));
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_execute(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto e = pg::execute::decode(f);
  if (!e) return protocol_violation("client: malformed Execute");
  auto portal = responses_.portals.find(e->portal);
  if (portal == responses_.portals.end()) {
    // Nothing phigate saw defines this portal, so it cannot judge it: refuse, as the server would.
    deny_into(decision::deny("34000", "portal \"" + std::string(e->portal) + "\" does not exist"),
              to_upstream, true);
    return std::nullopt;
  }
  auto d = gate_->decide(
      identity_, {statement_request::protocol::extended, portal->second.sql, nullptr, replaying_approved_});
  if (d.what == decision::verdict::deny) {
    deny_into(d, to_upstream, true);
    return std::nullopt;
  }
  if (d.what == decision::verdict::hold) {
    start_hold(f, std::move(d), true, portal->second.sql);
    return std::nullopt;
  }
  forget_prepared(d);
  auto& slot = portal->second.slot;
  if (!slot->shape && !slot->describe_pending) {
    // The rewrite step must know the columns of every row; ask the server, and keep the answer to ourselves.
    pg::describe{'P', e->portal}.encode(to_upstream);
    expected_response probe{kind::describe_portal, std::string(e->portal)};
    probe.injected = true;
    probe.slot = slot;
    slot->describe_pending = true;
    responses_.push(std::move(probe));
  }
  to_upstream.append(as_chars(f.whole));
  expected_response exec{kind::execute, std::string(e->portal)};
  exec.slot = slot;
  exec.plan = std::move(d.plan);
  responses_.push(std::move(exec));
  return std::nullopt;
}

}  // namespace phigate

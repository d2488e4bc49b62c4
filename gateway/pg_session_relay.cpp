// Query cycle: two pumps run concurrently, client → upstream (every statement through the decide step) and
// upstream → client (every row through the rewrite step). Each pump batches whatever whole messages one read
// brought in and writes them at once, then reads again only after that write completed: a slow reader on
// either side stops the other side's reads (backpressure), so memory stays bounded whatever the result size.
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "gateway/pg_session.hpp"

namespace phigate {

namespace {

// Write what is batched once it reaches this size, even if more whole messages are buffered.
constexpr std::size_t flush_threshold_bytes = 64 * 1024;

// A statement text that every PostgreSQL version rejects at parse time, before it looks at transaction state
// or touches any prepared statement. A denied statement is replaced by it, so the server itself raises the
// error: its transaction state (aborted inside BEGIN) and its skip-until-Sync behaviour stay exactly what the
// client expects, and phigate substitutes its own error text for the server's.
constexpr std::string_view refused_statement_sql = "PHIGATE REFUSED";
constexpr std::string_view refused_statement_name = "phigate_refused";

}  // namespace

asio::awaitable<session_end> pg_session::relay() {
  using namespace asio::experimental::awaitable_operators;
  auto ended = co_await (pump_client() || pump_upstream());
  co_return std::visit([](session_end e) { return e; }, ended);
}

asio::awaitable<session_end> pg_session::pump_client() {
  std::string batch;
  for (;;) {
    error_code io;
    auto f = client_reader_.poll(frame_reader::phase::typed);
    if (f.need_more()) {
      if (!batch.empty()) co_await upstream_->write_all(batch, io);
      batch.clear();
      if (io) co_return end_relay(frame_error({}, io, false), client_);
      f = co_await client_reader_.next(client_, frame_reader::phase::typed, io);
    }
    disarm_watchdog();  // the idle clock, if running, stops at the client's next message
    if (!f) co_return end_relay(frame_error(f.error(), io, true), *upstream_);
    auto end = on_client_message(*f, batch);
    if (end || batch.size() >= flush_threshold_bytes) {
      co_await upstream_->write_all(batch, io);
      batch.clear();
      if (io && !end) end = frame_error({}, io, false);
    }
    if (end) co_return end_relay(*end, *upstream_);
  }
}

asio::awaitable<session_end> pg_session::pump_upstream() {
  std::string batch;
  for (;;) {
    error_code io;
    auto f = upstream_reader_.poll(frame_reader::phase::typed);
    if (f.need_more()) {
      if (!batch.empty() && !co_await send_client(batch))
        co_return end_relay(frame_error({}, error_code(asio::error::eof), true), *upstream_);
      batch.clear();
      f = co_await upstream_reader_.next(*upstream_, frame_reader::phase::typed, io);
    }
    if (!f) {
      // Whole messages already processed may go out; a message cut off by the close is never forwarded.
      if (!batch.empty()) co_await send_client(batch);
      co_return end_relay(frame_error(f.error(), io, false), client_);
    }
    auto end = on_server_message(*f, batch);
    if (end || batch.size() >= flush_threshold_bytes) {
      if (!co_await send_client(batch) && !end) end = frame_error({}, error_code(asio::error::eof), true);
      batch.clear();
    }
    if (end) co_return end_relay(*end, client_);
  }
}

session_end pg_session::end_relay(session_end why, transport& other) {
  // The first pump to stop has recorded why; wake the other pump's pending read with end-of-file so that it
  // finishes promptly without adding a reason of its own.
  ending_ = true;
  error_code ignored;
  other.socket().shutdown(tcp::socket::shutdown_receive, ignored);
  return why;
}

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

pg_session::maybe_end pg_session::on_client_message(const pg::frame& f, std::string& to_upstream) {
  using kind = expected_response::kind;
  auto forward = [&] { to_upstream.append(as_chars(f.whole)); };
  switch (f.type) {
    case pg::frontend_type::query: {
      auto q = pg::query::decode(f);
      if (!q) return protocol_violation("client: malformed Query");
      auto d = gate_->decide(identity_, {statement_request::protocol::simple, q->sql, nullptr});
      if (d.what == decision::verdict::deny) {
        deny_into(d, to_upstream, false);
      } else {
        forward();
        responses_.push(expected_response{kind::simple_query});
      }
      return std::nullopt;
    }
    case pg::frontend_type::parse: {
      auto p = pg::parse::decode(f);
      if (!p) return protocol_violation("client: malformed Parse");
      // Judged at Parse as well as at Execute: planning at Bind can already evaluate functions, so a
      // statement the policy refuses never reaches the server at all. Execute judges again, because the
      // session's state (search_path, role) may have changed in between.
      auto d = gate_->decide(identity_, {statement_request::protocol::extended, p->sql, nullptr});
      if (d.what == decision::verdict::deny) {
        deny_into(d, to_upstream, true);
        return std::nullopt;
      }
      responses_.statements[std::string(p->name)] = {std::string(p->sql), nullptr};
      forward();
      responses_.push(expected_response{kind::parse, std::string(p->name)});
      return std::nullopt;
    }
    case pg::frontend_type::bind: {
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
      auto portal = responses_.portals.find(b->portal);
      if (portal == responses_.portals.end())
        portal = responses_.portals.emplace(std::string(b->portal), pg_response_queue::portal_info{}).first;
      portal->second = {std::string(b->statement), st->second.sql, b->result_formats,
                        std::make_shared<shape_slot>()};
      if (st->second.shape)
        portal->second.slot->shape = apply_result_formats(*st->second.shape, b->result_formats);
      forward();
      responses_.push(expected_response{kind::bind, std::string(b->portal)});
      return std::nullopt;
    }
    case pg::frontend_type::describe: {
      auto d = pg::describe::decode(f);
      if (!d) return protocol_violation("client: malformed Describe");
      forward();
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
    case pg::frontend_type::execute:
      return on_execute(f, to_upstream);
    case pg::frontend_type::close: {
      auto c = pg::close::decode(f);
      if (!c) return protocol_violation("client: malformed Close");
      if (c->kind == 'S')
        responses_.statements.erase(std::string(c->name));
      else
        responses_.portals.erase(std::string(c->name));
      forward();
      responses_.push(expected_response{kind::close, std::string(c->name), c->kind});
      return std::nullopt;
    }
    case pg::frontend_type::sync:
      forward();
      responses_.push(expected_response{kind::sync});
      return std::nullopt;
    case pg::frontend_type::flush:
    case pg::frontend_type::copy_data:
    case pg::frontend_type::copy_done:
    case pg::frontend_type::copy_fail:
      forward();
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
  auto d = gate_->decide(identity_, {statement_request::protocol::extended, portal->second.sql, nullptr});
  if (d.what == decision::verdict::deny) {
    deny_into(d, to_upstream, true);
    return std::nullopt;
  }
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
  responses_.push(std::move(exec));
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_server_message(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  auto expect_front = [&](kind k) { return front && front->what == k; };
  auto forward = [&] { to_client.append(as_chars(f.whole)); };
  switch (f.type) {
    case pg::backend_type::parse_complete:
    case pg::backend_type::bind_complete:
    case pg::backend_type::close_complete: {
      kind k = f.type == pg::backend_type::parse_complete  ? kind::parse
               : f.type == pg::backend_type::bind_complete ? kind::bind
                                                           : kind::close;
      if (!expect_front(k)) return protocol_violation("server: unexpected completion message");
      responses_.pop_front();
      forward();
      return std::nullopt;
    }
    case pg::backend_type::parameter_description:
      if (!expect_front(kind::describe_statement))
        return protocol_violation("server: unexpected ParameterDescription");
      forward();
      return std::nullopt;
    case pg::backend_type::row_description:
    case pg::backend_type::no_data:
      return on_server_describe_answer(f, to_client);
    case pg::backend_type::data_row:
      return on_server_rows(f, to_client);
    case pg::backend_type::command_complete:
    case pg::backend_type::empty_query_response:
    case pg::backend_type::portal_suspended:
      if (expect_front(kind::execute))
        responses_.pop_front();
      else if (!expect_front(kind::simple_query))
        return protocol_violation("server: unexpected completion");
      forward();
      return std::nullopt;
    case pg::backend_type::error_response:
      return on_server_error(f, to_client);
    case pg::backend_type::ready_for_query: {
      auto rfq = pg::ready_for_query::decode(f);
      if (!rfq || !(expect_front(kind::sync) || expect_front(kind::simple_query)))
        return protocol_violation("server: unexpected ReadyForQuery");
      transaction_status_ = rfq->status;
      responses_.pop_front();
      forward();
      // Idle outside a transaction with nothing outstanding: the idle clock starts now.
      if (transaction_status_ == 'I' && responses_.empty())
        arm_watchdog(config().limits.idle_timeout, session_end::idle_timeout);
      return std::nullopt;
    }
    case pg::backend_type::copy_out_response: {
      auto c = pg::copy_response::decode(f);
      if (!c) return protocol_violation("server: malformed CopyOutResponse");
      rewriter_->on_copy_out(*c);
      forward();
      return std::nullopt;
    }
    case pg::backend_type::copy_data:
      if (!rewriter_->rewrite_copy_data(f, to_client)) forward();
      return std::nullopt;
    case pg::backend_type::notice_response:
    case pg::backend_type::notification_response:
      if (!rewriter_->rewrite_message(f, to_client)) forward();
      return std::nullopt;
    case pg::backend_type::copy_in_response:
    case pg::backend_type::copy_both_response:
    case pg::backend_type::copy_done:
    case pg::backend_type::parameter_status:
      forward();
      return std::nullopt;
    default:
      return protocol_violation("server: unexpected message type " + std::to_string(int(f.type)));
  }
}

pg_session::maybe_end pg_session::on_server_describe_answer(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  const bool rows = f.type == pg::backend_type::row_description;
  if (front && front->what == kind::simple_query && rows) {
    auto desc = pg::row_description::decode(f);
    if (!desc) return protocol_violation("server: malformed RowDescription");
    rewriter_->on_row_description(*desc);
    to_client.append(as_chars(f.whole));
    return std::nullopt;
  }
  if (!front || (front->what != kind::describe_statement && front->what != kind::describe_portal))
    return protocol_violation("server: unexpected RowDescription or NoData");
  auto shape = std::make_shared<result_shape>();
  shape->has_rows = rows;
  if (rows) shape->row_description.assign(as_chars(f.whole));
  expected_response answered = std::move(*front);
  responses_.pop_front();
  if (answered.what == kind::describe_statement) {
    if (auto st = responses_.statements.find(answered.name); st != responses_.statements.end())
      st->second.shape = shape;
  } else if (answered.slot) {
    answered.slot->shape = shape;
    answered.slot->describe_pending = false;
  }
  if (!answered.injected) to_client.append(as_chars(f.whole));
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_server_rows(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  if (!front || (front->what != kind::execute && front->what != kind::simple_query))
    return protocol_violation("server: DataRow outside a result");
  if (front->what == kind::execute && !front->shape_announced) {
    // Fail closed: rows whose columns phigate cannot name are never forwarded.
    const result_shape* shape = front->slot ? front->slot->shape.get() : nullptr;
    if (!shape || !shape->has_rows) return protocol_violation("server: DataRow without a description");
    auto whole = as_bytes(shape->row_description);
    auto t = pg::split_frame(whole, whole.size());
    auto desc = t ? pg::row_description::decode(*t) : decoded<pg::row_description>(t.error());
    if (!desc) return protocol_violation("internal: stored RowDescription unreadable");
    rewriter_->on_row_description(*desc);
    front->shape_announced = true;
  }
  if (!rewriter_->rewrite_data_row(f, to_client)) to_client.append(as_chars(f.whole));
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_server_error(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  if (front && !front->denial.empty()) {
    to_client.append(front->denial);
  } else if (!rewriter_->rewrite_message(f, to_client)) {
    to_client.append(as_chars(f.whole));
  }
  // In the extended protocol the server now skips everything up to the next Sync; so do we. A simple Query
  // still ends with ReadyForQuery. An error with nothing outstanding is a FATAL before the server closes.
  if (front && front->what != kind::simple_query) responses_.drop_until_sync();
  return std::nullopt;
}

}  // namespace phigate

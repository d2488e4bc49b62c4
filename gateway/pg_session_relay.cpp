// Query cycle: two pumps run concurrently, client → upstream (every statement through the decide step) and
// upstream → client (every row through the rewrite step). Each pump batches whatever whole messages one read
// brought in and writes them at once, then reads again only after that write completed: a slow reader on
// either side stops the other side's reads (backpressure), so memory stays bounded whatever the result size.
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "gateway/capture.hpp"
#include "gateway/pg_session.hpp"

namespace phigate {

namespace {

// Write what is batched once it reaches this size, even if more whole messages are buffered.
constexpr std::size_t flush_threshold_bytes = 64 * 1024;

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
    capture_frontend_message(config(), id_, identity_, *f);  // no-op unless capture: names this person
    audit_.on_client_message(*f, responses_);  // starts the statement's clock for its outcome record
    auto end = on_client_message(*f, batch);
    if (!end && held_ && held_->complete) {
      // Everything before the held batch goes now; the batch itself waits for its approval.
      co_await upstream_->write_all(batch, io);
      batch.clear();
      if (io) co_return end_relay(frame_error({}, io, false), client_);
      end = co_await resolve_hold(batch);
    }
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

pg_session::maybe_end pg_session::on_server_message(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  audit_.on_server_message(f, front, *rewriter_, identity_);  // rows, SQLSTATE, duration per statement
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
    case pg::backend_type::ready_for_query:
      return on_server_ready(f, to_client);
    case pg::backend_type::copy_out_response:
      return on_server_copy_out(f, to_client);
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

pg_session::maybe_end pg_session::on_server_copy_out(const pg::frame& f, std::string& to_client) {
  auto c = pg::copy_response::decode(f);
  if (!c) return protocol_violation("server: malformed CopyOutResponse");
  const auto* front = responses_.front();
  rewriter_->use_plan(front ? front->plan : nullptr);  // the COPY statement's fields, from its lineage
  rewriter_->on_copy_out(*c);
  to_client.append(as_chars(f.whole));
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_server_ready(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  auto rfq = pg::ready_for_query::decode(f);
  if (!rfq || !((front && front->what == kind::sync) || (front && front->what == kind::simple_query)))
    return protocol_violation("server: unexpected ReadyForQuery");
  transaction_status_ = rfq->status;
  responses_.pop_front();
  to_client.append(as_chars(f.whole));
  // Idle outside a transaction with nothing outstanding: the idle clock starts now.
  if (transaction_status_ == 'I' && responses_.empty())
    arm_watchdog(config().limits.idle_timeout, session_end::idle_timeout);
  return std::nullopt;
}

pg_session::maybe_end pg_session::on_server_describe_answer(const pg::frame& f, std::string& to_client) {
  using kind = expected_response::kind;
  auto* front = responses_.front();
  const bool rows = f.type == pg::backend_type::row_description;
  if (front && front->what == kind::simple_query && rows) {
    auto desc = pg::row_description::decode(f);
    if (!desc) return protocol_violation("server: malformed RowDescription");
    rewriter_->use_plan(front->plan);
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
    rewriter_->use_plan(front->plan);
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

// The admin listener's I/O, after Beast's coroutine server: accept → (TLS handshake) → read request →
// route → write response, repeated while the client keeps the connection alive. Every read and write has a
// deadline; a failing connection ends only itself.
#include "gateway/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace phigate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

/// Lives as long as the longest connection coroutine; touched only on the admin io_context's one thread.
struct admin_server::shared_state {
  shared_state(asio::io_context& io, std::shared_ptr<approvals::service> service,
               std::shared_ptr<const gateway_config> config)
      : routes(service, std::move(config)), service(std::move(service)), acceptor(io) {}

  /// Ends every long-poll wait early; each waiter then looks for changes again.
  void wake_all() {
    for (auto* timer : waiters) timer->cancel();
  }

  admin_routes routes;
  std::shared_ptr<approvals::service> service;
  std::shared_ptr<ssl::context> tls;  ///< null: plain HTTP
  tcp::acceptor acceptor;
  std::set<asio::steady_timer*> waiters;  ///< long-polls waiting for a change
  bool stopping = false;
};

namespace {

using state_ptr = std::shared_ptr<admin_server::shared_state>;

constexpr std::chrono::seconds admin_drain_timeout{2};
constexpr std::size_t admin_max_drain_bytes = 1u << 20;

std::shared_ptr<ssl::context> make_admin_tls(const admin_tls_config& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) throw std::runtime_error("admin.tls.cert_file " + tls.cert_file + ": " + ec.message());
  ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("admin.tls.key_file " + tls.key_file + ": " + ec.message());
  return ctx;
}

asio::awaitable<admin_response> wait_for_changes(state_ptr s, changes_wait wait, const admin_request& req) {
  const auto deadline = std::chrono::steady_clock::now() + wait.timeout;
  auto executor = co_await asio::this_coro::executor;
  // No suspension between the routes' "nothing new" check and the first registration, and change
  // notifications are posted to this same thread: a change cannot slip in unseen.
  while (!s->stopping && std::chrono::steady_clock::now() < deadline) {
    asio::steady_timer timer(executor, deadline);
    s->waiters.insert(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    s->waiters.erase(&timer);
    if (!s->service->changes_since(wait.since, 1).empty()) break;
  }
  co_return s->routes.changes(wait.since, req.version(), req.keep_alive());
}

/// A response for a request that could not be read whole; the connection closes after it.
admin_response refusal(http::status status, std::string_view message) {
  admin_response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = "{\"error\":\"" + std::string(message) + "\"}";
  res.prepare_payload();
  return res;
}

std::optional<admin_response> refusal_for(const error_code& ec) {
  if (ec == http::error::body_limit)
    return refusal(http::status::payload_too_large, "request body too large");
  if (ec == http::error::header_limit)
    return refusal(http::status::request_header_fields_too_large, "request headers too large");
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return refusal(http::status::bad_request, "malformed HTTP request");
  return std::nullopt;
}

/// After a refusal the client may still be sending the body we refused; closing with unread bytes would
/// make the kernel answer with a reset that can destroy the refusal before the client reads it. So: stop
/// sending, read and discard until the client closes or a short deadline passes.
asio::awaitable<void> drain(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(admin_drain_timeout);
  std::array<char, 16 * 1024> sink;
  std::size_t total = 0;
  while (total < admin_max_drain_bytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    total += n;
  }
}

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, state_ptr s) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(admin_max_header_bytes);
    parser.body_limit(admin_max_body_bytes);
    beast::get_lowest_layer(stream).expires_after(admin_read_timeout);
    auto [read_ec, read_n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) {
      if (auto res = refusal_for(read_ec)) {
        beast::get_lowest_layer(stream).expires_after(admin_write_timeout);
        co_await http::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
        co_await drain(beast::get_lowest_layer(stream));
      }
      co_return;  // end of stream, timeout or a broken request: this connection only
    }
    const admin_request& req = parser.get();
    auto outcome = s->routes.handle(req);
    if (outcome.wait) {
      beast::get_lowest_layer(stream).expires_never();
      outcome.response = co_await wait_for_changes(s, *outcome.wait, req);
    }
    const bool keep_alive = outcome.response.keep_alive() && !s->stopping;
    outcome.response.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(admin_write_timeout);
    auto [write_ec, write_n] =
        co_await http::async_write(stream, outcome.response, asio::as_tuple(asio::use_awaitable));
    if (write_ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> run_connection(tcp::socket socket, state_ptr s) {
  beast::tcp_stream stream(std::move(socket));
  if (!s->tls) {
    co_await serve_requests(stream, s);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *s->tls);
  tls_stream.next_layer().expires_after(admin_read_timeout);
  auto [ec] =
      co_await tls_stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    spdlog::debug("admin API: TLS handshake failed: {}", ec.message());
    co_return;
  }
  co_await serve_requests(tls_stream, s);
  tls_stream.next_layer().expires_after(admin_write_timeout);
  co_await tls_stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> accept_loop(state_ptr s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !s->acceptor.is_open()) co_return;
    if (ec) {
      spdlog::error("admin API: accept failed: {}", ec.message());
      asio::steady_timer pause(s->acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(s->acceptor.get_executor(), run_connection(std::move(socket), s), asio::detached);
  }
}

}  // namespace

admin_server::admin_server(asio::io_context& io, std::shared_ptr<approvals::service> service,
                           std::shared_ptr<const gateway_config> config)
    : io_(io),
      service_(std::move(service)),
      config_(std::move(config)),
      state_(std::make_shared<shared_state>(io, service_, config_)) {}

void admin_server::set_slack_reply(admin_routes::slack_reply_fn reply) {
  state_->routes.set_slack_reply(std::move(reply));
}

admin_server::~admin_server() {
  if (subscription_ != 0) service_->unsubscribe(subscription_);
}

void admin_server::start() {
  const auto& admin = config_->admin.value();
  if (admin.tls) state_->tls = make_admin_tls(*admin.tls);
  const tcp::endpoint ep(asio::ip::make_address(admin.host), admin.port);
  auto& acceptor = state_->acceptor;
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);  // throws system_error with the reason (address in use, permission)
  acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor.local_endpoint().port();
  // Changes come from session threads; waking the long-polls happens on the admin thread.
  subscription_ = service_->subscribe([weak = std::weak_ptr(state_), &io = io_](const approvals::request&) {
    asio::post(io, [weak] {
      if (auto s = weak.lock()) s->wake_all();
    });
  });
  asio::co_spawn(io_, accept_loop(state_), asio::detached);
  spdlog::info("admin API listening on {}://{}:{}", admin.tls ? "https" : "http", admin.host, port_);
}

void admin_server::stop() {
  asio::post(io_, [s = state_] {
    s->stopping = true;
    error_code ignored;
    s->acceptor.close(ignored);
    s->wake_all();
  });
}

}  // namespace phigate

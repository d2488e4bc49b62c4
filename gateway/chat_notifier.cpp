// Delivery of chat and webhook messages with a Beast HTTP client. Bodies come from approvals/chat_messages
// (normalized statement only, never literals); here are the transport, the timeouts and the retries.
#include "gateway/chat_notifier.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "approvals/chat_messages.hpp"

namespace phigate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

/// One message to one channel.
struct delivery {
  std::string channel;  ///< "slack", "teams", "webhook": for the log
  http_url url;
  std::string body;
  std::string signing_secret;  ///< webhook only: adds X-Phigate-Timestamp and X-Phigate-Signature
  bool reply = false;          ///< an answer to a click in the channel rather than a new request's message
};

/// The outcome of one attempt: delivered, worth retrying, or refused for good.
enum class attempt_result { delivered, retry, give_up };

http::request<http::string_body> make_post(const delivery& d) {
  http::request<http::string_body> req{http::verb::post, d.url.target, 11};
  const bool default_port = d.url.port == (d.url.tls ? 443 : 80);
  const bool v6 = d.url.host.find(':') != std::string::npos;
  req.set(http::field::host, (v6 ? "[" + d.url.host + "]" : d.url.host) +
                                 (default_port ? "" : ":" + std::to_string(d.url.port)));
  req.set(http::field::user_agent, "phigate");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  if (!d.signing_secret.empty()) {
    // Signed per attempt so a receiver's freshness window counts from this send, not the first one.
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::string timestamp = std::to_string(now);
    req.set("X-Phigate-Timestamp", timestamp);
    req.set("X-Phigate-Signature", approvals::webhook_signature(d.signing_secret, timestamp, d.body));
  }
  req.body() = d.body;
  req.prepare_payload();
  return req;
}

attempt_result judge(http::status status, const delivery& d) {
  const auto code = static_cast<unsigned>(status);
  if (code >= 200 && code < 300) return attempt_result::delivered;
  spdlog::warn("notify {}: {} answered {}", d.channel, d.url.host, code);
  // A 4xx (but 408 and 429) means the URL or the payload is wrong: repeating it cannot help.
  if (code >= 400 && code < 500 && code != 408 && code != 429) return attempt_result::give_up;
  return attempt_result::retry;
}

template <class Stream>
asio::awaitable<attempt_result> exchange(Stream& stream, const delivery& d) {
  auto req = make_post(d);
  auto [write_ec, written] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  if (write_ec) {
    spdlog::warn("notify {}: sending to {} failed: {}", d.channel, d.url.host, write_ec.message());
    co_return attempt_result::retry;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [read_ec, read] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
  if (read_ec) {
    spdlog::warn("notify {}: no answer from {}: {}", d.channel, d.url.host, read_ec.message());
    co_return attempt_result::retry;
  }
  co_return judge(res.result(), d);
}

asio::awaitable<attempt_result> attempt(const delivery& d, std::shared_ptr<ssl::context> tls) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(d.url.host, std::to_string(d.url.port),
                                                                 asio::as_tuple(asio::use_awaitable));
  if (resolve_ec) {
    spdlog::warn("notify {}: cannot resolve {}: {}", d.channel, d.url.host, resolve_ec.message());
    co_return attempt_result::retry;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(notify_attempt_timeout);
  auto [connect_ec, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  if (connect_ec) {
    spdlog::warn("notify {}: cannot connect to {}:{}: {}", d.channel, d.url.host, d.url.port,
                 connect_ec.message());
    co_return attempt_result::retry;
  }
  if (!d.url.tls) co_return co_await exchange(stream, d);
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls);
  // SNI, and the certificate must name the host we meant to reach.
  SSL_set_tlsext_host_name(tls_stream.native_handle(), d.url.host.c_str());
  tls_stream.set_verify_callback(ssl::host_name_verification(d.url.host));
  auto [handshake_ec] =
      co_await tls_stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (handshake_ec) {
    spdlog::warn("notify {}: TLS with {} failed: {}", d.channel, d.url.host, handshake_ec.message());
    co_return attempt_result::retry;
  }
  co_return co_await exchange(tls_stream, d);
}

asio::awaitable<void> deliver(delivery d, std::string request_id, std::shared_ptr<ssl::context> tls) {
  auto backoff = notify_first_backoff;
  for (int n = 1; n <= notify_max_attempts; ++n) {
    const auto result = co_await attempt(d, tls);
    if (result == attempt_result::delivered) {
      spdlog::info("notify {}: request {} {}", d.channel, request_id,
                   d.reply ? "reply delivered" : "announced");
      co_return;
    }
    if (result == attempt_result::give_up || n == notify_max_attempts) break;
    asio::steady_timer pause(co_await asio::this_coro::executor, backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff *= 2;
  }
  if (d.reply)
    spdlog::warn("notify {}: the reply about request {} could not be delivered", d.channel, request_id);
  else
    spdlog::error("notify {}: request {} could not be announced; approvers can still see it in the admin API",
                  d.channel, request_id);
}

std::shared_ptr<ssl::context> make_client_tls() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) spdlog::warn("notify: system CA certificates not loaded: {}", ec.message());
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace

chat_notifier::chat_notifier(asio::io_context& io, std::shared_ptr<approvals::service> service,
                             std::shared_ptr<const gateway_config> config)
    : io_(io), service_(std::move(service)), config_(std::move(config)), tls_(make_client_tls()) {}

chat_notifier::~chat_notifier() {
  if (subscription_ != 0) service_->unsubscribe(subscription_);
}

bool chat_notifier::configured(const gateway_config& config) {
  return config.notify.slack || config.notify.teams || config.notify.webhook;
}

void chat_notifier::start() {
  // A request is new when it is pending with no votes yet: every later change carries a vote or a state.
  subscription_ = service_->subscribe([this](const approvals::request& r) {
    if (r.state == approvals::request_state::pending && r.votes.empty()) announce(r);
  });
}

void chat_notifier::announce(const approvals::request& r) {
  const auto& notify = config_->notify;
  const std::string public_url = config_->admin ? config_->admin->public_url : std::string();
  const std::string link = approvals::request_link(public_url, r.id);
  std::vector<delivery> deliveries;
  if (notify.slack)
    deliveries.push_back({"slack", notify.slack->webhook_url, approvals::slack_message(r, link), {}});
  if (notify.teams)
    deliveries.push_back({"teams", notify.teams->webhook_url, approvals::teams_message(r, link), {}});
  if (notify.webhook)
    deliveries.push_back(
        {"webhook", notify.webhook->url, approvals::webhook_event(r, link), notify.webhook->secret});
  for (auto& d : deliveries) asio::co_spawn(io_, deliver(std::move(d), r.id, tls_), asio::detached);
}

void chat_notifier::reply_in_slack(http_url url, std::string body, std::string request_id) {
  delivery d{"slack", std::move(url), std::move(body), {}, true};
  asio::co_spawn(io_, deliver(std::move(d), std::move(request_id), tls_), asio::detached);
}

}  // namespace phigate

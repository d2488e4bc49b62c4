#include "gateway/admin_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cctype>

namespace phigate {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Beyond the stream's own deadline the io_context gets this much more, so that a slow name lookup (which
// tcp_stream's timer does not cover) still ends the call.
constexpr std::chrono::milliseconds resolve_grace_ms{2000};
constexpr std::chrono::milliseconds stop_poll_interval_ms{100};

// Where an exchange stopped, for the message: "connection refused" alone says nothing about TLS.
struct exchange_state {
  error_code ec;
  std::string stage;
  unsigned status = 0;
  std::string body;
};

// Sends `req` on an already connected (and, for TLS, handshaken) stream and reads the whole answer.
template <class Stream>
asio::awaitable<void> send_and_receive(Stream& stream, http::request<http::string_body>& req,
                                       exchange_state& st) {
  auto [write_ec, written] = co_await http::async_write(stream, req, use_tuple);
  if (write_ec) {
    st.ec = write_ec;
    st.stage = "sending the request";
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(admin_client_options::max_body_bytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (read_ec) {
    st.ec = read_ec;
    st.stage = "reading the answer";
    co_return;
  }
  st.status = parser.get().result_int();
  st.body = std::move(parser.get().body());
}

asio::awaitable<void> exchange(const admin_endpoint& ep, const admin_client_options& opts,
                               http::request<http::string_body>& req, std::chrono::milliseconds timeout,
                               exchange_state& st) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, addresses] = co_await resolver.async_resolve(ep.host, ep.port, use_tuple);
  if (resolve_ec) {
    st.ec = resolve_ec;
    st.stage = "looking up " + ep.host;
    co_return;
  }
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(timeout);  // one deadline for connect, handshake, send and receive together
  auto [connect_ec, peer] = co_await tcp_stream.async_connect(addresses, use_tuple);
  if (connect_ec) {
    st.ec = connect_ec;
    co_return;  // the plain message ("connection refused") reads best without a stage
  }
  if (!ep.tls) {
    co_await send_and_receive(tcp_stream, req, st);
    error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return;
  }
  ssl::context ctx(ssl::context::tls_client);
  error_code ctx_ec;
  if (opts.ca_file.empty()) {
    ctx.set_default_verify_paths(ctx_ec);
  } else {
    ctx.load_verify_file(opts.ca_file, ctx_ec);
  }
  if (ctx_ec) {
    st.ec = ctx_ec;
    st.stage = opts.ca_file.empty() ? "loading the system CA store" : "loading CA file " + opts.ca_file;
    co_return;
  }
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), ctx);
  tls_stream.set_verify_callback(ssl::host_name_verification(ep.host));
  error_code address_ec;
  asio::ip::make_address(ep.host, address_ec);
  // SNI carries names only; an IP literal in it is a protocol violation some servers reject.
  if (address_ec) SSL_set_tlsext_host_name(tls_stream.native_handle(), ep.host.c_str());
  auto [handshake_ec] = co_await tls_stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (handshake_ec) {
    st.ec = handshake_ec;
    st.stage = "TLS handshake";
    co_return;
  }
  co_await send_and_receive(tls_stream, req, st);
  // Connection: close was sent; the answer is complete, so no close_notify round trip is waited for.
  error_code ignored;
  beast::get_lowest_layer(tls_stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
}

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto tenths = (ms.count() + 50) / 100;
  return tenths % 10 == 0 ? std::to_string(tenths / 10) + " s"
                          : std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

// The error text of an API error body ({"error": "..."}), or "" when the body has none.
std::string error_text(const json::value& body) {
  if (const auto* obj = body.if_object()) {
    if (const auto* err = obj->if_contains("error"); err && err->is_string())
      return std::string(err->get_string());
  }
  return {};
}

std::optional<std::vector<approvals::request>> requests_from(const json::value& list) {
  const auto* arr = list.if_array();
  if (arr == nullptr) return std::nullopt;
  std::vector<approvals::request> out;
  out.reserve(arr->size());
  for (const auto& item : *arr) {
    auto r = approvals::request_from_json(item);
    if (!r) return std::nullopt;
    out.push_back(std::move(*r));
  }
  return out;
}

std::optional<std::uint64_t> unsigned_from(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

}  // namespace

std::variant<admin_endpoint, std::string> parse_admin_url(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed)
    return "not a URL: \"" + std::string(url) + "\" (expected http://HOST:PORT or https://HOST:PORT)";
  const auto& u = *parsed;
  admin_endpoint ep;
  if (u.scheme_id() == boost::urls::scheme::http) {
    ep.tls = false;
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    ep.tls = true;
  } else {
    return "unsupported scheme in \"" + std::string(url) + "\": use http:// or https://";
  }
  if (!u.has_authority() || u.host().empty()) return "no host in \"" + std::string(url) + "\"";
  if (u.has_userinfo()) return "user info is not allowed in \"" + std::string(url) + "\" (use --token)";
  if (u.has_query() || u.has_fragment()) {
    return "a query or fragment is not allowed in \"" + std::string(url) + "\"";
  }
  ep.host =
      u.host_type() == boost::urls::host_type::ipv6 ? std::string(u.host_address()) : std::string(u.host());
  if (u.has_port()) {
    if (u.port_number() == 0) return "bad port in \"" + std::string(url) + "\"";
    ep.port = std::to_string(u.port_number());
  } else {
    ep.port = ep.tls ? "443" : "80";
  }
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  ep.path_prefix = path;
  ep.display = std::string(url);
  while (!ep.display.empty() && ep.display.back() == '/') ep.display.pop_back();
  return ep;
}

struct admin_client::http_answer {
  exchange_state state;
};

admin_client::admin_client(admin_endpoint endpoint, admin_client_options options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)) {}

std::string admin_client::target(
    std::initializer_list<std::string_view> segments,
    std::initializer_list<std::pair<std::string_view, std::string>> query) const {
  boost::urls::url u;
  u.set_encoded_path(endpoint_.path_prefix);
  u.set_path_absolute(true);
  for (auto segment : segments) u.segments().push_back(segment);
  for (const auto& [key, value] : query) u.params().append({key, value});
  return std::string(u.encoded_target());
}

admin_client::http_answer admin_client::call(std::string_view method, const std::string& target,
                                             const std::string& body,
                                             std::chrono::milliseconds timeout) const {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, endpoint_.host);
  req.set(http::field::user_agent, "phigate-admin-client");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (!options_.token.empty()) req.set(http::field::authorization, "Bearer " + options_.token);
  if (method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();

  http_answer answer;
  asio::io_context ioc;
  bool finished = false;
  asio::co_spawn(ioc, exchange(endpoint_, options_, req, timeout, answer.state),
                 [&finished, &answer](std::exception_ptr failure) {
                   finished = true;
                   if (!failure) return;
                   try {
                     std::rethrow_exception(failure);
                   } catch (const std::exception& e) {
                     answer.state.stage = e.what();  // e.g. an OpenSSL context that cannot be created
                   } catch (...) {
                     answer.state.stage = "unexpected failure";
                   }
                 });
  // Short slices so a stop request (the TUI quitting during a long-poll) ends the call promptly.
  const auto deadline = std::chrono::steady_clock::now() + timeout + resolve_grace_ms;
  while (!finished && !options_.stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(stop_poll_interval_ms);
  }
  if (!finished) {
    answer.state.ec = options_.stop.stop_requested() ? error_code(asio::error::operation_aborted)
                                                     : error_code(beast::error::timeout);
    answer.state.stage = {};
  }
  if (answer.state.ec == beast::error::timeout || answer.state.ec == asio::error::timed_out) {
    answer.state.stage = "no answer within " + seconds_text(timeout);
    answer.state.ec = {};
  }
  return answer;
}

template <class T, class Convert>
admin_result<T> admin_client::fetch(std::string_view method, const std::string& target,
                                    const std::string& body, std::chrono::milliseconds timeout,
                                    Convert convert) const {
  admin_result<T> result;
  auto answer = call(method, target, body, timeout);
  const auto& st = answer.state;
  if (st.status == 0) {
    std::string why = st.stage;
    if (st.ec) why = why.empty() ? lower_first(st.ec.message()) : why + ": " + lower_first(st.ec.message());
    result.failure = {admin_failure_kind::unreachable, 0, "cannot reach " + endpoint_.display + ": " + why};
    return result;
  }
  error_code parse_ec;
  result.raw = json::parse(st.body, parse_ec);
  if (parse_ec) result.raw = nullptr;
  if (st.status < 200 || st.status >= 300) {
    auto text = error_text(result.raw);
    if (text.empty()) {
      text = "HTTP " + std::to_string(st.status) + " " +
             std::string(http::obsolete_reason(static_cast<http::status>(st.status))) + " from " +
             endpoint_.display + target;
    }
    result.failure = {admin_failure_kind::rejected, st.status, std::move(text)};
    return result;
  }
  if (!parse_ec) result.value = convert(result.raw);
  if (!result.value) {
    result.failure = {
        admin_failure_kind::malformed, st.status,
        "unexpected answer from " + endpoint_.display + target +
            (parse_ec ? ": not JSON (" + parse_ec.message() + ")" : ": not the documented shape")};
  }
  return result;
}

admin_result<std::vector<approvals::request>> admin_client::list(
    std::optional<approvals::request_state> state, std::size_t limit) const {
  std::string path =
      state ? target({"api", "v1", "requests"},
                     {{"state", std::string(approvals::to_string(*state))}, {"limit", std::to_string(limit)}})
            : target({"api", "v1", "requests"}, {{"limit", std::to_string(limit)}});
  return fetch<std::vector<approvals::request>>(
      "GET", path, {}, options_.timeout,
      [](const json::value& v) -> std::optional<std::vector<approvals::request>> {
        const auto* obj = v.if_object();
        const auto* items = obj ? obj->if_contains("requests") : nullptr;
        return items ? requests_from(*items) : std::nullopt;
      });
}

admin_result<approvals::request> admin_client::get(std::string_view id) const {
  return fetch<approvals::request>("GET", target({"api", "v1", "requests", id}), {}, options_.timeout,
                                   approvals::request_from_json);
}

admin_result<approvals::request> admin_client::approve(std::string_view id, std::string_view reason) const {
  auto body = json::serialize(json::object{{"reason", reason}});
  return fetch<approvals::request>("POST", target({"api", "v1", "requests", id, "approve"}), body,
                                   options_.timeout, approvals::request_from_json);
}

admin_result<approvals::request> admin_client::deny(std::string_view id, std::string_view reason) const {
  auto body = json::serialize(json::object{{"reason", reason}});
  return fetch<approvals::request>("POST", target({"api", "v1", "requests", id, "deny"}), body,
                                   options_.timeout, approvals::request_from_json);
}

admin_result<admin_changes> admin_client::changes(std::uint64_t since, unsigned timeout_s) const {
  auto path = target({"api", "v1", "changes"},
                     {{"since", std::to_string(since)}, {"timeout", std::to_string(timeout_s)}});
  return fetch<admin_changes>("GET", path, {}, options_.timeout + std::chrono::seconds(timeout_s),
                              [](const json::value& v) -> std::optional<admin_changes> {
                                const auto* obj = v.if_object();
                                if (obj == nullptr) return std::nullopt;
                                const auto* seq = obj->if_contains("seq");
                                const auto* items = obj->if_contains("requests");
                                if (seq == nullptr || items == nullptr) return std::nullopt;
                                auto seq_value = unsigned_from(*seq);
                                auto requests = requests_from(*items);
                                if (!seq_value || !requests) return std::nullopt;
                                return admin_changes{*seq_value, std::move(*requests)};
                              });
}

admin_result<admin_identity> admin_client::whoami() const {
  return fetch<admin_identity>("GET", target({"api", "v1", "whoami"}), {}, options_.timeout,
                               [](const json::value& v) -> std::optional<admin_identity> {
                                 const auto* obj = v.if_object();
                                 const auto* identity = obj ? obj->if_contains("identity") : nullptr;
                                 if (identity == nullptr || !identity->is_string()) return std::nullopt;
                                 admin_identity out{std::string(identity->get_string()), {}};
                                 if (const auto* groups = obj->if_contains("groups");
                                     groups && groups->is_array()) {
                                   for (const auto& g : groups->get_array()) {
                                     if (g.is_string()) out.groups.emplace_back(g.get_string());
                                   }
                                 }
                                 return out;
                               });
}

}  // namespace phigate

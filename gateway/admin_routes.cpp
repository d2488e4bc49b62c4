// The admin API's routes. Every decision on a request goes through approvals::service::vote, which owns the
// rules (no self-approval, eligible groups, one vote each, quorum); this file only authenticates the caller,
// reads parameters and maps outcomes to HTTP status codes.
#include "gateway/admin_routes.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/json.hpp>
#include <charconv>

#include "approvals/chat_messages.hpp"

namespace phigate {
namespace json = boost::json;
namespace {

constexpr std::size_t default_list_limit = 200;
constexpr std::size_t max_list_limit = 1000;
constexpr std::string_view requests_prefix = "/api/v1/requests/";

admin_response make_response(http::status status, const admin_request& req, std::string body,
                             std::string_view content_type = "application/json") {
  admin_response res{status, req.version()};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

admin_response json_response(http::status status, const admin_request& req, const json::value& body) {
  return make_response(status, req, json::serialize(body));
}

admin_response error_response(http::status status, const admin_request& req, std::string_view message) {
  return json_response(status, req, json::object{{"error", message}});
}

admin_response unauthorized(const admin_request& req) {
  auto res = error_response(http::status::unauthorized, req, "missing or invalid bearer token");
  res.set(http::field::www_authenticate, "Bearer realm=\"phigate\"");
  return res;
}

std::optional<std::uint64_t> unsigned_param(std::string_view query, std::string_view name) {
  const auto text = approvals::form_value(query, name);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return value;
}

http::status status_of(approvals::vote_result result) {
  using approvals::vote_result;
  switch (result) {
    case vote_result::recorded:
    case vote_result::decided:
      return http::status::ok;
    case vote_result::not_found:
      return http::status::not_found;
    case vote_result::self_approval:
    case vote_result::not_eligible:
      return http::status::forbidden;
    case vote_result::not_pending:
    case vote_result::already_voted:
    case vote_result::conflict:
      return http::status::conflict;
  }
  return http::status::internal_server_error;
}

/// The reason from a vote body: {} or {"reason":"..."}; an empty body is no reason. nullopt = malformed.
std::optional<std::string> vote_reason(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string();
  boost::system::error_code ec;
  const auto doc = json::parse(body, ec);
  const auto* obj = ec ? nullptr : doc.if_object();
  if (!obj) return std::nullopt;
  const auto* reason = obj->if_contains("reason");
  if (!reason || reason->is_null()) return std::string();
  const auto* text = reason->if_string();
  if (!text) return std::nullopt;
  return std::string(text->data(), text->size());
}

json::array request_array(const std::vector<approvals::request>& requests) {
  json::array out;
  out.reserve(requests.size());
  for (const auto& r : requests) out.push_back(approvals::to_json(r));
  return out;
}

std::int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char byte : digest) {
    out += digits[byte >> 4];
    out += digits[byte & 0x0f];
  }
  return out;
}

admin_routes::admin_routes(std::shared_ptr<approvals::service> service,
                           std::shared_ptr<const gateway_config> config, clock_fn now)
    : service_(std::move(service)), config_(std::move(config)), now_(now ? std::move(now) : system_seconds) {}

std::optional<approvals::approver> admin_routes::authenticate(const admin_request& req) const {
  const auto header = req.find(http::field::authorization);
  if (header == req.end() || !config_->admin) return std::nullopt;
  const std::string_view value = header->value();
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || !value.starts_with(scheme)) return std::nullopt;
  // Hashing first makes every comparison the same length; comparing every configured hash without an
  // early exit keeps the timing independent of which token (if any) matched.
  const std::string presented = sha256_hex(value.substr(scheme.size()));
  const admin_token* match = nullptr;
  for (const auto& token : config_->admin->tokens) {
    if (token.token_sha256.size() == presented.size() &&
        CRYPTO_memcmp(token.token_sha256.data(), presented.data(), presented.size()) == 0)
      match = &token;
  }
  if (!match) return std::nullopt;
  return approvals::approver{match->identity, match->groups};
}

std::optional<approvals::approver> admin_routes::approver_for(const std::string& identity) const {
  const auto user = config_->users.find(identity);
  if (user == config_->users.end()) return std::nullopt;
  approvals::approver who{identity, user->second.groups};
  if (config_->admin) {
    for (const auto& token : config_->admin->tokens) {
      if (token.identity != identity) continue;
      for (const auto& group : token.groups)
        if (std::find(who.groups.begin(), who.groups.end(), group) == who.groups.end())
          who.groups.push_back(group);
    }
  }
  return who;
}

admin_outcome admin_routes::handle(const admin_request& req) {
  try {
    return route(req);
  } catch (const std::exception& e) {
    // The store failed (disk, corruption): say so without detail to the client, with detail to the log.
    spdlog::error("admin API: {} {}: {}", std::string(req.method_string()), std::string(req.target()),
                  e.what());
    return {error_response(http::status::internal_server_error, req, "internal error; see the gateway log"),
            {}};
  }
}

admin_outcome admin_routes::route(const admin_request& req) {
  const std::string_view target = req.target();
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  const bool is_get = req.method() == http::verb::get;
  const bool is_post = req.method() == http::verb::post;

  if (path == "/healthz") {
    if (!is_get) return {error_response(http::status::method_not_allowed, req, "use GET"), {}};
    return {json_response(http::status::ok, req, json::object{{"status", "ok"}}), {}};
  }
  if (path == "/slack/interactive") {
    if (!is_post) return {error_response(http::status::method_not_allowed, req, "use POST"), {}};
    return {slack_interactive(req), {}};
  }
  if (!path.starts_with("/api/v1/"))
    return {error_response(http::status::not_found, req, "no such endpoint"), {}};
  const auto who = authenticate(req);
  if (!who) return {unauthorized(req), {}};

  if (path == "/api/v1/whoami" && is_get) return {whoami(req, *who), {}};
  if (path == "/api/v1/requests" && is_get) return {list(req, query), {}};
  if (path == "/api/v1/changes" && is_get) return poll(req, query);
  if (path.starts_with(requests_prefix)) {
    std::string_view rest = path.substr(requests_prefix.size());
    const auto slash = rest.find('/');
    const std::string_view id = rest.substr(0, slash);
    const std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (!id.empty() && action.empty() && is_get) return {get(req, id), {}};
    if (!id.empty() && (action == "approve" || action == "deny") && is_post)
      return {vote(req, id, action == "approve", *who), {}};
  }
  return {error_response(http::status::not_found, req, "no such endpoint or method"), {}};
}

admin_response admin_routes::whoami(const admin_request& req, const approvals::approver& who) {
  json::array groups;
  for (const auto& g : who.groups) groups.emplace_back(g);
  return json_response(http::status::ok, req, json::object{{"identity", who.identity}, {"groups", groups}});
}

admin_response admin_routes::list(const admin_request& req, std::string_view query) {
  std::optional<approvals::request_state> state;
  if (const auto text = approvals::form_value(query, "state"); text && !text->empty()) {
    state = approvals::parse_request_state(*text);
    if (!state) return error_response(http::status::bad_request, req, "unknown state '" + *text + "'");
  }
  std::size_t limit = default_list_limit;
  if (approvals::form_value(query, "limit")) {
    const auto n = unsigned_param(query, "limit");
    if (!n || *n == 0 || *n > max_list_limit)
      return error_response(http::status::bad_request, req,
                            "limit must be an integer in 1.." + std::to_string(max_list_limit));
    limit = *n;
  }
  return json_response(http::status::ok, req,
                       json::object{{"requests", request_array(service_->list(state, limit))}});
}

admin_response admin_routes::get(const admin_request& req, std::string_view id) {
  const auto r = service_->get(id);
  if (!r) return error_response(http::status::not_found, req, "no request " + std::string(id));
  return json_response(http::status::ok, req, approvals::to_json(*r));
}

admin_response admin_routes::vote(const admin_request& req, std::string_view id, bool approve,
                                  const approvals::approver& who) {
  auto reason = vote_reason(req.body());
  if (!reason) return error_response(http::status::bad_request, req, R"(expected a body {"reason": "..."})");
  if (!approve && reason->empty())
    return error_response(http::status::bad_request, req, "a deny needs a reason");
  const auto outcome = service_->vote(id, who, approve, std::move(*reason));
  spdlog::info("admin API: {} {} {}: {} ({})", who.identity, approve ? "approves" : "denies", std::string(id),
               approvals::to_string(outcome.result), outcome.message);
  const auto status = status_of(outcome.result);
  if (status != http::status::ok || !outcome.request) return error_response(status, req, outcome.message);
  return json_response(status, req, approvals::to_json(*outcome.request));
}

admin_outcome admin_routes::poll(const admin_request& req, std::string_view query) {
  std::uint64_t since = 0;
  if (approvals::form_value(query, "since")) {
    const auto n = unsigned_param(query, "since");
    if (!n) return {error_response(http::status::bad_request, req, "since must be a sequence number"), {}};
    since = *n;
  }
  auto timeout = admin_default_poll_timeout;
  if (approvals::form_value(query, "timeout")) {
    const auto n = unsigned_param(query, "timeout");
    if (!n)
      return {error_response(http::status::bad_request, req, "timeout must be a number of seconds"), {}};
    timeout = std::min(std::chrono::seconds(static_cast<std::int64_t>(std::min<std::uint64_t>(*n, 3600))),
                       admin_max_poll_timeout);
  }
  auto res = changes(since, req.version(), req.keep_alive());
  if (res.result() == http::status::ok && timeout.count() > 0 && service_->changes_since(since, 1).empty())
    return {std::move(res), changes_wait{since, timeout}};
  return {std::move(res), {}};
}

admin_response admin_routes::changes(std::uint64_t since, unsigned version, bool keep_alive) {
  admin_request shape{http::verb::get, "", version};
  shape.keep_alive(keep_alive);
  const auto changed = service_->changes_since(since);
  // The seq to poll from next: the last change returned, so a client paging through a burst misses nothing.
  const std::uint64_t seq = changed.empty() ? service_->last_seq() : changed.back().seq;
  return json_response(http::status::ok, shape,
                       json::object{{"seq", seq}, {"requests", request_array(changed)}});
}

admin_response admin_routes::slack_interactive(const admin_request& req) {
  const auto text = [&](http::status status, std::string message) {
    return make_response(status, req, std::move(message), "text/plain; charset=utf-8");
  };
  const auto& slack = config_->notify.slack;
  if (!slack) return text(http::status::not_found, "Slack is not configured on this gateway");
  const auto verdict = approvals::verify_slack_signature(
      slack->signing_secret, req["X-Slack-Request-Timestamp"], req["X-Slack-Signature"], req.body(), now_());
  if (verdict != approvals::slack_verdict::ok) {
    spdlog::warn("Slack interactive request refused: {}", approvals::to_string(verdict));
    return text(http::status::unauthorized, "refused: " + std::string(approvals::to_string(verdict)));
  }
  const auto action = approvals::parse_slack_interaction(req.body());
  if (!action) return text(http::status::bad_request, "not an approve or deny action");
  const auto identity = slack->users.find(action->user_id);
  const auto who = identity == slack->users.end() ? std::nullopt : approver_for(identity->second);
  if (!who) {
    spdlog::warn("Slack user {} is not mapped to a phigate user; vote on {} refused", action->user_id,
                 action->request_id);
    return text(http::status::forbidden, "refused: your Slack user is not mapped to a phigate approver");
  }
  // Slack's click carries no reason; the record says where the verdict came from.
  const auto outcome = service_->vote(action->request_id, *who, action->approve,
                                      action->approve ? "approved in Slack" : "denied in Slack");
  spdlog::info("Slack: {} {} {}: {} ({})", who->identity, action->approve ? "approves" : "denies",
               action->request_id, approvals::to_string(outcome.result), outcome.message);
  reply_in_slack(*action, *who, outcome);
  return text(http::status::ok,
              outcome.message.empty() ? std::string(approvals::to_string(outcome.result)) : outcome.message);
}

void admin_routes::reply_in_slack(const approvals::slack_action& action, const approvals::approver& who,
                                  const approvals::vote_outcome& vote) const {
  if (!slack_reply_ || action.response_url.empty()) return;
  // Only Slack's own host: a signed click is trusted to vote, not to make the gateway POST anywhere.
  const auto& webhook = config_->notify.slack->webhook_url;
  const auto url = parse_http_url(action.response_url);
  if (!url || url->tls != webhook.tls || !boost::iequals(url->host, webhook.host) ||
      url->port != webhook.port) {
    spdlog::warn(
        "Slack: the response_url of the click on {} is not on {} (the webhook's host); no reply sent",
        action.request_id, webhook.host);
    return;
  }
  const std::string public_url = config_->admin ? config_->admin->public_url : std::string();
  slack_reply_(*url,
               approvals::slack_vote_reply(vote, who.identity, action.approve,
                                           approvals::request_link(public_url, action.request_id)),
               action.request_id);
}

}  // namespace phigate

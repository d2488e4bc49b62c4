// Chat and webhook payloads, and the Slack request check. Bodies are built with Boost.JSON so every string
// (statements included) is escaped by the serializer, never by hand.
#include "approvals/chat_messages.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <boost/json.hpp>
#include <charconv>

namespace phigate::approvals {
namespace json = boost::json;
namespace {

constexpr std::string_view truncation_marker = "\n... (cut)";

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0f];
  }
  return out;
}

/// `text` cut to at most `max_chars` bytes (on a UTF-8 character boundary) with a marker when cut.
std::string cut(std::string_view text, std::size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  std::size_t end = max_chars - truncation_marker.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return std::string(text.substr(0, end)) + std::string(truncation_marker);
}

/// Slack's mrkdwn treats &, < and > as control characters; everything else is literal inside a code block.
std::string slack_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string summary_line(const request& r) {
  return "phigate: " + r.requester + " asks to run a held " + r.kind + " statement on " + r.database +
         " (rule " + r.rule_id + ", request " + r.id + ")";
}

json::object slack_button(std::string_view label, std::string_view action, std::string_view style,
                          std::string_view id) {
  return {{"type", "button"},
          {"text", {{"type", "plain_text"}, {"text", label}}},
          {"style", style},
          {"action_id", action},
          {"value", id}};
}

/// Constant-time equality: the length is not secret, the content is.
bool same_secret_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string json_string(const json::value* v) {
  const auto* s = v ? v->if_string() : nullptr;
  return s ? std::string(s->data(), s->size()) : std::string();
}

}  // namespace

std::string request_link(std::string_view public_url, std::string_view id) {
  if (public_url.empty()) return {};
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  return std::string(public_url) + "/api/v1/requests/" + std::string(id);
}

namespace {

// The sections every Slack message about `r` starts with: who asked for what, and the statement.
json::array slack_request_blocks(const request& r, std::string_view link) {
  std::string details = "*Approval requested* for `" + r.id + "`\n*Requester:* " + slack_escape(r.requester) +
                        "\n*Database:* " + slack_escape(r.database) + "\n*Kind:* " + slack_escape(r.kind) +
                        "\n*Rule:* " + slack_escape(r.rule_id);
  if (!link.empty()) details += "\n<" + slack_escape(link) + "|Open request>";
  const std::string code = "```" + cut(slack_escape(r.normalized), slack_section_max_chars - 6) + "```";
  json::array blocks;
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", details}}}});
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", code}}}});
  return blocks;
}

}  // namespace

std::string slack_message(const request& r, std::string_view link) {
  json::array blocks = slack_request_blocks(r, link);
  blocks.push_back({{"type", "actions"},
                    {"block_id", "phigate_approval"},
                    {"elements",
                     {slack_button("Approve", "approve", "primary", r.id),
                      slack_button("Deny", "deny", "danger", r.id)}}});
  json::object body{{"text", summary_line(r)}, {"blocks", std::move(blocks)}};
  return json::serialize(body);
}

std::string slack_vote_reply(const vote_outcome& vote, std::string_view approver, bool approve,
                             std::string_view link) {
  const bool settled =
      vote.request && (vote.result == vote_result::decided || vote.result == vote_result::not_pending);
  if (!settled) {
    // The request is still open for the others (or this click changed nothing): only the clicker is told.
    const std::string text = vote.message.empty() ? std::string(to_string(vote.result)) : vote.message;
    return json::serialize(
        json::object{{"response_type", "ephemeral"}, {"replace_original", false}, {"text", text}});
  }
  const request& r = *vote.request;
  std::string status = "*" + std::string(to_string(r.state)) + "*";
  if (vote.result == vote_result::decided)
    status += " (" + slack_escape(approver) + (approve ? " approved" : " denied") + " in Slack)";
  if (!vote.message.empty()) status += ": " + slack_escape(vote.message);
  json::array blocks = slack_request_blocks(r, link);
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", status}}}});
  return json::serialize(json::object{{"replace_original", true},
                                      {"text", summary_line(r) + " is " + std::string(to_string(r.state))},
                                      {"blocks", std::move(blocks)}});
}

std::string teams_message(const request& r, std::string_view link) {
  json::array facts;
  for (const auto& [title, value] :
       {std::pair{"Request", r.id}, std::pair{"Requester", r.requester}, std::pair{"Database", r.database},
        std::pair{"Kind", r.kind}, std::pair{"Rule", r.rule_id}})
    facts.push_back({{"title", title}, {"value", value}});
  json::array card_body;
  card_body.push_back(
      {{"type", "TextBlock"}, {"text", "Approval requested"}, {"weight", "Bolder"}, {"size", "Medium"}});
  card_body.push_back({{"type", "FactSet"}, {"facts", std::move(facts)}});
  card_body.push_back({{"type", "TextBlock"},
                       {"text", cut(r.normalized, slack_section_max_chars)},
                       {"wrap", true},
                       {"fontType", "Monospace"}});
  json::object card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                    {"type", "AdaptiveCard"},
                    {"version", "1.4"},
                    {"body", std::move(card_body)}};
  if (!link.empty())
    card["actions"] = json::array{{{"type", "Action.OpenUrl"}, {"title", "Open request"}, {"url", link}}};
  json::object attachment{{"contentType", "application/vnd.microsoft.card.adaptive"},
                          {"contentUrl", nullptr},
                          {"content", std::move(card)}};
  json::object body{{"type", "message"}, {"attachments", json::array{std::move(attachment)}}};
  return json::serialize(body);
}

std::string webhook_event(const request& r, std::string_view link) {
  json::object summary{{"id", r.id},
                       {"state", to_string(r.state)},
                       {"requester", r.requester},
                       {"database", r.database},
                       {"rule_id", r.rule_id},
                       {"kind", r.kind},
                       {"normalized", r.normalized}};
  json::object body{{"event", "request.created"}, {"request", std::move(summary)}};
  body["link"] = link.empty() ? json::value(nullptr) : json::value(link);
  return json::serialize(body);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return to_hex(mac.data(), size);
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string signed_text(timestamp);
  signed_text += '.';
  signed_text += body;
  return "sha256=" + hmac_sha256_hex(secret, signed_text);
}

std::string_view to_string(slack_verdict v) noexcept {
  switch (v) {
    case slack_verdict::ok:
      return "ok";
    case slack_verdict::missing:
      return "missing signature or timestamp";
    case slack_verdict::stale:
      return "stale timestamp";
    case slack_verdict::bad_signature:
      return "bad signature";
  }
  return "unknown";
}

slack_verdict verify_slack_signature(std::string_view signing_secret, std::string_view timestamp,
                                     std::string_view signature, std::string_view body, std::int64_t now_s) {
  std::int64_t sent_s = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent_s);
  if (timestamp.empty() || signature.empty() || ec != std::errc{} ||
      end != timestamp.data() + timestamp.size())
    return slack_verdict::missing;
  // Checked before the signature: a replayed, correctly signed request must still be refused.
  if (sent_s < now_s - slack_max_clock_skew_s || sent_s > now_s + slack_max_clock_skew_s)
    return slack_verdict::stale;
  std::string base = "v0:";
  base += timestamp;
  base += ':';
  base += body;
  const std::string expected = "v0=" + hmac_sha256_hex(signing_secret, base);
  return same_secret_text(expected, signature) ? slack_verdict::ok : slack_verdict::bad_signature;
}

std::optional<std::string> form_value(std::string_view body, std::string_view key) {
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto name = url_decode(pair.substr(0, eq));
    if (!name || *name != key) continue;
    return url_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::optional<slack_action> parse_slack_interaction(std::string_view form_body) {
  const auto payload = form_value(form_body, "payload");
  if (!payload) return std::nullopt;
  boost::system::error_code ec;
  const json::value doc = json::parse(*payload, ec);
  const auto* root = ec ? nullptr : doc.if_object();
  if (!root || json_string(root->if_contains("type")) != "block_actions") return std::nullopt;
  const auto* user = root->if_contains("user");
  const auto* actions = root->if_contains("actions");
  if (!user || !user->is_object() || !actions || !actions->is_array() || actions->as_array().empty())
    return std::nullopt;
  const auto* action = actions->as_array().front().if_object();
  if (!action) return std::nullopt;
  slack_action out;
  out.user_id = json_string(user->as_object().if_contains("id"));
  out.response_url = json_string(root->if_contains("response_url"));
  const std::string action_id = json_string(action->if_contains("action_id"));
  out.request_id = json_string(action->if_contains("value"));
  if (out.user_id.empty() || out.request_id.empty() || (action_id != "approve" && action_id != "deny"))
    return std::nullopt;
  out.approve = action_id == "approve";
  return out;
}

}  // namespace phigate::approvals

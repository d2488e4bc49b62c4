// What phigate says to chat and webhooks about a new approval request, and how it checks what Slack sends
// back. Pure functions: no sockets, no clocks (the caller passes the time), so every one is unit-tested.
//
// A message carries only the request id, its kind, the rule, the requester, the database, the normalized
// statement (literals replaced by $n) and a link. Never the exact statement text or parameters: chat is
// not a place for PHI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "approvals/request.hpp"
#include "approvals/service.hpp"

namespace phigate::approvals {

/// Slack's limit on the text of one section block; longer statements are cut with a marker.
inline constexpr std::size_t slack_section_max_chars = 3000;
/// Slack refuses a request whose timestamp is further than this from now (replay protection).
inline constexpr std::int64_t slack_max_clock_skew_s = 5 * 60;

/// Where a person opens the request: "<public_url>/api/v1/requests/<id>" ("" without a public URL).
std::string request_link(std::string_view public_url, std::string_view id);

/// Slack incoming-webhook body: a Block Kit section describing the request and Approve/Deny buttons
/// (action_id "approve"/"deny", value = the request id).
std::string slack_message(const request& r, std::string_view link);

/// The body to POST to the response_url of a click on a Slack button: `approver` (the phigate identity the
/// Slack user maps to) voted `approve` and the service answered `vote`. When the click settled the request
/// (it decided it, or it was decided, expired or abandoned before) the original message is replaced by the
/// request's details and its state, without buttons; otherwise (a vote counted towards a quorum, or
/// refused) only the clicker sees the service's sentence (an ephemeral message) and the buttons stay for
/// the others.
std::string slack_vote_reply(const vote_outcome& vote, std::string_view approver, bool approve,
                             std::string_view link);

/// Microsoft Teams incoming-webhook body: a message with one Adaptive Card attachment.
std::string teams_message(const request& r, std::string_view link);

/// Generic webhook body: {"event":"request.created","request":{...},"link":...}.
std::string webhook_event(const request& r, std::string_view link);

/// Lowercase hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// X-Phigate-Signature for a webhook body sent with X-Phigate-Timestamp = `timestamp`:
/// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

/// The outcome of checking a request that claims to come from Slack.
enum class slack_verdict {
  ok,             ///< signed with our secret, recent
  missing,        ///< no timestamp or signature header, or a timestamp that is not a number
  stale,          ///< more than slack_max_clock_skew_s away from now (a replay or a wrong clock)
  bad_signature,  ///< the signature does not match
};
std::string_view to_string(slack_verdict v) noexcept;

/// Checks X-Slack-Signature = "v0=" + hex HMAC-SHA256(secret, "v0:" + timestamp + ":" + raw body), in
/// constant time, and the timestamp against `now_s` (unix seconds).
slack_verdict verify_slack_signature(std::string_view signing_secret, std::string_view timestamp,
                                     std::string_view signature, std::string_view body, std::int64_t now_s);

/// One click on an Approve or Deny button.
struct slack_action {
  std::string user_id;       ///< Slack's user id ("U012ABC")
  bool approve = false;      ///< action_id "approve" (true) or "deny"
  std::string request_id;    ///< the button's value
  std::string response_url;  ///< where Slack takes a reply that can replace the message ("" if absent)
};

/// The action in Slack's interactive POST body (form-encoded, `payload=<JSON>` of type block_actions);
/// nullopt for anything else (other types, unknown action ids, malformed bodies).
std::optional<slack_action> parse_slack_interaction(std::string_view form_body);

/// The decoded value of `key` in an application/x-www-form-urlencoded body; nullopt when absent or badly
/// encoded.
std::optional<std::string> form_value(std::string_view body, std::string_view key);

}  // namespace phigate::approvals

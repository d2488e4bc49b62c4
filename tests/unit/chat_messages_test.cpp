// Chat and webhook payloads for a new approval request, and the checks on what Slack sends back.
#include "approvals/chat_messages.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>

namespace json = boost::json;
using namespace phigate::approvals;

namespace {

/// A held export whose exact text and parameters carry a patient's name, which must never reach chat.
request held_export() {
  request r;
  r.id = "r-abcdefghij";
  r.requester = "bob";
  r.requester_groups = {"clinical"};
  r.database = "clinic";
  r.rule_id = "exports-held";
  r.kind = "export";
  r.statement = "COPY (SELECT * FROM patients WHERE name = 'Jane Roe') TO STDOUT";
  r.normalized = "COPY (SELECT * FROM patients WHERE name = $1) TO STDOUT";
  r.parameters = {"$1 = 'Jane Roe'"};
  r.justification = "audit for Jane Roe";
  return r;
}

std::string percent_encoded(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_') {
      out += c;
    } else {
      out += '%';
      out += digits[byte >> 4];
      out += digits[byte & 0x0f];
    }
  }
  return out;
}

json::value parsed(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  REQUIRE_FALSE(ec);
  return v;
}

// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
constexpr std::string_view slack_doc_secret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::string_view slack_doc_timestamp = "1531420618";
constexpr std::string_view slack_doc_body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_"
    "name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%"
    "3A%2F%"
    "2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
    "398738663015."
    "47445629121.803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view slack_doc_signature =
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

}  // namespace

TEST_CASE("chat messages never carry the exact statement, parameters or justification", "[chat]") {
  const auto r = held_export();
  const std::string link = request_link("http://gw:6480/", r.id);
  CHECK(link == "http://gw:6480/api/v1/requests/r-abcdefghij");
  for (const auto& body : {slack_message(r, link), teams_message(r, link), webhook_event(r, link)}) {
    CHECK(body.find("Jane") == std::string::npos);
    CHECK(body.find("Roe") == std::string::npos);
    CHECK(body.find("name = $1") != std::string::npos);
    CHECK(body.find("r-abcdefghij") != std::string::npos);
  }
}

TEST_CASE("a Slack message has a section and Approve and Deny buttons carrying the request id", "[chat]") {
  const auto doc = parsed(slack_message(held_export(), "http://gw/api/v1/requests/r-abcdefghij"));
  const auto& blocks = doc.at("blocks").as_array();
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].at("type") == "section");
  const std::string details(blocks[0].at("text").at("text").as_string());
  CHECK(details.find("*Requester:* bob") != std::string::npos);
  CHECK(details.find("*Database:* clinic") != std::string::npos);
  CHECK(details.find("*Kind:* export") != std::string::npos);
  CHECK(details.find("*Rule:* exports-held") != std::string::npos);
  CHECK(details.find("<http://gw/api/v1/requests/r-abcdefghij|Open request>") != std::string::npos);
  CHECK(blocks[1].at("text").at("text") == "```COPY (SELECT * FROM patients WHERE name = $1) TO STDOUT```");
  const auto& buttons = blocks[2].at("elements").as_array();
  REQUIRE(buttons.size() == 2);
  CHECK(buttons[0].at("action_id") == "approve");
  CHECK(buttons[0].at("value") == "r-abcdefghij");
  CHECK(buttons[1].at("action_id") == "deny");
  CHECK(buttons[1].at("value") == "r-abcdefghij");
  CHECK(doc.at("text").as_string().size() > 0);
}

TEST_CASE("Slack control characters in a statement are escaped and long statements are cut", "[chat]") {
  auto r = held_export();
  r.normalized = "SELECT $1 <> $2 && x";
  const auto doc = parsed(slack_message(r, ""));
  CHECK(doc.at("blocks").at(1).at("text").at("text") == "```SELECT $1 &lt;&gt; $2 &amp;&amp; x```");
  CHECK(std::string(doc.at("blocks").at(0).at("text").at("text").as_string()).find("Open request") ==
        std::string::npos);
  r.normalized = std::string(10'000, 'x');
  const auto long_doc = parsed(slack_message(r, ""));
  const auto& code = long_doc.at("blocks").at(1).at("text").at("text").as_string();
  CHECK(code.size() <= slack_section_max_chars);
  CHECK(std::string(code).find("(cut)") != std::string::npos);
}

TEST_CASE("a Teams message is one Adaptive Card attachment with the facts and a link", "[chat]") {
  const auto doc = parsed(teams_message(held_export(), "http://gw/x"));
  CHECK(doc.at("type") == "message");
  const auto& attachment = doc.at("attachments").at(0);
  CHECK(attachment.at("contentType") == "application/vnd.microsoft.card.adaptive");
  const auto& card = attachment.at("content");
  CHECK(card.at("type") == "AdaptiveCard");
  const auto& facts = card.at("body").at(1).at("facts").as_array();
  REQUIRE(facts.size() == 5);
  CHECK(facts[0].at("value") == "r-abcdefghij");
  CHECK(facts[1].at("value") == "bob");
  CHECK(card.at("body").at(2).at("text") == "COPY (SELECT * FROM patients WHERE name = $1) TO STDOUT");
  CHECK(card.at("actions").at(0).at("url") == "http://gw/x");
}

TEST_CASE("a webhook event names the request and nothing more", "[chat]") {
  const auto doc = parsed(webhook_event(held_export(), ""));
  CHECK(doc.at("event") == "request.created");
  CHECK(doc.at("link").is_null());
  const auto& req = doc.at("request").as_object();
  CHECK(req.size() == 7);
  CHECK(req.at("id") == "r-abcdefghij");
  CHECK(req.at("state") == "pending");
  CHECK(req.at("requester") == "bob");
  CHECK(req.at("database") == "clinic");
  CHECK(req.at("rule_id") == "exports-held");
  CHECK(req.at("kind") == "export");
}

TEST_CASE("a webhook signature is the HMAC of timestamp, dot and body", "[chat]") {
  // python3: hmac.new(b'whsec', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
  CHECK(webhook_signature("whsec", "1700000000", R"({"a":1})") ==
        "sha256=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");
}

TEST_CASE("Slack's documented example signature verifies", "[chat][slack]") {
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature, slack_doc_body,
                               1531420618 + 10) == slack_verdict::ok);
}

TEST_CASE("a Slack request with a wrong signature, secret or body is refused", "[chat][slack]") {
  constexpr std::int64_t now = 1531420618;
  std::string flipped(slack_doc_signature);
  flipped.back() = flipped.back() == '3' ? '4' : '3';
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, flipped, slack_doc_body, now) ==
        slack_verdict::bad_signature);
  CHECK(verify_slack_signature("another secret", slack_doc_timestamp, slack_doc_signature, slack_doc_body,
                               now) == slack_verdict::bad_signature);
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature,
                               std::string(slack_doc_body) + "&x=1", now) == slack_verdict::bad_signature);
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature.substr(0, 20),
                               slack_doc_body, now) == slack_verdict::bad_signature);
}

TEST_CASE("a Slack request older or newer than five minutes is refused even when correctly signed",
          "[chat][slack]") {
  constexpr std::int64_t sent = 1531420618;
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature, slack_doc_body,
                               sent + 300) == slack_verdict::ok);
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature, slack_doc_body,
                               sent + 301) == slack_verdict::stale);
  CHECK(verify_slack_signature(slack_doc_secret, slack_doc_timestamp, slack_doc_signature, slack_doc_body,
                               sent - 301) == slack_verdict::stale);
}

TEST_CASE("a Slack request without its headers or with a non-numeric timestamp is refused", "[chat][slack]") {
  CHECK(verify_slack_signature("s", "", "v0=00", "b", 0) == slack_verdict::missing);
  CHECK(verify_slack_signature("s", "1", "", "b", 0) == slack_verdict::missing);
  CHECK(verify_slack_signature("s", "12x", "v0=00", "b", 12) == slack_verdict::missing);
}

TEST_CASE("form values are URL-decoded", "[chat][slack]") {
  CHECK(form_value("a=1&payload=%7B%22x%22%3A+1%7D&b=2", "payload") ==
        std::optional<std::string>(R"({"x": 1})"));
  CHECK(form_value("a=1", "payload") == std::nullopt);
  CHECK(form_value("payload=%4", "payload") == std::nullopt);
  CHECK(form_value("payload=%zz", "payload") == std::nullopt);
  CHECK(form_value("payload", "payload") == std::optional<std::string>(""));
}

TEST_CASE("a block_actions click yields the Slack user, the verdict and the request id", "[chat][slack]") {
  const std::string payload =
      R"({"type":"block_actions","user":{"id":"U012ABC","username":"dana"},)"
      R"("actions":[{"action_id":"deny","block_id":"phigate_approval","value":"r-abcdefghij"}]})";
  const auto action = parse_slack_interaction("token=t&payload=" + percent_encoded(payload));
  REQUIRE(action);
  CHECK(action->user_id == "U012ABC");
  CHECK_FALSE(action->approve);
  CHECK(action->request_id == "r-abcdefghij");
  CHECK(action->response_url.empty());
  const std::string with_reply =
      R"({"type":"block_actions","user":{"id":"U1"},"response_url":"https://hooks.slack.com/actions/T1/2/x",)"
      R"("actions":[{"action_id":"approve","value":"r-1"}]})";
  const auto replied = parse_slack_interaction("payload=" + percent_encoded(with_reply));
  REQUIRE(replied);
  CHECK(replied->response_url == "https://hooks.slack.com/actions/T1/2/x");
}

TEST_CASE("a click that settles a request replaces the Slack message; any other is told to the clicker",
          "[chat][slack]") {
  vote_outcome vote;
  vote.result = vote_result::decided;
  vote.message = "approved by alice";
  vote.request = held_export();
  vote.request->state = request_state::approved;
  const auto settled =
      parsed(slack_vote_reply(vote, "alice", true, "http://gw/api/v1/requests/r-abcdefghij"));
  CHECK(settled.at("replace_original") == true);
  const auto& blocks = settled.at("blocks").as_array();
  REQUIRE(blocks.size() == 3);  // the request's two sections and its state: no buttons left
  for (const auto& block : blocks) CHECK(block.at("type") == "section");
  CHECK(blocks[2].at("text").at("text") == "*approved* (alice approved in Slack): approved by alice");
  const auto body = slack_vote_reply(vote, "alice", true, "");
  CHECK(body.find("Jane") == std::string::npos);  // still no literals

  vote.result = vote_result::not_pending;  // decided before this click: the message catches up
  vote.message = "request r-abcdefghij is approved";
  CHECK(parsed(slack_vote_reply(vote, "dana", false, "")).at("blocks").at(2).at("text").at("text") ==
        "*approved*: request r-abcdefghij is approved");

  for (const auto result : {vote_result::recorded, vote_result::self_approval, vote_result::not_eligible,
                            vote_result::already_voted, vote_result::conflict}) {
    vote.result = result;
    vote.message = "a sentence for the clicker";
    const auto told = parsed(slack_vote_reply(vote, "bob", true, ""));
    CHECK(told.at("response_type") == "ephemeral");
    CHECK(told.at("replace_original") == false);
    CHECK(told.at("text") == "a sentence for the clicker");
  }
}

TEST_CASE("interactions other than an approve or deny click are ignored", "[chat][slack]") {
  CHECK_FALSE(parse_slack_interaction("payload=not-json"));
  CHECK_FALSE(parse_slack_interaction("text=hello"));
  CHECK_FALSE(parse_slack_interaction(R"(payload={"type":"view_submission","user":{"id":"U1"}})"));
  CHECK_FALSE(parse_slack_interaction(
      R"(payload={"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"maybe","value":"r-1"}]})"));
  CHECK_FALSE(parse_slack_interaction(R"(payload={"type":"block_actions","user":{"id":"U1"},"actions":[]})"));
  const auto plain =
      parse_slack_interaction(R"(payload={"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":)"
                              R"("approve","value":"r-1"}]})");
  REQUIRE(plain);
  CHECK(plain->approve);
}

// The admin API's routes against a real approvals service (SQLite in memory), without sockets; and one
// long-poll over a real socket to show a change wakes a waiting client.
#include "gateway/admin_routes.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "approvals/chat_messages.hpp"
#include "approvals/sqlite_store.hpp"
#include "gateway/admin_server.hpp"

namespace json = boost::json;
using namespace phigate;

namespace {

constexpr std::int64_t fixed_now_s = 1'800'000'000;
constexpr std::string_view slack_secret = "slack-signing-secret";

/// dana approves for "approvers"; bob files requests and has a token too; carol is in no approver group.
std::shared_ptr<gateway_config> admin_test_config() {
  auto config = std::make_shared<gateway_config>();
  config->users["dana"] = user_config{"dana", {}, {"approvers"}, "r"};
  config->users["bob"] = user_config{"bob", {}, {"clinical", "approvers"}, "r"};
  config->users["carol"] = user_config{"carol", {}, {"billing"}, "r"};
  admin_config admin;
  admin.port = 0;
  for (const auto* name : {"dana", "bob", "carol"})
    admin.tokens.push_back({name, sha256_hex(std::string(name) + "-token"), config->users[name].groups});
  config->admin = std::move(admin);
  slack_notify_config slack;
  slack.signing_secret = std::string(slack_secret);
  slack.users = {{"U0DANA", "dana"}, {"U0BOB", "bob"}};
  config->notify.slack = std::move(slack);
  return config;
}

approvals::request draft() {
  approvals::request r;
  r.requester = "bob";
  r.requester_groups = {"clinical"};
  r.database = "clinic";
  r.rule_id = "exports-held";
  r.kind = "export";
  r.statement = "COPY patients TO STDOUT";
  r.normalized = "COPY patients TO STDOUT";
  r.digest = std::string(64, 'a');
  r.rules.groups = {"approvers"};
  r.rules.timeout = std::chrono::seconds(600);
  return r;
}

struct fixture {
  std::shared_ptr<approvals::service> service =
      std::make_shared<approvals::service>(approvals::open_sqlite_store(":memory:"), "test-instance");
  std::shared_ptr<gateway_config> config = admin_test_config();
  admin_routes routes{service, config, [] { return fixed_now_s; }};

  admin_outcome call(http::verb method, std::string target, std::string_view token = "",
                     std::string body = "") {
    admin_request req{method, target, 11};
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + std::string(token));
    req.body() = std::move(body);
    req.prepare_payload();
    return routes.handle(req);
  }
  admin_response get(std::string target, std::string_view token = "dana-token") {
    return call(http::verb::get, std::move(target), token).response;
  }
  admin_response post(std::string target, std::string body, std::string_view token = "dana-token") {
    return call(http::verb::post, std::move(target), token, std::move(body)).response;
  }
  admin_response slack(std::string body, std::string_view timestamp, std::string signature = "") {
    admin_request req{http::verb::post, "/slack/interactive", 11};
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set("X-Slack-Request-Timestamp", timestamp);
    if (signature.empty())
      signature =
          "v0=" + approvals::hmac_sha256_hex(slack_secret, "v0:" + std::string(timestamp) + ":" + body);
    req.set("X-Slack-Signature", signature);
    req.body() = std::move(body);
    req.prepare_payload();
    return routes.handle(req).response;
  }
};

json::value body_of(const admin_response& res) {
  boost::system::error_code ec;
  auto v = json::parse(res.body(), ec);
  REQUIRE_FALSE(ec);
  return v;
}

std::string text(const json::value& v) {
  return std::string(v.as_string());
}

std::string slack_click(std::string_view user, std::string_view action, std::string_view id) {
  const std::string payload = R"({"type":"block_actions","user":{"id":")" + std::string(user) +
                              R"("},"actions":[{"action_id":")" + std::string(action) + R"(","value":")" +
                              std::string(id) + R"("}]})";
  std::string out = "payload=";
  for (const char c : payload) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      out += c;
    } else {
      static constexpr char digits[] = "0123456789ABCDEF";
      out += '%';
      out += digits[static_cast<unsigned char>(c) >> 4];
      out += digits[static_cast<unsigned char>(c) & 0x0f];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("health needs no token and everything under /api/v1 does", "[admin]") {
  fixture f;
  const auto health = f.get("/healthz", "");
  CHECK(health.result() == http::status::ok);
  CHECK(body_of(health) == json::parse(R"({"status":"ok"})"));
  for (const auto* token : {"", "wrong-token", "dana-tokenx", "Dana-token"}) {
    const auto res = f.get("/api/v1/requests", token);
    CHECK(res.result() == http::status::unauthorized);
    CHECK(res[http::field::www_authenticate] == "Bearer realm=\"phigate\"");
    CHECK(body_of(res).at("error") == "missing or invalid bearer token");
  }
  admin_request basic{http::verb::get, "/api/v1/whoami", 11};
  basic.set(http::field::authorization, "Basic ZGFuYTp4");
  CHECK(f.routes.handle(basic).response.result() == http::status::unauthorized);
}

TEST_CASE("whoami names the token's identity and groups", "[admin]") {
  fixture f;
  const auto res = f.get("/api/v1/whoami", "bob-token");
  CHECK(res.result() == http::status::ok);
  CHECK(body_of(res) == json::parse(R"({"identity":"bob","groups":["clinical","approvers"]})"));
  CHECK(res[http::field::content_type] == "application/json");
}

TEST_CASE("requests are listed newest first, filtered by state, and fetched by id", "[admin]") {
  fixture f;
  const auto first = f.service->create(draft());
  const auto second = f.service->create(draft());
  const auto all = body_of(f.get("/api/v1/requests")).at("requests").as_array();
  REQUIRE(all.size() == 2);
  CHECK(text(all[0].at("id")) == second.id);
  CHECK(text(all[1].at("id")) == first.id);
  CHECK(body_of(f.get("/api/v1/requests?limit=1")).at("requests").as_array().size() == 1);
  CHECK(body_of(f.get("/api/v1/requests?state=approved")).at("requests").as_array().empty());
  CHECK(body_of(f.get("/api/v1/requests?state=pending")).at("requests").as_array().size() == 2);
  const auto one = f.get("/api/v1/requests/" + first.id);
  CHECK(one.result() == http::status::ok);
  CHECK(body_of(one) == approvals::to_json(*f.service->get(first.id)));
}

TEST_CASE("bad parameters, unknown ids and unknown endpoints are JSON errors", "[admin]") {
  fixture f;
  CHECK(f.get("/api/v1/requests?state=happy").result() == http::status::bad_request);
  CHECK(f.get("/api/v1/requests?limit=0").result() == http::status::bad_request);
  CHECK(f.get("/api/v1/requests?limit=ten").result() == http::status::bad_request);
  CHECK(f.get("/api/v1/changes?since=-1").result() == http::status::bad_request);
  const auto missing = f.get("/api/v1/requests/r-nosuchthing");
  CHECK(missing.result() == http::status::not_found);
  CHECK(body_of(missing).at("error").as_string().size() > 0);
  CHECK(f.post("/api/v1/requests/r-nosuchthing/approve", "").result() == http::status::not_found);
  CHECK(f.get("/api/v1/nothing").result() == http::status::not_found);
  CHECK(f.get("/elsewhere", "").result() == http::status::not_found);
  CHECK(f.post("/healthz", "", "").result() == http::status::method_not_allowed);
}

TEST_CASE("an eligible approver approves and the request is decided", "[admin]") {
  fixture f;
  const auto r = f.service->create(draft());
  const auto res = f.post("/api/v1/requests/" + r.id + "/approve", R"({"reason":"checked"})");
  CHECK(res.result() == http::status::ok);
  const auto doc = body_of(res);
  CHECK(doc.at("state") == "approved");
  CHECK(doc.at("votes").at(0).at("approver") == "dana");
  CHECK(doc.at("votes").at(0).at("reason") == "checked");
  const auto again = f.post("/api/v1/requests/" + r.id + "/deny", R"({"reason":"changed my mind"})");
  CHECK(again.result() == http::status::conflict);
}

TEST_CASE("nobody approves their own request and outsiders are not eligible", "[admin]") {
  fixture f;
  const auto r = f.service->create(draft());
  CHECK(f.post("/api/v1/requests/" + r.id + "/approve", "", "bob-token").result() == http::status::forbidden);
  CHECK(f.post("/api/v1/requests/" + r.id + "/approve", "{}", "carol-token").result() ==
        http::status::forbidden);
  CHECK(f.service->get(r.id)->state == approvals::request_state::pending);
}

TEST_CASE("a deny needs a reason and a vote body must be a JSON object", "[admin]") {
  fixture f;
  const auto r = f.service->create(draft());
  CHECK(f.post("/api/v1/requests/" + r.id + "/deny", "").result() == http::status::bad_request);
  CHECK(f.post("/api/v1/requests/" + r.id + "/deny", R"({"reason":""})").result() ==
        http::status::bad_request);
  CHECK(f.post("/api/v1/requests/" + r.id + "/approve", "not json").result() == http::status::bad_request);
  CHECK(f.post("/api/v1/requests/" + r.id + "/approve", R"({"reason":5})").result() ==
        http::status::bad_request);
  const auto denied = f.post("/api/v1/requests/" + r.id + "/deny", R"({"reason":"not today"})");
  CHECK(denied.result() == http::status::ok);
  CHECK(body_of(denied).at("state") == "denied");
}

TEST_CASE("a changes poll answers at once when something changed and asks to wait otherwise", "[admin]") {
  fixture f;
  const auto r = f.service->create(draft());
  const auto now = f.call(http::verb::get, "/api/v1/changes?since=0&timeout=30", "dana-token");
  CHECK_FALSE(now.wait);
  const auto doc = body_of(now.response);
  CHECK(doc.at("seq").to_number<std::uint64_t>() == r.seq);
  CHECK(text(doc.at("requests").at(0).at("id")) == r.id);

  const auto later = f.call(http::verb::get,
                            "/api/v1/changes?since=" + std::to_string(r.seq) + "&timeout=600", "dana-token");
  REQUIRE(later.wait);
  CHECK(later.wait->since == r.seq);
  CHECK(later.wait->timeout == admin_max_poll_timeout);
  const auto no_wait =
      f.call(http::verb::get, "/api/v1/changes?since=" + std::to_string(r.seq) + "&timeout=0", "dana-token");
  CHECK_FALSE(no_wait.wait);
  CHECK(body_of(no_wait.response).at("requests").as_array().empty());
}

TEST_CASE("a signed Slack click votes as the mapped phigate user", "[admin][slack]") {
  fixture f;
  const auto r = f.service->create(draft());
  const auto res = f.slack(slack_click("U0DANA", "approve", r.id), std::to_string(fixed_now_s - 10));
  CHECK(res.result() == http::status::ok);
  CHECK(res[http::field::content_type] == "text/plain; charset=utf-8");
  const auto stored = f.service->get(r.id);
  CHECK(stored->state == approvals::request_state::approved);
  CHECK(stored->votes.at(0).approver == "dana");
}

TEST_CASE("Slack clicks obey the same rules: no self-approval", "[admin][slack]") {
  fixture f;
  const auto r = f.service->create(draft());
  CHECK(f.slack(slack_click("U0BOB", "approve", r.id), std::to_string(fixed_now_s)).result() ==
        http::status::ok);
  CHECK(f.service->get(r.id)->state == approvals::request_state::pending);
  CHECK(f.slack(slack_click("U0DANA", "deny", r.id), std::to_string(fixed_now_s)).result() ==
        http::status::ok);
  CHECK(f.service->get(r.id)->state == approvals::request_state::denied);
}

TEST_CASE("unsigned, wrongly signed, stale and unmapped Slack clicks change nothing", "[admin][slack]") {
  fixture f;
  const auto r = f.service->create(draft());
  const auto click = slack_click("U0DANA", "approve", r.id);
  const auto now = std::to_string(fixed_now_s);
  CHECK(f.slack(click, now, "v0=" + std::string(64, '0')).result() == http::status::unauthorized);
  CHECK(f.slack(click, std::to_string(fixed_now_s - 301)).result() == http::status::unauthorized);
  CHECK(f.slack(click, "").result() == http::status::unauthorized);
  CHECK(f.slack(slack_click("U0STRANGER", "approve", r.id), now).result() == http::status::forbidden);
  CHECK(f.slack("payload=%7B%7D", now).result() == http::status::bad_request);
  CHECK(f.service->get(r.id)->votes.empty());
}

TEST_CASE("a waiting changes poll over a socket is woken by a new request", "[admin][socket]") {
  namespace asio = boost::asio;
  auto service =
      std::make_shared<approvals::service>(approvals::open_sqlite_store(":memory:"), "test-instance");
  asio::io_context io(1);
  admin_server server(io, service, admin_test_config());
  server.start();
  std::thread runner([&io] { io.run(); });

  auto answer = std::async(std::launch::async, [port = server.port()] {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    admin_request req{http::verb::get, "/api/v1/changes?since=0&timeout=20", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer dana-token");
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    admin_response res;
    http::read(socket, buffer, res);
    return res;
  });
  // The poll is parked before the change: nothing is there to answer it with yet.
  CHECK(answer.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  const auto started = std::chrono::steady_clock::now();
  const auto r = service->create(draft());
  REQUIRE(answer.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  const auto res = answer.get();
  CHECK(res.result() == http::status::ok);
  CHECK(text(body_of(res).at("requests").at(0).at("id")) == r.id);

  server.stop();
  io.stop();
  runner.join();
}

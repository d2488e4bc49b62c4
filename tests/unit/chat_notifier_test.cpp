// The chat notifier over real sockets: a new request reaches a local HTTP receiver with a valid webhook
// signature, and a receiver that fails first is retried.
#include "gateway/chat_notifier.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "approvals/chat_messages.hpp"
#include "approvals/sqlite_store.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace phigate;

namespace {

using received = http::request<http::string_body>;

/// Accepts `answers.size()` connections in turn, reads one request from each and answers with the status.
std::vector<received> serve(asio::ip::tcp::acceptor& acceptor, std::vector<http::status> answers) {
  std::vector<received> out;
  for (const auto status : answers) {
    auto socket = acceptor.accept();
    boost::beast::flat_buffer buffer;
    received req;
    http::read(socket, buffer, req);
    out.push_back(req);
    http::response<http::string_body> res{status, 11};
    res.body() = "ok";
    res.prepare_payload();
    http::write(socket, res);
  }
  return out;
}

approvals::request draft() {
  approvals::request r;
  r.requester = "bob";
  r.database = "clinic";
  r.rule_id = "exports-held";
  r.kind = "export";
  r.statement = "COPY (SELECT * FROM patients WHERE id = 7) TO STDOUT";
  r.normalized = "COPY (SELECT * FROM patients WHERE id = $1) TO STDOUT";
  r.digest = std::string(64, 'a');
  r.rules.groups = {"approvers"};
  return r;
}

}  // namespace

TEST_CASE("a new request reaches the webhook signed, after a failed first attempt", "[chat][socket]") {
  asio::io_context receiver_io;
  asio::ip::tcp::acceptor acceptor(receiver_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  auto posts = std::async(std::launch::async, [&] {
    return serve(acceptor, {http::status::service_unavailable, http::status::ok});
  });

  auto config = std::make_shared<gateway_config>();
  config->notify.webhook = webhook_notify_config{
      *parse_http_url("http://127.0.0.1:" + std::to_string(port) + "/hook"), "hook-secret"};
  auto service =
      std::make_shared<approvals::service>(approvals::open_sqlite_store(":memory:"), "test-instance");
  asio::io_context io(1);
  chat_notifier notifier(io, service, config);
  notifier.start();
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });

  const auto r = service->create(draft());
  REQUIRE(posts.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const auto got = posts.get();
  work.reset();
  io.stop();
  runner.join();

  REQUIRE(got.size() == 2);
  CHECK(got[0].body() == got[1].body());
  const auto& req = got[1];
  CHECK(req.method() == http::verb::post);
  CHECK(req.target() == "/hook");
  CHECK(req[http::field::content_type] == "application/json");
  const std::string timestamp(req["X-Phigate-Timestamp"]);
  CHECK(std::string(req["X-Phigate-Signature"]) ==
        approvals::webhook_signature("hook-secret", timestamp, req.body()));
  const auto event = boost::json::parse(req.body());
  CHECK(event.at("request").at("id").as_string() == r.id);
  CHECK(req.body().find("id = 7") == std::string::npos);
}

TEST_CASE("only new pending requests are announced", "[chat][socket]") {
  asio::io_context receiver_io;
  asio::ip::tcp::acceptor acceptor(receiver_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  auto posts = std::async(std::launch::async, [&] { return serve(acceptor, {http::status::ok}); });

  auto config = std::make_shared<gateway_config>();
  config->notify.teams =
      teams_notify_config{*parse_http_url("http://127.0.0.1:" + std::to_string(port) + "/t")};
  auto service =
      std::make_shared<approvals::service>(approvals::open_sqlite_store(":memory:"), "test-instance");
  asio::io_context io(1);
  chat_notifier notifier(io, service, config);
  notifier.start();
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });

  const auto r = service->create(draft());
  REQUIRE(posts.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(posts.get().at(0).body().find(r.id) != std::string::npos);
  // A vote and the decision change the request again; neither is a new request to announce.
  service->vote(r.id, {"dana", {"approvers"}}, true, "ok");
  service->abandon(r.id, "client went away");
  acceptor.non_blocking(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  boost::system::error_code ec;
  acceptor.accept(ec);
  CHECK(ec == asio::error::would_block);

  work.reset();
  io.stop();
  runner.join();
}

#include "gateway/admin_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

using namespace phigate;
using boost::asio::ip::tcp;

namespace {

admin_endpoint endpoint_of(std::string_view url) {
  auto parsed = parse_admin_url(url);
  REQUIRE(std::holds_alternative<admin_endpoint>(parsed));
  return std::get<admin_endpoint>(parsed);
}

std::string error_of(std::string_view url) {
  auto parsed = parse_admin_url(url);
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

// A port on 127.0.0.1 that nothing listens on: bound by the kernel, then released.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace

TEST_CASE("admin URLs give scheme, host, port and path prefix") {
  auto plain = endpoint_of("http://127.0.0.1:6480");
  CHECK_FALSE(plain.tls);
  CHECK(plain.host == "127.0.0.1");
  CHECK(plain.port == "6480");
  CHECK(plain.path_prefix.empty());
  CHECK(plain.display == "http://127.0.0.1:6480");

  auto tls = endpoint_of("https://gw.example.org/phigate/");
  CHECK(tls.tls);
  CHECK(tls.host == "gw.example.org");
  CHECK(tls.port == "443");
  CHECK(tls.path_prefix == "/phigate");
  CHECK(tls.display == "https://gw.example.org/phigate");

  auto v6 = endpoint_of("http://[::1]:8080/");
  CHECK(v6.host == "::1");
  CHECK(v6.port == "8080");
}

TEST_CASE("admin URLs that cannot work are refused with the reason") {
  CHECK(error_of("127.0.0.1:6480").find("expected http://HOST:PORT") != std::string::npos);
  CHECK(error_of("localhost:6480").find("unsupported scheme") != std::string::npos);
  CHECK(error_of("ftp://host").find("use http:// or https://") != std::string::npos);
  CHECK(error_of("not a url").find("not a URL") != std::string::npos);
  CHECK(error_of("http://dana:secret@host").find("user info") != std::string::npos);
  CHECK(error_of("http://host/?x=1").find("query") != std::string::npos);
  CHECK(error_of("http://host:0").find("bad port") != std::string::npos);
}

TEST_CASE("a call to a port nobody listens on says the API cannot be reached") {
  const auto port = closed_port();
  admin_client client(endpoint_of("http://127.0.0.1:" + std::to_string(port)), {});
  auto result = client.whoami();
  CHECK_FALSE(result.ok());
  CHECK(result.failure.kind == admin_failure_kind::unreachable);
  CHECK(result.failure.status == 0);
  CHECK(result.failure.message ==
        "cannot reach http://127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("a server that accepts but never answers ends the call at the timeout") {
  boost::asio::io_context ioc;
  // Listening without accepting: the kernel completes the handshake, nobody ever writes back.
  tcp::acceptor silent(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  admin_client_options options;
  options.timeout = std::chrono::milliseconds(300);
  admin_client client(endpoint_of("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port())),
                      options);
  const auto started = std::chrono::steady_clock::now();
  auto result = client.list(approvals::request_state::pending);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(result.failure.kind == admin_failure_kind::unreachable);
  CHECK(result.failure.message.find(": no answer within 0.3 s") != std::string::npos);
  CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("a stop request ends a call in progress promptly") {
  boost::asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::stop_source stop;
  admin_client_options options;
  options.timeout = std::chrono::seconds(30);
  options.stop = stop.get_token();
  admin_client client(endpoint_of("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port())),
                      options);
  stop.request_stop();
  const auto started = std::chrono::steady_clock::now();
  auto result = client.changes(0, 20);
  CHECK(result.failure.kind == admin_failure_kind::unreachable);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

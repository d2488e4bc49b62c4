// Replay targets: libpq keyword strings and URIs, with or without a NAME= prefix, and the mistakes refused.
#include <catch2/catch.hpp>

#include "gateway/replay_client.hpp"

using phigate::replay::parse_target;
using phigate::replay::target;

namespace {

target parsed(std::string_view text) {
  auto t = parse_target(text);
  INFO(text);
  REQUIRE(std::holds_alternative<target>(t));
  return std::get<target>(t);
}

std::string problem(std::string_view text) {
  auto t = parse_target(text);
  REQUIRE(std::holds_alternative<std::string>(t));
  return std::get<std::string>(t);
}

}  // namespace

TEST_CASE("an unnamed keyword conninfo is read as libpq reads it", "[replay]") {
  const auto t = parsed("host=db.example port=6432 user=alice password=secret dbname=clinic sslmode=require");
  CHECK(t.name == "target");
  CHECK(t.host == "db.example");
  CHECK(t.port == 6432);
  CHECK(t.user == "alice");
  CHECK(t.database == "clinic");
  CHECK(t.tls == target::tls_mode::require);
}

TEST_CASE("a NAME= prefix names the target for the comparison tables", "[replay]") {
  const auto t = parsed("direct=host=127.0.0.1 port=5432 user=clinic_owner");
  CHECK(t.name == "direct");
  CHECK(t.host == "127.0.0.1");
  CHECK(t.user == "clinic_owner");
  CHECK(parsed("phigate-policy=user=bench").name == "phigate-policy");
}

TEST_CASE("quoted values keep spaces and escaped quotes", "[replay]") {
  const auto t = parsed("user=u password='a b\\'c' application_name='my app'");
  CHECK(t.password == "a b'c");
  CHECK(t.application_name == "my app");
}

TEST_CASE("postgresql URIs give user, password, host, port, database and parameters", "[replay]") {
  const auto t =
      parsed("pb=postgresql://bob:p%40ss@localhost:6543/clinic?sslmode=disable&application_name=x");
  CHECK(t.name == "pb");
  CHECK(t.user == "bob");
  CHECK(t.password == "p@ss");
  CHECK(t.host == "localhost");
  CHECK(t.port == 6543);
  CHECK(t.database == "clinic");
  CHECK(t.tls == target::tls_mode::disable);
  CHECK(t.application_name == "x");
}

TEST_CASE("unknown keywords, bad ports and unsupported sslmodes are refused", "[replay]") {
  CHECK(problem("user=u colour=blue") == "unknown connection keyword 'colour'");
  CHECK(problem("user=u port=70000") == "invalid port '70000'");
  CHECK(problem("user=u sslmode=verify-full").find("unsupported sslmode") != std::string::npos);
  CHECK(problem("user=u password='open").find("unterminated") != std::string::npos);
}

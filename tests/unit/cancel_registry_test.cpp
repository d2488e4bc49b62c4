#include "gateway/cancel_registry.hpp"

#include <catch2/catch.hpp>
#include <set>

using phigate::cancel_registry;
using phigate::upstream_backend_key;

TEST_CASE("an issued cancel key finds the upstream backend it was issued for", "[gateway][cancel]") {
  cancel_registry registry;
  auto [pid, secret] = registry.issue({"db.internal", 5432, 4242, 777});
  auto found = registry.find(pid, secret);
  REQUIRE(found);
  CHECK(found->host == "db.internal");
  CHECK(found->port == 5432);
  CHECK(found->process_id == 4242);
  CHECK(found->secret_key == 777);
}

TEST_CASE("a cancel key with the wrong secret or an unknown process id finds nothing", "[gateway][cancel]") {
  cancel_registry registry;
  auto [pid, secret] = registry.issue({"h", 1, 10, 20});
  CHECK_FALSE(registry.find(pid, secret ^ 1));
  CHECK_FALSE(registry.find(pid + 1, secret));
}

TEST_CASE("a released cancel key no longer cancels anything", "[gateway][cancel]") {
  cancel_registry registry;
  auto [pid, secret] = registry.issue({"h", 1, 10, 20});
  registry.release(pid);
  CHECK_FALSE(registry.find(pid, secret));
}

TEST_CASE("issued process ids are unique and secrets are not a counter", "[gateway][cancel]") {
  cancel_registry registry;
  std::set<std::int32_t> pids, secrets;
  for (int i = 0; i < 200; ++i) {
    auto [pid, secret] = registry.issue({"h", 1, i, i});
    pids.insert(pid);
    secrets.insert(secret);
  }
  CHECK(pids.size() == 200);
  CHECK(secrets.size() > 190);  // 32 random bits: collisions among 200 are vanishingly rare
}

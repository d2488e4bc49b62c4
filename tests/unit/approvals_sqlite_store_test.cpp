#include "approvals/sqlite_store.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "approvals_test_support.hpp"

using namespace phigate::approvals;

namespace {

request stored_request(std::string id, std::int64_t created_ms) {
  auto r = testing::sample_draft();
  r.id = std::move(id);
  r.gateway_instance = "gw-test";
  r.created_ms = created_ms;
  r.expires_ms = created_ms + 60000;
  return r;
}

std::vector<std::string> ids(const std::vector<request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_CASE("an inserted request reads back whole, with a fresh sequence number", "[approvals][sqlite_store]") {
  auto s = open_sqlite_store(":memory:");
  CHECK(s->last_seq() == 0);
  auto r = stored_request("r-aaaaaaaaaa", 1000);
  r.votes = {{"dana", true, "ok", 1500}};
  s->insert(r);
  CHECK(r.seq == 1);
  CHECK(s->last_seq() == 1);
  const auto back = s->get("r-aaaaaaaaaa");
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(back->gateway_instance == "gw-test");
  CHECK(back->session_id == 42);
  CHECK_FALSE(s->get("r-unknown000"));
}

TEST_CASE("inserting an existing id fails with store_error", "[approvals][sqlite_store]") {
  auto s = open_sqlite_store(":memory:");
  auto r = stored_request("r-aaaaaaaaaa", 1000);
  s->insert(r);
  auto again = stored_request("r-aaaaaaaaaa", 2000);
  CHECK_THROWS_AS(s->insert(again), store_error);
  CHECK(s->get("r-aaaaaaaaaa")->created_ms == 1000);
  CHECK(s->last_seq() == 1);
}

TEST_CASE("update is a compare-and-set on seq", "[approvals][sqlite_store]") {
  auto s = open_sqlite_store(":memory:");
  auto r = stored_request("r-aaaaaaaaaa", 1000);
  s->insert(r);
  const auto first_seq = r.seq;

  auto approved = r;
  approved.state = request_state::approved;
  REQUIRE(s->update(approved, first_seq));
  CHECK(approved.seq == first_seq + 1);

  auto stale = r;
  stale.state = request_state::denied;
  CHECK_FALSE(s->update(stale, first_seq));
  CHECK(stale.seq == first_seq);
  CHECK(s->get(r.id)->state == request_state::approved);

  auto missing = stored_request("r-bbbbbbbbbb", 1000);
  CHECK_FALSE(s->update(missing, 0));
}

TEST_CASE("list is newest first, filtered by state and limited", "[approvals][sqlite_store]") {
  auto s = open_sqlite_store(":memory:");
  const std::vector<std::pair<std::string, std::int64_t>> created = {
      {"r-old0000000", 1000}, {"r-mid0000000", 2000}, {"r-new0000000", 3000}};
  for (const auto& [id, created_ms] : created) {
    auto r = stored_request(id, created_ms);
    s->insert(r);
  }
  auto mid = *s->get("r-mid0000000");
  mid.state = request_state::denied;
  REQUIRE(s->update(mid, mid.seq));

  CHECK(ids(s->list(std::nullopt, 10)) ==
        std::vector<std::string>{"r-new0000000", "r-mid0000000", "r-old0000000"});
  CHECK(ids(s->list(request_state::pending, 10)) == std::vector<std::string>{"r-new0000000", "r-old0000000"});
  CHECK(ids(s->list(request_state::denied, 10)) == std::vector<std::string>{"r-mid0000000"});
  CHECK(ids(s->list(std::nullopt, 1)) == std::vector<std::string>{"r-new0000000"});
  CHECK(s->list(request_state::consumed, 10).empty());
}

TEST_CASE("changes_since returns each changed request once, in ascending seq order",
          "[approvals][sqlite_store]") {
  auto s = open_sqlite_store(":memory:");
  auto a = stored_request("r-aaaaaaaaaa", 1000);
  auto b = stored_request("r-bbbbbbbbbb", 2000);
  auto c = stored_request("r-cccccccccc", 3000);
  s->insert(a);
  s->insert(b);
  s->insert(c);
  a.state = request_state::approved;
  REQUIRE(s->update(a, a.seq));  // a is now the latest change

  CHECK(ids(s->changes_since(0, 10)) ==
        std::vector<std::string>{"r-bbbbbbbbbb", "r-cccccccccc", "r-aaaaaaaaaa"});
  const auto changes = s->changes_since(0, 10);
  CHECK(changes.back().seq == s->last_seq());
  CHECK(changes.back().state == request_state::approved);
  CHECK(ids(s->changes_since(b.seq, 10)) == std::vector<std::string>{"r-cccccccccc", "r-aaaaaaaaaa"});
  CHECK(ids(s->changes_since(0, 1)) == std::vector<std::string>{"r-bbbbbbbbbb"});
  CHECK(s->changes_since(s->last_seq(), 10).empty());
}

TEST_CASE("a store file survives being closed and reopened", "[approvals][sqlite_store]") {
  testing::temp_db_path path;
  auto r = stored_request("r-aaaaaaaaaa", 1000);
  {
    auto s = open_sqlite_store(path.str());
    s->insert(r);
    r.state = request_state::approved;
    REQUIRE(s->update(r, r.seq));
    // WAL mode: writes go to the -wal file next to the database while it is open.
    CHECK(std::filesystem::exists(path.str() + "-wal"));
  }
  auto reopened = open_sqlite_store(path.str());
  CHECK(reopened->get(r.id) == r);
  CHECK(reopened->last_seq() == 2);
  auto next = stored_request("r-bbbbbbbbbb", 2000);
  reopened->insert(next);
  CHECK(next.seq == 3);
}

TEST_CASE("two stores on one file share one sequence and see each other's writes",
          "[approvals][sqlite_store]") {
  testing::temp_db_path path;
  auto first = open_sqlite_store(path.str());
  auto second = open_sqlite_store(path.str());
  auto a = stored_request("r-aaaaaaaaaa", 1000);
  auto b = stored_request("r-bbbbbbbbbb", 2000);
  first->insert(a);
  second->insert(b);
  CHECK(a.seq == 1);
  CHECK(b.seq == 2);
  REQUIRE(second->get(a.id));
  auto via_second = *second->get(a.id);
  via_second.state = request_state::abandoned;
  REQUIRE(second->update(via_second, a.seq));
  a.state = request_state::approved;
  CHECK_FALSE(first->update(a, a.seq));  // the compare-and-set holds across connections
  CHECK(first->get(a.id)->state == request_state::abandoned);
}

TEST_CASE("a store that cannot be opened says where and why", "[approvals][sqlite_store]") {
  const std::string path = "/nonexistent-phigate-dir/approvals.db";
  try {
    open_sqlite_store(path);
    FAIL("opening succeeded");
  } catch (const store_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(path));
  }
}

TEST_CASE("a store refuses a file with another schema version", "[approvals][sqlite_store]") {
  testing::temp_db_path path;
  open_sqlite_store(path.str());
  {
    // Simulate a newer phigate having migrated the file.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.str().c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE approvals_schema SET version = 99", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_THROWS_WITH(open_sqlite_store(path.str()), Catch::Contains("schema version 99"));
}

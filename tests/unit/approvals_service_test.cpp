#include "approvals/service.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "approvals_test_support.hpp"

using namespace phigate::approvals;

namespace {

constexpr std::int64_t start_ms = 1796410800000;

// A service over an in-memory store with a clock the test moves by hand.
struct fixture {
  std::int64_t now = start_ms;
  service svc{open_sqlite_store(":memory:"), "gw-a", [this] { return now; }};
};

const approver dana{"dana", {"approvers"}};
const approver erin{"erin", {"approvers", "security"}};
const approver frank{"frank", {"approvers"}};

request with_quorum(unsigned quorum) {
  auto r = testing::sample_draft();
  r.rules.quorum = quorum;
  return r;
}

}  // namespace

TEST_CASE("create stores a pending request with a random id and its deadline", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  CHECK(r.id.size() == 12);
  CHECK(r.id.rfind("r-", 0) == 0);
  CHECK(r.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 2) == std::string::npos);
  CHECK(r.state == request_state::pending);
  CHECK(r.seq > 0);
  CHECK(r.gateway_instance == "gw-a");
  CHECK(r.created_ms == start_ms);
  CHECK(r.expires_ms == start_ms + 60000);
  CHECK(r.decided_ms == 0);
  CHECK(f.svc.get(r.id) == r);

  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(f.svc.create(testing::sample_draft()).id);
  CHECK(ids.size() == 100);
}

TEST_CASE("a requester can never vote on their own request, even as a member of the approver group",
          "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  const approver bob_as_approver{"bob", {"approvers", "admins"}};
  CHECK(f.svc.vote(r.id, bob_as_approver, true, "mine").result == vote_result::self_approval);
  CHECK(f.svc.vote(r.id, bob_as_approver, false, "mine").result == vote_result::self_approval);
  CHECK(f.svc.get(r.id)->state == request_state::pending);
  CHECK(f.svc.get(r.id)->votes.empty());
}

TEST_CASE("an approver outside the rule's groups is not eligible", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  const auto outcome = f.svc.vote(r.id, approver{"mallory", {"clinical"}}, true, "");
  CHECK(outcome.result == vote_result::not_eligible);
  REQUIRE(outcome.request);
  CHECK(outcome.request->state == request_state::pending);
  // An eligible deny is decisive; an ineligible one changes nothing.
  CHECK(f.svc.vote(r.id, approver{"mallory", {}}, false, "no").result == vote_result::not_eligible);
  CHECK(f.svc.vote(r.id, approver{"", {"approvers"}}, true, "").result == vote_result::not_eligible);
  CHECK(f.svc.get(r.id)->state == request_state::pending);
}

TEST_CASE("a rule without groups lets any identity other than the requester approve",
          "[approvals][service]") {
  fixture f;
  auto draft = testing::sample_draft();
  draft.rules.groups.clear();
  const auto r = f.svc.create(draft);
  CHECK(f.svc.vote(r.id, approver{"bob", {}}, true, "").result == vote_result::self_approval);
  CHECK(f.svc.vote(r.id, approver{"zoe", {}}, true, "").result == vote_result::decided);
  CHECK(f.svc.get(r.id)->state == request_state::approved);
}

TEST_CASE("an identity votes once", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(with_quorum(2));
  CHECK(f.svc.vote(r.id, dana, true, "ok").result == vote_result::recorded);
  CHECK(f.svc.vote(r.id, dana, true, "ok again").result == vote_result::already_voted);
  CHECK(f.svc.vote(r.id, approver{"dana", {"approvers", "security"}}, false, "changed my mind").result ==
        vote_result::already_voted);
  const auto stored = *f.svc.get(r.id);
  CHECK(stored.state == request_state::pending);
  CHECK(stored.votes.size() == 1);
}

TEST_CASE("a quorum of two needs two distinct approvers", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(with_quorum(2));
  f.now += 1000;
  const auto first = f.svc.vote(r.id, dana, true, "ok");
  CHECK(first.result == vote_result::recorded);
  CHECK(first.request->state == request_state::pending);
  CHECK(first.request->decided_ms == 0);
  f.now += 1000;
  const auto second = f.svc.vote(r.id, erin, true, "fine");
  CHECK(second.result == vote_result::decided);
  REQUIRE(second.request);
  CHECK(second.request->state == request_state::approved);
  CHECK(second.request->decided_ms == start_ms + 2000);
  REQUIRE(second.request->votes.size() == 2);
  CHECK(second.request->votes[0] == vote{"dana", true, "ok", start_ms + 1000});
  CHECK(second.request->votes[1] == vote{"erin", true, "fine", start_ms + 2000});
  CHECK(f.svc.get(r.id) == second.request);
}

TEST_CASE("one eligible deny denies, whatever approvals came before", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(with_quorum(2));
  CHECK(f.svc.vote(r.id, dana, true, "ok").result == vote_result::recorded);
  const auto outcome = f.svc.vote(r.id, erin, false, "too broad");
  CHECK(outcome.result == vote_result::decided);
  CHECK(outcome.request->state == request_state::denied);
  CHECK(outcome.request->decided_reason == "too broad");
  CHECK(f.svc.vote(r.id, frank, true, "late").result == vote_result::not_pending);
  CHECK(f.svc.get(r.id)->state == request_state::denied);
}

TEST_CASE("a vote after the decision is refused as not pending", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  CHECK(f.svc.vote(r.id, dana, true, "ok").result == vote_result::decided);
  const auto late = f.svc.vote(r.id, erin, false, "no");
  CHECK(late.result == vote_result::not_pending);
  CHECK(late.request->state == request_state::approved);
  CHECK(f.svc.vote("r-doesnotexi", dana, true, "").result == vote_result::not_found);
}

TEST_CASE("a vote on a request past its deadline expires it instead of counting", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  f.now = r.expires_ms;
  const auto outcome = f.svc.vote(r.id, dana, true, "ok");
  CHECK(outcome.result == vote_result::not_pending);
  const auto stored = *f.svc.get(r.id);
  CHECK(stored.state == request_state::expired);
  CHECK(stored.decided_reason == "expired");
  CHECK(stored.decided_ms == r.expires_ms);
  CHECK(stored.votes.empty());
}

TEST_CASE("an approval is consumed once, by its own digest, before its deadline", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  CHECK_FALSE(f.svc.consume(r.id, r.digest));  // still pending
  REQUIRE(f.svc.vote(r.id, dana, true, "ok").result == vote_result::decided);

  CHECK_FALSE(f.svc.consume(r.id, std::string(64, 'b')));
  CHECK_FALSE(f.svc.consume(r.id, ""));
  CHECK(f.svc.get(r.id)->state == request_state::approved);

  CHECK(f.svc.consume(r.id, r.digest));
  const auto consumed = *f.svc.get(r.id);
  CHECK(consumed.state == request_state::consumed);
  CHECK(consumed.decided_ms == start_ms);  // the time of the approval is kept
  CHECK_FALSE(f.svc.consume(r.id, r.digest));
  CHECK_FALSE(f.svc.consume("r-doesnotexi", r.digest));
}

TEST_CASE("an approval not used before the deadline cannot be consumed", "[approvals][service]") {
  fixture f;
  const auto r = f.svc.create(testing::sample_draft());
  REQUIRE(f.svc.vote(r.id, dana, true, "ok").result == vote_result::decided);
  f.now = r.expires_ms - 1;
  SECTION("one millisecond before, it still works") {
    CHECK(f.svc.consume(r.id, r.digest));
  }
  SECTION("at the deadline, it is expired") {
    f.now = r.expires_ms;
    CHECK_FALSE(f.svc.consume(r.id, r.digest));
    CHECK(f.svc.get(r.id)->state == request_state::expired);
  }
}

TEST_CASE("abandon ends pending and approved requests and nothing else", "[approvals][service]") {
  fixture f;
  const auto pending = f.svc.create(testing::sample_draft());
  const auto approved = f.svc.create(testing::sample_draft());
  const auto denied = f.svc.create(testing::sample_draft());
  REQUIRE(f.svc.vote(approved.id, dana, true, "").result == vote_result::decided);
  REQUIRE(f.svc.vote(denied.id, dana, false, "no").result == vote_result::decided);
  f.now += 500;

  f.svc.abandon(pending.id, "client cancelled");
  f.svc.abandon(approved.id, "session closed");
  f.svc.abandon(denied.id, "session closed");
  f.svc.abandon("r-doesnotexi", "session closed");

  const auto p = *f.svc.get(pending.id);
  CHECK(p.state == request_state::abandoned);
  CHECK(p.decided_reason == "client cancelled");
  CHECK(p.decided_ms == start_ms + 500);
  CHECK(f.svc.get(approved.id)->state == request_state::abandoned);
  CHECK_FALSE(f.svc.consume(approved.id, approved.digest));
  CHECK(f.svc.get(denied.id)->state == request_state::denied);
  CHECK(f.svc.get(denied.id)->decided_reason == "no");
  CHECK(f.svc.vote(pending.id, dana, true, "").result == vote_result::not_pending);
}

TEST_CASE("expire_due expires exactly the pending requests past their deadline", "[approvals][service]") {
  fixture f;
  auto short_draft = testing::sample_draft();
  short_draft.rules.timeout = std::chrono::seconds(10);
  const auto due = f.svc.create(short_draft);
  const auto not_due = f.svc.create(testing::sample_draft());  // 60 s
  const auto approved = f.svc.create(short_draft);
  REQUIRE(f.svc.vote(approved.id, dana, true, "").result == vote_result::decided);

  f.now += 9999;
  CHECK(f.svc.expire_due().empty());
  f.now += 1;
  const auto expired = f.svc.expire_due();
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].id == due.id);
  CHECK(expired[0].state == request_state::expired);
  CHECK(f.svc.get(due.id)->decided_reason == "expired");
  CHECK(f.svc.get(not_due.id)->state == request_state::pending);
  CHECK(f.svc.get(approved.id)->state == request_state::approved);
  CHECK(f.svc.expire_due().empty());
}

TEST_CASE("a restarted gateway abandons the open requests of earlier instances on the same store",
          "[approvals][service]") {
  testing::temp_db_path path;
  std::int64_t now = start_ms;
  const auto clock = [&now] { return now; };
  service old_gateway(open_sqlite_store(path.str()), "gw-old", clock);
  const auto pending = old_gateway.create(testing::sample_draft());
  const auto approved = old_gateway.create(testing::sample_draft());
  const auto denied = old_gateway.create(testing::sample_draft());
  REQUIRE(old_gateway.vote(approved.id, dana, true, "").result == vote_result::decided);
  REQUIRE(old_gateway.vote(denied.id, dana, false, "no").result == vote_result::decided);

  service new_gateway(open_sqlite_store(path.str()), "gw-new", clock);
  const auto own = new_gateway.create(testing::sample_draft());
  CHECK(new_gateway.abandon_orphans() == 2);

  for (const auto& id : {pending.id, approved.id}) {
    const auto r = *old_gateway.get(id);
    CHECK(r.state == request_state::abandoned);
    CHECK(r.decided_reason == "gateway restarted");
  }
  CHECK(new_gateway.get(denied.id)->state == request_state::denied);
  CHECK(new_gateway.get(own.id)->state == request_state::pending);
  CHECK_FALSE(old_gateway.consume(approved.id, approved.digest));
  CHECK(new_gateway.abandon_orphans() == 0);
}

TEST_CASE("listeners hear every committed change, outside the service lock", "[approvals][service]") {
  fixture f;
  std::vector<std::pair<std::string, request_state>> heard;
  const auto token = f.svc.subscribe([&](const request& r) {
    // Reading back through the service from a listener would deadlock if it ran under the lock.
    const auto stored = f.svc.get(r.id);
    REQUIRE(stored);
    CHECK(stored->seq == r.seq);
    heard.emplace_back(r.id, r.state);
  });
  const auto r = f.svc.create(with_quorum(2));
  CHECK(f.svc.vote(r.id, dana, true, "").result == vote_result::recorded);
  CHECK(f.svc.vote(r.id, dana, true, "").result == vote_result::already_voted);  // no change, no call
  CHECK(f.svc.vote(r.id, erin, true, "").result == vote_result::decided);
  CHECK(f.svc.consume(r.id, r.digest));
  CHECK(heard == std::vector<std::pair<std::string, request_state>>{{r.id, request_state::pending},
                                                                    {r.id, request_state::pending},
                                                                    {r.id, request_state::approved},
                                                                    {r.id, request_state::consumed}});
  f.svc.unsubscribe(token);
  f.svc.create(testing::sample_draft());
  CHECK(heard.size() == 4);
}

TEST_CASE("the service's change feed follows the store's sequence", "[approvals][service]") {
  fixture f;
  const auto a = f.svc.create(testing::sample_draft());
  const auto b = f.svc.create(testing::sample_draft());
  const auto since = f.svc.last_seq();
  REQUIRE(f.svc.vote(a.id, dana, true, "").result == vote_result::decided);
  const auto changes = f.svc.changes_since(since);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].id == a.id);
  CHECK(changes[0].seq == f.svc.last_seq());
  CHECK(f.svc.list(request_state::pending).front().id == b.id);
  CHECK(f.svc.list(std::nullopt).size() == 2);
}

TEST_CASE("an approval is consumed once even when two gateways race for it", "[approvals][service]") {
  testing::temp_db_path path;
  service first(open_sqlite_store(path.str()), "gw-1");
  service second(open_sqlite_store(path.str()), "gw-2");
  const auto r = first.create(testing::sample_draft());
  REQUIRE(second.vote(r.id, dana, true, "ok").result == vote_result::decided);

  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if ((i % 2 == 0 ? first : second).consume(r.id, r.digest)) ++successes;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(successes == 1);
  CHECK(first.get(r.id)->state == request_state::consumed);
}

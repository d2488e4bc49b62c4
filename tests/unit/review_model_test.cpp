#include "approvals/review_model.hpp"

#include <catch2/catch.hpp>

using namespace phigate::approvals;

namespace {

request make(std::string id, std::int64_t created_ms, std::uint64_t seq, std::string requester = "bob",
             request_state state = request_state::pending) {
  request r;
  r.id = std::move(id);
  r.created_ms = created_ms;
  r.seq = seq;
  r.requester = std::move(requester);
  r.state = state;
  r.kind = "export";
  r.database = "clinic";
  r.rule_id = "exports-held";
  return r;
}

std::vector<std::string> ids(const review_model& m) {
  std::vector<std::string> out;
  for (const auto* r : m.visible()) out.push_back(r->id);
  return out;
}

}  // namespace

TEST_CASE("the filter matches requester, kind, database, rule and id case-insensitively") {
  auto r = make("r-abc", 1, 1, "Bob.Smith");
  r.kind = "privilege";
  r.database = "billing";
  r.rule_id = "grants-held";
  CHECK(matches_filter(r, ""));
  CHECK(matches_filter(r, "smith"));
  CHECK(matches_filter(r, "PRIV"));
  CHECK(matches_filter(r, "bill"));
  CHECK(matches_filter(r, "grants"));
  CHECK(matches_filter(r, "r-ab"));
  CHECK_FALSE(matches_filter(r, "export"));
}

TEST_CASE("visible requests are pending ones, newest first, unless every state is shown") {
  review_model m;
  m.replace_all(
      {make("r-old", 100, 1), make("r-new", 300, 3), make("r-done", 200, 2, "carol", request_state::denied)});
  CHECK(ids(m) == std::vector<std::string>{"r-new", "r-old"});
  m.set_show_all(true);
  CHECK(ids(m) == std::vector<std::string>{"r-new", "r-done", "r-old"});
  CHECK(m.last_seq() == 3);
}

TEST_CASE("changes replace known requests by id, add new ones and ignore stale copies") {
  review_model m;
  m.replace_all({make("r-a", 100, 5), make("r-b", 200, 6)});
  auto approved = make("r-a", 100, 9, "bob", request_state::approved);
  auto stale = make("r-b", 200, 4, "bob", request_state::expired);
  m.apply_changes({approved, stale, make("r-c", 300, 10)});
  CHECK(ids(m) == std::vector<std::string>{"r-c", "r-b"});
  CHECK(m.find("r-a")->state == request_state::approved);
  CHECK(m.find("r-b")->state == request_state::pending);
  CHECK(m.last_seq() == 10);
}

TEST_CASE("the selection follows its request across refreshes") {
  review_model m;
  m.replace_all({make("r-a", 100, 1), make("r-b", 200, 2)});
  m.move_selection(1);
  REQUIRE(m.selected()->id == "r-a");
  m.apply_changes({make("r-c", 300, 3)});  // a newer request lands above it
  CHECK(m.selected()->id == "r-a");
  CHECK(m.selected_index() == 2);
}

TEST_CASE("when the selected request leaves the list the row at the same position is selected") {
  review_model m;
  m.replace_all({make("r-a", 100, 1), make("r-b", 200, 2), make("r-c", 300, 3)});
  m.move_selection(1);
  REQUIRE(m.selected()->id == "r-b");
  m.apply_changes({make("r-b", 200, 4, "bob", request_state::approved)});
  CHECK(m.selected()->id == "r-a");
  m.apply_changes({make("r-a", 100, 5, "bob", request_state::denied)});
  CHECK(m.selected()->id == "r-c");
}

TEST_CASE("moving the selection is clamped to the visible rows") {
  review_model m;
  CHECK(m.selected() == nullptr);
  m.move_selection(1);
  m.replace_all({make("r-a", 100, 1), make("r-b", 200, 2), make("r-c", 300, 3)});
  CHECK(m.selected()->id == "r-c");
  m.move_selection(-5);
  CHECK(m.selected()->id == "r-c");
  m.move_selection(10);
  CHECK(m.selected()->id == "r-a");
  m.select_first();
  CHECK(m.selected()->id == "r-c");
  m.select_last();
  CHECK(m.selected()->id == "r-a");
}

TEST_CASE("filtering keeps the selection when it still matches and moves it when not") {
  review_model m;
  m.replace_all({make("r-a", 100, 1, "alice"), make("r-b", 200, 2, "bob"), make("r-c", 300, 3, "carol")});
  m.move_selection(1);
  REQUIRE(m.selected()->id == "r-b");
  m.set_filter("b");
  CHECK(ids(m) == std::vector<std::string>{"r-b"});
  CHECK(m.selected()->id == "r-b");
  m.set_filter("carol");
  CHECK(m.selected()->id == "r-c");
  m.set_filter("nobody");
  CHECK(m.selected() == nullptr);
  m.set_filter("");
  CHECK(ids(m).size() == 3);
}

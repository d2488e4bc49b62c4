#include "gateway/ring_queue.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

struct element {
  int value = 0;
  std::shared_ptr<std::string> held;
  void clear() {
    value = 0;
    held.reset();
  }
};

}  // namespace

TEST_CASE("ring_queue keeps order across wrap-around and growth", "[ring_queue]") {
  phigate::ring_queue<element> q;
  CHECK(q.empty());
  std::vector<int> popped;
  int next = 0;
  // Push three, pop two, again and again: the head walks around the array and the array grows while
  // its elements wrap.
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3; ++i) q.emplace_back().value = next++;
    for (int i = 0; i < 2; ++i) {
      popped.push_back(q.front().value);
      q.pop_front();
    }
  }
  CHECK(q.size() == 20);
  while (!q.empty()) {
    popped.push_back(q.front().value);
    q.pop_front();
  }
  REQUIRE(popped.size() == 60);
  for (int i = 0; i < 60; ++i) CHECK(popped[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("ring_queue releases what a popped element held and hands out cleared slots", "[ring_queue]") {
  phigate::ring_queue<element> q;
  auto text = std::make_shared<std::string>("held");
  auto& first = q.emplace_back();
  first.value = 7;
  first.held = text;
  CHECK(text.use_count() == 2);
  q.pop_front();
  CHECK(text.use_count() == 1);
  for (int i = 0; i < 16; ++i) {
    auto& e = q.emplace_back();
    CHECK(e.value == 0);
    CHECK(e.held == nullptr);
    e.value = i + 1;
    e.held = text;
    q.pop_front();
  }
  CHECK(text.use_count() == 1);
  CHECK(q.empty());
}

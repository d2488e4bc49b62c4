#include "gateway/pg_response_queue.hpp"

#include <catch2/catch.hpp>

using namespace phigate;
using kind = expected_response::kind;

namespace {

result_shape two_column_shape() {
  pg::row_description desc;
  desc.fields.push_back({"id", 16384, 1, 23, 4, -1, 0});
  desc.fields.push_back({"ssn", 16384, 3, 25, -1, -1, 0});
  result_shape shape;
  shape.has_rows = true;
  desc.encode(shape.row_description);
  return shape;
}

pg::row_description decode_shape(const result_shape& shape) {
  auto whole = as_bytes(shape.row_description);
  auto f = pg::split_frame(whole, whole.size());
  REQUIRE(f);
  auto desc = pg::row_description::decode(*f);
  REQUIRE(desc);
  return *desc;
}

}  // namespace

TEST_CASE("after an error the queue drops everything up to the next Sync", "[gateway][responses]") {
  pg_response_queue q;
  q.push(expected_response{kind::bind, "p"});
  q.push(expected_response{kind::execute, "p"});
  q.push(expected_response{kind::sync});
  q.push(expected_response{kind::parse, "s2"});
  q.drop_until_sync();
  REQUIRE(q.size() == 2);
  CHECK(q.front()->what == kind::sync);
}

TEST_CASE("bind result formats apply to a statement's shape as the server would describe the portal",
          "[gateway][responses]") {
  auto statement = two_column_shape();
  SECTION("no formats: all text") {
    auto portal = apply_result_formats(statement, {});
    auto desc = decode_shape(*portal);
    CHECK(desc.fields[0].format == 0);
    CHECK(desc.fields[1].format == 0);
  }
  SECTION("one format: all columns") {
    auto desc = decode_shape(*apply_result_formats(statement, {1}));
    CHECK(desc.fields[0].format == 1);
    CHECK(desc.fields[1].format == 1);
  }
  SECTION("one format per column") {
    auto desc = decode_shape(*apply_result_formats(statement, {1, 0}));
    CHECK(desc.fields[0].format == 1);
    CHECK(desc.fields[1].format == 0);
    CHECK(desc.fields[1].table_oid == 16384);
    CHECK(desc.fields[1].column_attnum == 3);
  }
}

TEST_CASE("a statement without rows keeps no row description", "[gateway][responses]") {
  result_shape none;
  auto portal = apply_result_formats(none, {1});
  REQUIRE(portal);
  CHECK_FALSE(portal->has_rows);
}

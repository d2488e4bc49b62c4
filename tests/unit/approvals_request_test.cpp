#include "approvals/request.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "approvals_test_support.hpp"

namespace json = boost::json;
using namespace phigate::approvals;

namespace {

request decided_request() {
  auto r = testing::sample_draft();
  r.id = "r-abcdefgh23";
  r.state = request_state::denied;
  r.seq = 12;
  r.parameters = {"$1 = '17'", "$2 = <binary, 8 bytes>"};
  r.columns = {"public.patients.ssn"};
  r.masking_lifted = true;
  r.justification = "audit request #4411";
  r.rules.quorum = 2;
  r.votes = {{"dana", true, "ok", 1796410862123}, {"erin", false, "too broad", 1796410863000}};
  r.created_ms = 1796410800000;
  r.expires_ms = 1796410860000 + 900000;
  r.decided_ms = 1796410863000;
  r.decided_reason = "too broad";
  // Internal fields the API document does not carry.
  r.gateway_instance.clear();
  r.session_id = 0;
  return r;
}

}  // namespace

TEST_CASE("every request state has a name that parses back to it", "[approvals][request]") {
  for (const auto state : {request_state::pending, request_state::approved, request_state::denied,
                           request_state::expired, request_state::abandoned, request_state::consumed}) {
    CHECK(parse_request_state(to_string(state)) == state);
  }
  CHECK(to_string(request_state::abandoned) == "abandoned");
  CHECK_FALSE(parse_request_state("Pending"));
  CHECK_FALSE(parse_request_state(""));
}

TEST_CASE("times are ISO-8601 UTC with milliseconds", "[approvals][request]") {
  CHECK(format_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_utc_ms(1796410862123) == "2026-12-04T19:01:02.123Z");
  CHECK(format_utc_ms(1709251199999) == "2024-02-29T23:59:59.999Z");
  CHECK(parse_utc_ms("2026-12-04T19:01:02.123Z") == 1796410862123);
  CHECK(parse_utc_ms("2026-12-04T19:01:02Z") == 1796410862000);
  CHECK(parse_utc_ms("2026-12-04T19:01:02.5Z") == 1796410862500);
  CHECK(parse_utc_ms("2026-12-04T19:01:02.123999Z") == 1796410862123);
  CHECK_FALSE(parse_utc_ms("2026-02-30T00:00:00.000Z"));
  CHECK_FALSE(parse_utc_ms("2026-12-04T24:00:00.000Z"));
  CHECK_FALSE(parse_utc_ms("2026-12-04 19:01:02.123Z"));
  CHECK_FALSE(parse_utc_ms("2026-12-04T19:01:02.123"));
  CHECK_FALSE(parse_utc_ms("2026-12-04T19:01:02.Z"));
  CHECK_FALSE(parse_utc_ms("2026-12-04T19:01:02.12aZ"));
  CHECK_FALSE(parse_utc_ms(""));
}

TEST_CASE("a request's JSON has the contract's shape", "[approvals][request]") {
  const auto doc = to_json(decided_request());
  const auto& obj = doc.as_object();
  CHECK(obj.at("id") == "r-abcdefgh23");
  CHECK(obj.at("state") == "denied");
  CHECK(obj.at("seq").to_number<std::uint64_t>() == 12);
  CHECK(obj.at("requester_groups").as_array().size() == 1);
  CHECK(obj.at("masking_lifted") == true);
  const auto& approval = obj.at("approval").as_object();
  CHECK(approval.at("groups").as_array().at(0) == "approvers");
  CHECK(approval.at("quorum").to_number<int>() == 2);
  CHECK(approval.at("timeout_s").to_number<int>() == 60);
  const auto& first_vote = obj.at("votes").as_array().at(0).as_object();
  CHECK(first_vote.at("approver") == "dana");
  CHECK(first_vote.at("verdict") == "approve");
  CHECK(first_vote.at("at") == "2026-12-04T19:01:02.123Z");
  CHECK(obj.at("votes").as_array().at(1).as_object().at("verdict") == "deny");
  CHECK(obj.at("decided_at") == "2026-12-04T19:01:03.000Z");
  CHECK(obj.at("decided_reason") == "too broad");
  CHECK_FALSE(obj.contains("gateway_instance"));
  CHECK_FALSE(obj.contains("session_id"));
}

TEST_CASE("an undecided request has a null decided_at", "[approvals][request]") {
  auto r = decided_request();
  r.decided_ms = 0;
  CHECK(to_json(r).as_object().at("decided_at").is_null());
  CHECK(request_from_json(to_json(r))->decided_ms == 0);
}

TEST_CASE("a request survives a JSON round trip, also through text", "[approvals][request]") {
  const auto r = decided_request();
  CHECK(request_from_json(to_json(r)) == r);
  CHECK(request_from_json(json::parse(json::serialize(to_json(r)))) == r);
}

TEST_CASE("request_from_json reads the internal fields when present", "[approvals][request]") {
  auto doc = to_json(decided_request());
  doc.as_object()["gateway_instance"] = "gw-1";
  doc.as_object()["session_id"] = 99;
  const auto r = request_from_json(doc);
  REQUIRE(r);
  CHECK(r->gateway_instance == "gw-1");
  CHECK(r->session_id == 99);
}

TEST_CASE("request_from_json refuses documents it cannot fully understand", "[approvals][request]") {
  const auto valid = to_json(decided_request());
  auto broken = valid;
  auto& obj = broken.as_object();
  SECTION("not an object") {
    broken = json::array{};
  }
  SECTION("no id") {
    obj.erase("id");
  }
  SECTION("no state") {
    obj.erase("state");
  }
  SECTION("an unknown state") {
    obj["state"] = "maybe";
  }
  SECTION("a string where a list belongs") {
    obj["tables"] = "public.patients";
  }
  SECTION("a number where a string belongs") {
    obj["requester"] = 7;
  }
  SECTION("a negative seq") {
    obj["seq"] = -1;
  }
  SECTION("a malformed time") {
    obj["created_at"] = "yesterday";
  }
  SECTION("an unknown verdict") {
    obj["votes"].as_array()[0].as_object()["verdict"] = "abstain";
  }
  SECTION("a non-numeric quorum") {
    obj["approval"].as_object()["quorum"] = "two";
  }
  CHECK_FALSE(request_from_json(broken));
}

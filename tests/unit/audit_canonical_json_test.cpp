// The canonical record encoding: the same event always gives the same bytes, every field has one spelling,
// and any byte string becomes valid JSON.
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "audit/canonical_json.hpp"

using namespace phigate::audit;

namespace {

event sample() {
  event e;
  e.kind = event_kind::decision;
  e.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'796'409'600'123'456));
  e.session = 7;
  actor who;
  who.person = "alice";
  who.groups = {"clinical", "dba"};
  who.client_address = "127.0.0.1:5432";
  who.database = "clinic";
  e.who = std::make_shared<const actor>(std::move(who));
  e.statement = statement_info{"SELECT * FROM patients WHERE id = $1", "ab", "", "k1", std::nullopt};
  e.decision = decision_info{"deny", "no-ssn", "no SSNs", {"read"}, {"public.patients"}, "42501"};
  return e;
}

}  // namespace

TEST_CASE("a record body has a fixed field order and no whitespace", "[audit][canonical]") {
  const auto body = encode_record_body(sample(), 3, genesis_hash);
  CHECK(body ==
        "{\"v\":1,\"seq\":3,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"time\":\"2026-12-04T18:40:00.123456Z\",\"kind\":\"decision\",\"session\":7,"
        "\"who\":{\"person\":\"alice\",\"groups\":[\"clinical\",\"dba\"],\"client\":\"127.0.0.1:5432\","
        "\"database\":\"clinic\"},"
        "\"statement\":{\"normalized\":\"SELECT * FROM patients WHERE id = $1\",\"text_hmac\":\"ab\","
        "\"key_id\":\"k1\"},"
        "\"decision\":{\"verdict\":\"deny\",\"rule\":\"no-ssn\",\"reason\":\"no SSNs\",\"kinds\":[\"read\"],"
        "\"tables\":[\"public.patients\"],\"sqlstate\":\"42501\"}}");
}

TEST_CASE("encoding the same event twice gives the same bytes", "[audit][canonical]") {
  CHECK(encode_record_body(sample(), 9, "ff") == encode_record_body(sample(), 9, "ff"));
  CHECK(encode_record_body(sample(), 9, "ff") != encode_record_body(sample(), 10, "ff"));
}

TEST_CASE("kept literals are stored only when asked for, even when empty", "[audit][canonical]") {
  auto e = sample();
  CHECK(encode_record_body(e, 1, "x").find("\"text\"") == std::string::npos);
  e.statement->text = "";
  CHECK(encode_record_body(e, 1, "x").find("\"text\":\"\"") != std::string::npos);
}

TEST_CASE("strings escape quotes, control bytes and invalid UTF-8 and stay valid JSON",
          "[audit][canonical]") {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\t\x01\x7f", 9));
  CHECK(out == "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
  out.clear();
  append_json_string(out,
                     "caf\xc3\xa9 \xff\xc3 \xed\xa0\x80");  // é, a stray byte, a cut sequence, a surrogate
  CHECK(out == "\"caf\xc3\xa9 \\u00ff\\u00c3 \\u00ed\\u00a0\\u0080\"");
  boost::system::error_code ec;
  boost::json::parse(out, ec);
  CHECK_FALSE(ec);
}

TEST_CASE("long fields that escape most of their bytes are written whole", "[audit][canonical]") {
  // Every byte of the detail needs an escape six times its size, and the statement text is large: the body
  // grows past what was reserved for it, more than once, in the middle of a string.
  auto e = sample();
  std::string detail;
  for (int i = 0; i < 3000; ++i) detail += std::string("\x01\"\xff", 3);
  e.detail = detail;
  e.statement->text = std::string(100'000, 'x') + "\n";
  const auto body = encode_record_body(e, 1, "p");
  const auto doc = boost::json::parse(body).as_object();
  const std::string decoded(doc.at("detail").as_string());
  CHECK(decoded.size() == 3000 * 4);  // \u00ff reads back as U+00FF, two bytes of UTF-8
  CHECK(decoded.substr(0, 4) == std::string("\x01\"\xc3\xbf"));
  CHECK(doc.at("statement").as_object().at("text").as_string().size() == 100'001);
  CHECK(body.find("\\u0001\\\"\\u00ff\\u0001") != std::string::npos);
}

TEST_CASE("masked counts are written in label order", "[audit][canonical]") {
  event e;
  e.kind = event_kind::outcome;
  e.time = std::chrono::system_clock::time_point{};
  e.outcome = outcome_info{5, "SELECT", "00000", 12, {{"SSN", 2}, {"EMAIL", 1}}};
  CHECK(encode_record_body(e, 1, "p") ==
        "{\"v\":1,\"seq\":1,\"prev\":\"p\",\"time\":\"1970-01-01T00:00:00.000000Z\",\"kind\":\"outcome\","
        "\"outcome\":{\"rows\":5,\"command\":\"SELECT\",\"sqlstate\":\"00000\",\"duration_us\":12,"
        "\"masked\":{\"EMAIL\":1,\"SSN\":2}}}");
}

TEST_CASE("times parse in the forms export accepts and round-trip through format_time",
          "[audit][canonical]") {
  CHECK(parse_time_us("1970-01-01") == 0);
  CHECK(parse_time_us("1970-01-01T00:00:01Z") == 1'000'000);
  CHECK(parse_time_us("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parse_time_us("2026-12-04T18:40:00.123456Z") == 1'796'409'600'123'456);
  CHECK(parse_time_us("2026-12-04 18:40") == 1'796'409'600'000'000);
  CHECK_FALSE(parse_time_us("yesterday"));
  CHECK_FALSE(parse_time_us("2026-13-01"));
  CHECK_FALSE(parse_time_us("2026-12-04T18:40:00Zjunk"));
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1'796'409'600'654'321));
  CHECK(parse_time_us(format_time(t)) == to_unix_us(t));
}

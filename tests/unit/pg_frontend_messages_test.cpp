#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "pg_codec_test_support.hpp"
#include "protocol/postgres/messages.hpp"

using namespace std::literals;
using namespace phigate;
using namespace phigate::pg;
using pg::test::check_codec;
using pg::test::decode_failure;
using pg::test::grind;
using pg::test::whole_frame;

namespace {

// Boundary sizes for lengths and counts: one- and two-byte edges, where sign-extension bugs live.
const std::vector<std::size_t> boundary_sizes = {0, 1, 127, 128, 255, 256, 32767, 32768, 65535};

template <class M>
M decode_golden(const std::string& bytes, char type) {
  const frame f = whole_frame(bytes);
  CHECK(f.type == type);
  auto d = M::decode(f);
  REQUIRE(d.ok());
  return *d;
}

}  // namespace

TEST_CASE("Query \"SELECT 1\" is 'Q' 0000000d SELECT 1 NUL", "[pg][codec][frontend]") {
  const std::string golden = "Q\0\0\0\x0dSELECT 1\0"s;
  std::string out;
  query{"SELECT 1"}.encode(out);
  CHECK(out == golden);
  CHECK(decode_golden<query>(golden, 'Q').sql == "SELECT 1");
}

TEST_CASE("Query round-trips empty, short and long statements", "[pg][codec][frontend]") {
  for (const std::size_t n : boundary_sizes) {
    const std::string sql(n, 's');
    check_codec(query{sql}, {.exhaustive = n < 4096});
  }
}

TEST_CASE("Query with a NUL inside the statement is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<query>("SELECT 1\0; DROP TABLE t\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<query>("SELECT 1"sv) == decode_errc::malformed);
  CHECK(decode_failure<query>(""sv) == decode_errc::malformed);
}

TEST_CASE("Parse matches the spec byte for byte", "[pg][codec][frontend]") {
  const std::string golden = "P\0\0\0\x17s1\0SELECT $1\0\0\x01\0\0\0\x17"s;
  std::string out;
  parse{"s1", "SELECT $1", {23}}.encode(out);
  CHECK(out == golden);
  const auto p = decode_golden<parse>(golden, 'P');
  CHECK(p.name == "s1");
  CHECK(p.sql == "SELECT $1");
  CHECK(p.param_types == std::vector<std::uint32_t>{23});
}

TEST_CASE("Parse round-trips unnamed statements and every boundary count of parameter types",
          "[pg][codec][frontend]") {
  check_codec(parse{"", "SELECT 1", {}});
  check_codec(parse{"stmt", "SELECT $1, $2", {0, 0xffffffffu}});
  for (const std::size_t n : boundary_sizes) {
    parse p{"s", "q", std::vector<std::uint32_t>(n, 25)};
    check_codec(p, {.exhaustive = n < 300});
  }
}

TEST_CASE("Parse whose type count exceeds the message is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<parse>("\0q\0\0\x02\0\0\0\x17"sv) == decode_errc::malformed);
  CHECK(decode_failure<parse>("\0q\0\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<parse>("\0q\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("Bind matches the spec byte for byte", "[pg][codec][frontend]") {
  const std::string golden =
      "B\0\0\0\x18\0s1\0\0\x01\0\0\0\x01\0\0\0\x02"
      "42\0\x01\0\x01"s;
  bind b;
  b.statement = "s1";
  b.param_formats = {0};
  b.params = {as_bytes("42")};
  b.result_formats = {1};
  std::string out;
  b.encode(out);
  CHECK(out == golden);
  const auto d = decode_golden<bind>(golden, 'B');
  CHECK(pg::test::same(d, b));
}

TEST_CASE("Bind round-trips NULL, empty and boundary-length parameter values", "[pg][codec][frontend]") {
  const std::string big(65535, 'x');
  bind b;
  b.portal = "p";
  b.statement = "s";
  b.params.push_back(std::nullopt);
  b.params.push_back(as_bytes(""));
  for (const std::size_t n : {1, 127, 128, 255, 256}) b.params.push_back(as_bytes(big).first(n));
  b.param_formats = {1};
  b.result_formats = {0, 1, 1};
  check_codec(b);
  b.params.push_back(as_bytes(big));
  check_codec(b, {.exhaustive = false});
}

TEST_CASE("Bind distinguishes a NULL parameter (-1) from an empty one (0)", "[pg][codec][frontend]") {
  const auto d = decode_golden<bind>("B\0\0\0\x14\0\0\0\0\0\x02\xff\xff\xff\xff\0\0\0\0\0\0"s, 'B');
  REQUIRE(d.params.size() == 2);
  CHECK_FALSE(d.params[0].has_value());
  REQUIRE(d.params[1].has_value());
  CHECK(d.params[1]->empty());
}

TEST_CASE("Bind round-trips a 16 MiB parameter value", "[pg][codec][frontend]") {
  const std::string huge((1u << 24) - 1, 'h');
  bind b;
  b.params = {as_bytes(huge)};
  check_codec(b, {.exhaustive = false});
}

TEST_CASE("Bind round-trips every boundary count of parameters", "[pg][codec][frontend]") {
  for (const std::size_t n : boundary_sizes) {
    bind b;
    b.params.assign(n, std::nullopt);
    b.param_formats.assign(n, 1);
    b.result_formats.assign(n, 0);
    check_codec(b, {.exhaustive = n < 130});
  }
}

TEST_CASE("Bind with negative value lengths other than -1 is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<bind>("\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<bind>("\0\0\0\0\0\x01\x80\0\0\0\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("Bind with a value length beyond the message is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<bind>("\0\0\0\0\0\x01\0\0\0\x05"
                             "abcd"sv) == decode_errc::malformed);
  CHECK(decode_failure<bind>("\0\0\0\0\0\x01\x7f\xff\xff\xff\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("Bind with a parameter format count other than 0, 1 or one per parameter is malformed",
          "[pg][codec][frontend]") {
  bind b;
  b.params = {std::nullopt, std::nullopt, std::nullopt};
  b.param_formats = {0, 1};
  std::string out;
  b.encode(out);
  const auto d = bind::decode(whole_frame(out));
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == decode_errc::malformed);
}

TEST_CASE("Bind with a format code other than 0 or 1 is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<bind>("\0\0\0\x01\0\x02\0\0\0\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<bind>("\0\0\0\0\0\0\0\x01\xff\xff"sv) == decode_errc::malformed);
}

TEST_CASE("Bind whose counts exceed the message is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<bind>("\0\0\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<bind>("\0\0\0\0\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<bind>("\0\0\0\0\0\0\0\x02\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("Describe and Close carry 'S' or 'P' and a name", "[pg][codec][frontend]") {
  std::string out;
  describe{'P', ""}.encode(out);
  CHECK(out == "D\0\0\0\x06P\0"s);
  out.clear();
  pg::close{'S', "s1"}.encode(out);
  CHECK(out ==
        "C\0\0\0\x08S"
        "s1\0"s);
  for (const char kind : {'S', 'P'}) {
    check_codec(describe{kind, "name"});
    check_codec(pg::close{kind, ""});
  }
}

TEST_CASE("Describe and Close with any other kind byte are malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<describe>("X\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<pg::close>("s\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<describe>(""sv) == decode_errc::malformed);
  CHECK(decode_failure<pg::close>("S"sv) == decode_errc::malformed);
}

TEST_CASE("Execute matches the spec and round-trips row limits", "[pg][codec][frontend]") {
  std::string out;
  execute{"", 0}.encode(out);
  CHECK(out == "E\0\0\0\x09\0\0\0\0\0"s);
  for (const std::int32_t rows : {0, 1, 127, 128, 255, 65535, -1, 0x7fffffff}) {
    check_codec(execute{"portal", rows});
  }
}

TEST_CASE("CopyData carries any bytes, its body being the data", "[pg][codec][frontend]") {
  std::string out;
  copy_data{as_bytes("1\tx\n")}.encode(out);
  CHECK(out ==
        "d\0\0\0\x08"
        "1\tx\n"s);
  const std::string with_nul = "a\0b"s;
  check_codec(copy_data{as_bytes(with_nul)}, {.prefixes_are_valid = true});
  check_codec(copy_data{}, {.prefixes_are_valid = true});
}

TEST_CASE("CopyFail round-trips its message and needs the NUL", "[pg][codec][frontend]") {
  check_codec(copy_fail{"client gave up"});
  check_codec(copy_fail{""});
  CHECK(decode_failure<copy_fail>("oops"sv) == decode_errc::malformed);
}

TEST_CASE("PasswordMessage is 'p', the password, NUL", "[pg][codec][frontend]") {
  std::string out;
  password_message{"secret"}.encode(out);
  CHECK(out == "p\0\0\0\x0bsecret\0"s);
  check_codec(password_message{"md5" + std::string(32, 'a')});
  check_codec(password_message{""});
  CHECK(decode_failure<password_message>("secret"sv) == decode_errc::malformed);
}

TEST_CASE("SASLInitialResponse matches the spec byte for byte", "[pg][codec][frontend]") {
  const std::string golden = "p\0\0\0\x20SCRAM-SHA-256\0\0\0\0\x0an,,n=,r=ab"s;
  sasl_initial_response m{"SCRAM-SHA-256", as_bytes("n,,n=,r=ab")};
  std::string out;
  m.encode(out);
  CHECK(out == golden);
  CHECK(pg::test::same(decode_golden<sasl_initial_response>(golden, 'p'), m));
}

TEST_CASE("SASLInitialResponse distinguishes absent data (-1) from empty data (0)", "[pg][codec][frontend]") {
  std::string out;
  sasl_initial_response{"SCRAM-SHA-256", std::nullopt}.encode(out);
  CHECK(out == "p\0\0\0\x16SCRAM-SHA-256\0\xff\xff\xff\xff"s);
  check_codec(sasl_initial_response{"SCRAM-SHA-256", std::nullopt});
  check_codec(sasl_initial_response{"SCRAM-SHA-256", as_bytes("")});
  const std::string data(255, 'r');
  check_codec(sasl_initial_response{"SCRAM-SHA-256", as_bytes(data)});
}

TEST_CASE("SASLInitialResponse with a bad data length is malformed", "[pg][codec][frontend]") {
  CHECK(decode_failure<sasl_initial_response>("M\0\xff\xff\xff\xfe"sv) == decode_errc::malformed);
  CHECK(decode_failure<sasl_initial_response>("M\0\0\0\0\x03"
                                              "ab"sv) == decode_errc::malformed);
  CHECK(decode_failure<sasl_initial_response>("M\0\0\0\0\x01"
                                              "ab"sv) == decode_errc::malformed);
  CHECK(decode_failure<sasl_initial_response>("M"sv) == decode_errc::malformed);
}

TEST_CASE("SASLResponse carries the rest of the body as data", "[pg][codec][frontend]") {
  std::string out;
  sasl_response{as_bytes("c=biws")}.encode(out);
  CHECK(out ==
        "p\0\0\0\x0a"
        "c=biws"s);
  check_codec(sasl_response{as_bytes("c=biws,r=abc,p=xyz")}, {.prefixes_are_valid = true});
}

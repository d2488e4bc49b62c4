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
using pg::test::same;
using pg::test::whole_frame;

namespace {

const std::vector<std::size_t> boundary_sizes = {0, 1, 127, 128, 255, 256, 32767, 32768, 65535};

template <class M>
M decode_golden(const std::string& bytes, char type) {
  const frame f = whole_frame(bytes);
  CHECK(f.type == type);
  auto d = M::decode(f);
  REQUIRE(d.ok());
  return *d;
}

authentication auth_with(auth_code code) {
  authentication a;
  a.code = code;
  return a;
}

}  // namespace

TEST_CASE("AuthenticationOk is 'R' 00000008 00000000", "[pg][codec][backend]") {
  const std::string golden = "R\0\0\0\x08\0\0\0\0"s;
  std::string out;
  authentication{}.encode(out);
  CHECK(out == golden);
  CHECK(decode_golden<authentication>(golden, 'R').code == auth_code::ok);
}

TEST_CASE("AuthenticationMD5Password carries its 4-byte salt", "[pg][codec][backend]") {
  const std::string golden = "R\0\0\0\x0c\0\0\0\x05\x01\x02\x03\xff"s;
  authentication a = auth_with(auth_code::md5_password);
  a.md5_salt = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{0xff}};
  std::string out;
  a.encode(out);
  CHECK(out == golden);
  CHECK(same(decode_golden<authentication>(golden, 'R'), a));
  check_codec(a);
}

TEST_CASE("AuthenticationSASL lists mechanisms and ends with an empty one", "[pg][codec][backend]") {
  const std::string golden = "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"s;
  authentication a = auth_with(auth_code::sasl);
  a.mechanisms = {"SCRAM-SHA-256"};
  std::string out;
  a.encode(out);
  CHECK(out == golden);
  CHECK(same(decode_golden<authentication>(golden, 'R'), a));
  check_codec(a);
  a.mechanisms = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
  check_codec(a);
  a.mechanisms.clear();
  check_codec(a);
}

TEST_CASE("AuthenticationSASLContinue and SASLFinal carry the rest of the body", "[pg][codec][backend]") {
  std::string out;
  authentication a = auth_with(auth_code::sasl_continue);
  a.data = as_bytes("r=abc,s=c2FsdA==,i=4096");
  a.encode(out);
  CHECK(out == "R\0\0\0\x1f\0\0\0\x0br=abc,s=c2FsdA==,i=4096"s);
  for (const auto code : {auth_code::sasl_continue, auth_code::sasl_final, auth_code::gss_continue}) {
    a.code = code;
    check_codec(a, {.prefixes_are_valid = true});
  }
}

TEST_CASE("every body-less authentication request round-trips", "[pg][codec][backend]") {
  for (const auto code : {auth_code::ok, auth_code::kerberos_v5, auth_code::cleartext_password,
                          auth_code::gss, auth_code::sspi}) {
    check_codec(auth_with(code));
  }
}

TEST_CASE("unknown authentication codes are unsupported", "[pg][codec][backend]") {
  CHECK(decode_failure<authentication>("\0\0\0\x06"sv) == decode_errc::unsupported);
  CHECK(decode_failure<authentication>("\0\0\0\x63"sv) == decode_errc::unsupported);
  CHECK(decode_failure<authentication>("\xff\xff\xff\xff"sv) == decode_errc::unsupported);
}

TEST_CASE("malformed authentication requests are refused", "[pg][codec][backend]") {
  CHECK(decode_failure<authentication>("\0\0\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<authentication>("\0\0\0\0\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<authentication>("\0\0\0\x05\x01\x02\x03"sv) == decode_errc::malformed);
  CHECK(decode_failure<authentication>("\0\0\0\x0aSCRAM-SHA-256\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<authentication>("\0\0\0\x0aSCRAM-SHA-256"sv) == decode_errc::malformed);
}

TEST_CASE("BackendKeyData is 'K' 0000000c, process id, secret key", "[pg][codec][backend]") {
  const std::string golden = "K\0\0\0\x0c\0\0\x30\x39\xde\xad\xbe\xef"s;
  const backend_key_data k{12345, static_cast<std::int32_t>(0xdeadbeefu)};
  std::string out;
  k.encode(out);
  CHECK(out == golden);
  CHECK(same(decode_golden<backend_key_data>(golden, 'K'), k));
  check_codec(k);
}

TEST_CASE("ParameterStatus is two NUL-terminated strings", "[pg][codec][backend]") {
  const std::string golden =
      "S\0\0\0\x19"
      "client_encoding\0UTF8\0"s;
  std::string out;
  parameter_status{"client_encoding", "UTF8"}.encode(out);
  CHECK(out == golden);
  check_codec(parameter_status{"client_encoding", "UTF8"});
  check_codec(parameter_status{"application_name", ""});
}

TEST_CASE("ReadyForQuery carries I, T or E and nothing else", "[pg][codec][backend]") {
  std::string out;
  ready_for_query{'I'}.encode(out);
  CHECK(out == "Z\0\0\0\x05I"s);
  for (const char s : {'I', 'T', 'E'}) check_codec(ready_for_query{s});
  CHECK(decode_failure<ready_for_query>("X"sv) == decode_errc::malformed);
  CHECK(decode_failure<ready_for_query>(""sv) == decode_errc::malformed);
}

TEST_CASE("RowDescription matches the spec byte for byte", "[pg][codec][backend]") {
  const std::string golden = "T\0\0\0\x1b\0\x01id\0\0\0\x40\0\0\x01\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0"s;
  row_description rd;
  rd.fields = {{"id", 16384, 1, 23, 4, -1, 0}};
  std::string out;
  rd.encode(out);
  CHECK(out == golden);
  CHECK(same(decode_golden<row_description>(golden, 'T'), rd));
}

TEST_CASE("RowDescription round-trips zero, one and many fields", "[pg][codec][backend]") {
  check_codec(row_description{});
  row_description rd;
  rd.fields = {{"ssn", 16384, 3, 25, -1, -1, 0}, {"?column?", 0, 0, 23, 4, -1, 1}, {"", 0, 0, 0, 0, 0, 0}};
  check_codec(rd);
  for (const std::size_t n : {127, 128, 255}) {
    rd.fields.assign(n, {"c", 1, 2, 3, 4, 5, 1});
    check_codec(rd, {.exhaustive = n < 200});
  }
}

TEST_CASE("RowDescription with a format code other than 0 or 1 is malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<row_description>("\0\x01"
                                        "a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02"sv) ==
        decode_errc::malformed);
}

TEST_CASE("RowDescription whose field count exceeds the message is malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<row_description>("\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<row_description>("\0\x02"
                                        "a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"sv) ==
        decode_errc::malformed);
  CHECK(decode_failure<row_description>("\0"sv) == decode_errc::malformed);
}

TEST_CASE("DataRow matches the spec byte for byte, NULL as length -1", "[pg][codec][backend]") {
  const std::string golden =
      "D\0\0\0\x0f\0\x02\0\0\0\x01"
      "1\xff\xff\xff\xff"s;
  data_row row;
  row.columns = {as_bytes("1"), std::nullopt};
  std::string out;
  row.encode(out);
  CHECK(out == golden);
  CHECK(same(decode_golden<data_row>(golden, 'D'), row));
}

TEST_CASE("DataRow writes a 128-byte value's length as 00000080, not sign-extended", "[pg][codec][backend]") {
  const std::string value(128, 'v');
  data_row row;
  row.columns = {as_bytes(value)};
  std::string out;
  row.encode(out);
  CHECK(out.substr(0, 11) == "D\0\0\0\x8a\0\x01\0\0\0\x80"s);
}

TEST_CASE("DataRow round-trips every boundary value length, NULL and empty", "[pg][codec][backend]") {
  const std::string big(65535, 'x');
  data_row row;
  row.columns = {std::nullopt, as_bytes("")};
  for (const std::size_t n : {1, 127, 128, 255, 256}) row.columns.push_back(as_bytes(big).first(n));
  check_codec(row);
  row.columns.push_back(as_bytes(big));
  check_codec(row, {.exhaustive = false});
}

TEST_CASE("DataRow round-trips a value of 2^24-1 bytes", "[pg][codec][backend]") {
  const std::string huge((1u << 24) - 1, 'h');
  data_row row;
  row.columns = {as_bytes(huge), std::nullopt};
  check_codec(row, {.exhaustive = false});
}

TEST_CASE("DataRow round-trips every boundary column count", "[pg][codec][backend]") {
  for (const std::size_t n : boundary_sizes) {
    data_row row;
    row.columns.assign(n, std::nullopt);
    check_codec(row, {.exhaustive = n < 300});
  }
}

TEST_CASE("DataRow with negative lengths other than -1 is malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<data_row>("\0\x01\xff\xff\xff\xfe"sv) == decode_errc::malformed);
  CHECK(decode_failure<data_row>("\0\x01\x80\0\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("DataRow with a value or count beyond the message is malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<data_row>("\0\x01\0\0\0\x03"
                                 "ab"sv) == decode_errc::malformed);
  CHECK(decode_failure<data_row>("\0\x01\x7f\xff\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<data_row>("\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<data_row>("\0\x02\xff\xff\xff\xff"sv) == decode_errc::malformed);
}

TEST_CASE("CommandComplete is 'C', the tag, NUL", "[pg][codec][backend]") {
  std::string out;
  command_complete{"SELECT 1"}.encode(out);
  CHECK(out == "C\0\0\0\x0dSELECT 1\0"s);
  check_codec(command_complete{"INSERT 0 128"});
  check_codec(command_complete{""});
}

TEST_CASE("encode_error writes S, V, C, M and then the terminator", "[pg][codec][backend]") {
  const std::string golden = "E\0\0\0\x2dSERROR\0VERROR\0C42501\0Mpermission denied\0\0"s;
  std::string out;
  encode_error(out, "ERROR", "42501", "permission denied");
  CHECK(out == golden);
  const auto e = decode_golden<error_response>(golden, 'E');
  CHECK(e.fields.size() == 4);
  CHECK(e.field('C') == "42501");
  CHECK(e.field('M') == "permission denied");
  CHECK_FALSE(e.field('D').has_value());
}

TEST_CASE("encode_error adds detail and hint only when given, and writes notices", "[pg][codec][backend]") {
  std::string out;
  encode_error(out, "NOTICE", "00000", "held for approval", "request 7", "wait",
               backend_type::notice_response);
  const frame f = whole_frame(out);
  CHECK(f.type == 'N');
  const auto e = error_response::decode(f);
  REQUIRE(e.ok());
  CHECK(e->field('S') == "NOTICE");
  CHECK(e->field('V') == "NOTICE");
  CHECK(e->field('D') == "request 7");
  CHECK(e->field('H') == "wait");
}

TEST_CASE("ErrorResponse and NoticeResponse round-trip their fields", "[pg][codec][backend]") {
  error_response e;
  check_codec(e, {.type = 'E'});
  e.fields = {{'S', "FATAL"}, {'C', "28P01"}, {'M', "password authentication failed"}, {'P', ""}};
  check_codec(e, {.type = 'E'});
  check_codec(e, {.type = 'N'});
}

TEST_CASE("ErrorResponse without its terminator is malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<error_response>("SERROR\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<error_response>("SERROR"sv) == decode_errc::malformed);
  CHECK(decode_failure<error_response>(""sv) == decode_errc::malformed);
  CHECK(decode_failure<error_response>("\0\0"sv) == decode_errc::malformed);
}

TEST_CASE("NotificationResponse carries process id, channel and payload", "[pg][codec][backend]") {
  std::string out;
  notification_response{7, "chan", "payload"}.encode(out);
  CHECK(out ==
        "A\0\0\0\x15\0\0\0\x07"
        "chan\0payload\0"s);
  check_codec(notification_response{-1, "approvals", ""});
}

TEST_CASE("copy responses round-trip under each of their type bytes", "[pg][codec][backend]") {
  std::string out;
  copy_response{0, {0}}.encode(out, backend_type::copy_in_response);
  CHECK(out == "G\0\0\0\x09\0\0\x01\0\0"s);
  for (const char type :
       {backend_type::copy_in_response, backend_type::copy_out_response, backend_type::copy_both_response}) {
    check_codec(copy_response{0, {}}, {.type = type});
    check_codec(copy_response{0, {0, 0, 0}}, {.type = type});
    check_codec(copy_response{1, {1, 0, 1}}, {.type = type});
  }
}

TEST_CASE("copy responses with unknown or inconsistent formats are malformed", "[pg][codec][backend]") {
  CHECK(decode_failure<copy_response>("\x02\0\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<copy_response>("\x01\0\x01\0\x02"sv) == decode_errc::malformed);
  CHECK(decode_failure<copy_response>("\0\0\x01\0\x01"sv) == decode_errc::malformed);
  CHECK(decode_failure<copy_response>("\0\xff\xff"sv) == decode_errc::malformed);
}

TEST_CASE("ParameterDescription lists type OIDs", "[pg][codec][backend]") {
  std::string out;
  parameter_description{{23}}.encode(out);
  CHECK(out == "t\0\0\0\x0a\0\x01\0\0\0\x17"s);
  for (const std::size_t n : boundary_sizes) {
    check_codec(parameter_description{std::vector<std::uint32_t>(n, 0xfffffffeu)}, {.exhaustive = n < 300});
  }
  CHECK(decode_failure<parameter_description>("\0\x02\0\0\0\x17"sv) == decode_errc::malformed);
}

TEST_CASE("NegotiateProtocolVersion lists unrecognized options", "[pg][codec][backend]") {
  std::string out;
  negotiate_protocol_version{0, {"_pq_.x"}}.encode(out);
  CHECK(out == "v\0\0\0\x13\0\0\0\0\0\0\0\x01_pq_.x\0"s);
  check_codec(negotiate_protocol_version{2, {}});
  check_codec(negotiate_protocol_version{0, {"_pq_.a", "_pq_.b"}});
}

TEST_CASE("NegotiateProtocolVersion with a negative or oversized option count is malformed",
          "[pg][codec][backend]") {
  CHECK(decode_failure<negotiate_protocol_version>("\0\0\0\0\xff\xff\xff\xff"sv) == decode_errc::malformed);
  CHECK(decode_failure<negotiate_protocol_version>("\0\0\0\0\x7f\xff\xff\xff"
                                                   "a\0"sv) == decode_errc::malformed);
  CHECK(decode_failure<negotiate_protocol_version>("\0\0\0\0\0\0\0\x02"
                                                   "a\0"sv) == decode_errc::malformed);
}

TEST_CASE("CopyData from the backend decodes as the same message", "[pg][codec][backend]") {
  const std::string golden =
      "d\0\0\0\x07"
      "1\t2"s;
  const auto d = decode_golden<copy_data>(golden, backend_type::copy_data);
  CHECK(as_chars(d.data) == "1\t2");
}

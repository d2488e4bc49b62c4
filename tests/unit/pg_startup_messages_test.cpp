#include <string>
#include <string_view>
#include <variant>

#include <catch2/catch.hpp>

#include "protocol/postgres/messages.hpp"

using namespace std::literals;
using namespace phigate;
using namespace phigate::pg;

namespace {

// Splits `bytes` as one startup packet and decodes it; the packet must fill `bytes` exactly.
decoded<startup_packet> decode_whole(const std::string& bytes) {
  const auto f = split_startup_frame(as_bytes(bytes));
  REQUIRE(f.ok());
  REQUIRE(f->whole.size() == bytes.size());
  return decode_startup_packet(*f);
}

decode_errc startup_failure(const std::string& bytes) {
  const auto d = decode_whole(bytes);
  REQUIRE_FALSE(d.ok());
  return d.error().code;
}

// Every proper prefix is need_more; every cut of the body (with the length word fixed up) fails.
void grind_startup(const std::string& bytes) {
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    CHECK(split_startup_frame(as_bytes(bytes).first(k)).need_more());
  }
  const auto f = split_startup_frame(as_bytes(bytes));
  REQUIRE(f.ok());
  for (std::size_t k = 0; k < f->body.size(); ++k) {
    INFO("body cut to " << k);
    CHECK_FALSE(decode_startup_packet(frame{'\0', f->body.first(k), {}}).ok());
  }
}

}  // namespace

TEST_CASE("StartupMessage matches the spec byte for byte", "[pg][codec][startup]") {
  const std::string golden = "\0\0\0\x20\0\x03\0\0user\0alice\0database\0db\0\0"s;
  startup_message m;
  m.params = {{"user", "alice"}, {"database", "db"}};
  std::string out;
  m.encode(out);
  CHECK(out == golden);

  const auto d = decode_whole(golden);
  REQUIRE(d.ok());
  const auto& s = std::get<startup_message>(*d);
  CHECK(s.protocol == protocol_version_3_0);
  REQUIRE(s.params.size() == 2);
  CHECK(s.param("user") == "alice");
  CHECK(s.param("database") == "db");
  CHECK_FALSE(s.param("options").has_value());
  grind_startup(golden);
}

TEST_CASE("StartupMessage round-trips parameters in wire order, empty values included",
          "[pg][codec][startup]") {
  startup_message m;
  m.params = {{"user", "bob"}, {"options", ""}, {"application_name", "psql"}, {"_pq_.x", "1"}};
  std::string out;
  m.encode(out);
  const auto d = decode_whole(out);
  REQUIRE(d.ok());
  const auto& s = std::get<startup_message>(*d);
  REQUIRE(s.params == m.params);
  CHECK(s.param("options") == ""sv);
}

TEST_CASE("StartupMessage keeps a newer 3.x minor version for the caller to negotiate",
          "[pg][codec][startup]") {
  startup_message m;
  m.protocol = (3u << 16) | 2;
  m.params = {{"user", "u"}};
  std::string out;
  m.encode(out);
  const auto d = decode_whole(out);
  REQUIRE(d.ok());
  CHECK(std::get<startup_message>(*d).protocol == m.protocol);
}

TEST_CASE("StartupMessage with no parameters is just the version and the terminator",
          "[pg][codec][startup]") {
  const auto d = decode_whole("\0\0\0\x09\0\x03\0\0\0"s);
  REQUIRE(d.ok());
  CHECK(std::get<startup_message>(*d).params.empty());
}

TEST_CASE("StartupMessage without its terminating empty name is malformed", "[pg][codec][startup]") {
  CHECK(startup_failure("\0\0\0\x08\0\x03\0\0"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x13\0\x03\0\0user\0alice\0"s) == decode_errc::malformed);
}

TEST_CASE("StartupMessage value without its NUL is malformed", "[pg][codec][startup]") {
  CHECK(startup_failure("\0\0\0\x12\0\x03\0\0user\0alice"s) == decode_errc::malformed);
}

TEST_CASE("StartupMessage with bytes after the terminator is malformed", "[pg][codec][startup]") {
  CHECK(startup_failure("\0\0\0\x0a\0\x03\0\0\0x"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x0b\0\x03\0\0\0x\0"s) == decode_errc::malformed);
}

TEST_CASE("StartupMessage repeating a parameter name is malformed", "[pg][codec][startup]") {
  startup_message m;
  m.params = {{"user", "alice"}, {"database", "db"}, {"user", "postgres"}};
  std::string out;
  m.encode(out);
  CHECK(startup_failure(out) == decode_errc::malformed);
}

TEST_CASE("protocol major versions other than 3 are unsupported", "[pg][codec][startup]") {
  CHECK(startup_failure("\0\0\0\x09\0\x02\0\0\0"s) == decode_errc::unsupported);
  CHECK(startup_failure("\0\0\0\x09\0\x04\0\0\0"s) == decode_errc::unsupported);
  // 1234.5681 is an unassigned request code.
  CHECK(startup_failure("\0\0\0\x08\x04\xd2\x16\x31"s) == decode_errc::unsupported);
}

TEST_CASE("SSLRequest is 00000008 04d2162f", "[pg][codec][startup]") {
  const std::string golden = "\0\0\0\x08\x04\xd2\x16\x2f"s;
  std::string out;
  ssl_request{}.encode(out);
  CHECK(out == golden);
  const auto d = decode_whole(golden);
  REQUIRE(d.ok());
  CHECK(std::holds_alternative<ssl_request>(*d));
  grind_startup(golden);
}

TEST_CASE("GSSENCRequest is 00000008 04d21630", "[pg][codec][startup]") {
  const std::string golden = "\0\0\0\x08\x04\xd2\x16\x30"s;
  std::string out;
  gssenc_request{}.encode(out);
  CHECK(out == golden);
  const auto d = decode_whole(golden);
  REQUIRE(d.ok());
  CHECK(std::holds_alternative<gssenc_request>(*d));
}

TEST_CASE("CancelRequest is 00000010 04d2162e, process id, secret key", "[pg][codec][startup]") {
  const std::string golden = "\0\0\0\x10\x04\xd2\x16\x2e\0\0\x30\x39\x80\0\0\x01"s;
  std::string out;
  cancel_request{12345, static_cast<std::int32_t>(0x80000001u)}.encode(out);
  CHECK(out == golden);
  const auto d = decode_whole(golden);
  REQUIRE(d.ok());
  const auto& c = std::get<cancel_request>(*d);
  CHECK(c.process_id == 12345);
  CHECK(c.secret_key == static_cast<std::int32_t>(0x80000001u));
  grind_startup(golden);
}

TEST_CASE("request codes at any other length are malformed, not read as a protocol version",
          "[pg][codec][startup]") {
  CHECK(startup_failure("\0\0\0\x09\x04\xd2\x16\x2f\0"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x0c\x04\xd2\x16\x30\0\0\0\0"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x08\x04\xd2\x16\x2e"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x0c\x04\xd2\x16\x2e\0\0\0\x01"s) == decode_errc::malformed);
  CHECK(startup_failure("\0\0\0\x14\x04\xd2\x16\x2e\0\0\0\x01\0\0\0\x02\0\0\0\x03"s) ==
        decode_errc::malformed);
}

TEST_CASE("a startup frame too short for its code is malformed", "[pg][codec][startup]") {
  const std::string body = "\0\x03\0"s;
  const auto d = decode_startup_packet(frame{'\0', as_bytes(body), {}});
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == decode_errc::malformed);
}

TEST_CASE("a StartupMessage of exactly max_startup_packet_bytes decodes", "[pg][codec][startup]") {
  startup_message m;
  const std::string value(max_startup_packet_bytes - 4 - 4 - 5 - 1 - 1, 'v');
  m.params = {{"user", value}};
  std::string out;
  m.encode(out);
  REQUIRE(out.size() == max_startup_packet_bytes);
  const auto d = decode_whole(out);
  REQUIRE(d.ok());
  CHECK(std::get<startup_message>(*d).param("user") == value);
  out.insert(out.size() - 2, "v");
  out[3] = static_cast<char>(out[3] + 1);
  const auto over = split_startup_frame(as_bytes(out));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == decode_errc::too_large);
}

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "pg_codec_test_support.hpp"
#include "protocol/postgres/messages.hpp"

using namespace std::literals;
using namespace phigate;
using namespace phigate::pg;
using phigate::pg::test::no_limit;

TEST_CASE("split_frame waits for the 5-byte header and then for the whole message", "[pg][codec][framing]") {
  const std::string q = "Q\0\0\0\x0dSELECT 1\0"s;
  pg::test::check_every_split(q);
  const auto f = split_frame(as_bytes(q), no_limit);
  REQUIRE(f.ok());
  CHECK(f->type == 'Q');
  CHECK(as_chars(f->body) == "SELECT 1\0"sv);
  CHECK(f->whole.size() == q.size());
  CHECK(f->whole.data() == as_bytes(q).data());
}

TEST_CASE("split_frame returns only the first of several messages", "[pg][codec][framing]") {
  const std::string two = "S\0\0\0\x04X\0\0\0\x04"s;
  const auto first = split_frame(as_bytes(two), no_limit);
  REQUIRE(first.ok());
  CHECK(first->type == 'S');
  CHECK(first->body.empty());
  const auto second = split_frame(as_bytes(two).subspan(first->whole.size()), no_limit);
  REQUIRE(second.ok());
  CHECK(second->type == 'X');
  CHECK(second->whole.size() == 5);
}

TEST_CASE("split_frame accepts the smallest length word, 4, as an empty body", "[pg][codec][framing]") {
  const auto f = split_frame(as_bytes("H\0\0\0\x04"sv), no_limit);
  REQUIRE(f.ok());
  CHECK(f->body.empty());
}

TEST_CASE("split_frame rejects length words below 4 or negative as malformed", "[pg][codec][framing]") {
  for (const auto& header : {"Q\0\0\0\0"s, "Q\0\0\0\x03"s, "Q\x80\0\0\0"s, "Q\xff\xff\xff\xff"s}) {
    const auto f = split_frame(as_bytes(header), no_limit);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code == decode_errc::malformed);
  }
}

TEST_CASE("split_frame applies max_message_bytes to the length word's value", "[pg][codec][framing]") {
  // Length word 13 = 4 + the 9-byte body; the type byte is not counted.
  const std::string q = "Q\0\0\0\x0dSELECT 1\0"s;
  CHECK(split_frame(as_bytes(q), 13).ok());
  const auto over = split_frame(as_bytes(q), 12);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == decode_errc::too_large);
}

TEST_CASE("split_frame reports too_large from the header alone, before the body arrives",
          "[pg][codec][framing]") {
  const auto f = split_frame(as_bytes("d\x01\0\0\0"sv), 1 << 20);
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().code == decode_errc::too_large);
  CHECK(split_frame(as_bytes("d\x01\0\0"sv), 1 << 20).need_more());
}

TEST_CASE("split_frame handles the largest positive length word without overflow", "[pg][codec][framing]") {
  const auto f = split_frame(as_bytes("d\x7f\xff\xff\xff"sv), no_limit);
  CHECK(f.need_more());
  const auto g = split_frame(as_bytes("d\x7f\xff\xff\xff"sv), 0x7ffffffe);
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().code == decode_errc::too_large);
}

TEST_CASE("split_startup_frame waits for the length word and then the whole packet", "[pg][codec][framing]") {
  const std::string ssl = "\0\0\0\x08\x04\xd2\x16\x2f"s;
  for (std::size_t k = 0; k < ssl.size(); ++k) {
    CHECK(split_startup_frame(as_bytes(ssl).first(k)).need_more());
  }
  const auto f = split_startup_frame(as_bytes(ssl + "extra"));
  REQUIRE(f.ok());
  CHECK(f->type == '\0');
  CHECK(f->body.size() == 4);
  CHECK(f->whole.size() == 8);
}

TEST_CASE("split_startup_frame rejects lengths below 8 or negative as malformed", "[pg][codec][framing]") {
  for (const auto& header : {"\0\0\0\0"s, "\0\0\0\x07"s, "\x80\0\0\0"s, "\xff\xff\xff\xff"s}) {
    const auto f = split_startup_frame(as_bytes(header));
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code == decode_errc::malformed);
  }
}

TEST_CASE("split_startup_frame enforces max_startup_packet_bytes on the whole packet",
          "[pg][codec][framing]") {
  std::string packet = "\0\0\x27\x10"s;  // 10000
  packet.resize(10000, 'x');
  CHECK(split_startup_frame(as_bytes(packet).first(9999)).need_more());
  CHECK(split_startup_frame(as_bytes(packet)).ok());
  const auto over = split_startup_frame(as_bytes("\0\0\x27\x11"sv));  // 10001, header only
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == decode_errc::too_large);
}

TEST_CASE("message_writer patches the length word to count itself and the body", "[pg][codec][framing]") {
  std::string out = "prefix";
  {
    message_writer w(out, 'Q');
    w.cstring("SELECT 1");
  }
  CHECK(out == "prefixQ\0\0\0\x0dSELECT 1\0"s);
}

TEST_CASE("message_writer writes no type byte for startup packets", "[pg][codec][framing]") {
  std::string out;
  message_writer(out, '\0').u32(protocol_version_3_0).u8(0);
  CHECK(out == "\0\0\0\x09\0\x03\0\0\0"s);
}

TEST_CASE("message_writer finish is idempotent and the destructor does not write again",
          "[pg][codec][framing]") {
  std::string out;
  {
    message_writer w(out, 'S');
    w.finish();
    w.finish();
  }
  CHECK(out == "S\0\0\0\x04"s);
}

TEST_CASE("message_writer writes every integer width big-endian", "[pg][codec][framing]") {
  std::string out;
  message_writer(out, 'x')
      .u8(0xab)
      .i16(-2)
      .i16(128)
      .i32(-1)
      .u32(0x01020304)
      .bytes("ab"sv)
      .bytes(as_bytes("c"));
  CHECK(out ==
        "x\0\0\0\x14\xab\xff\xfe\x00\x80\xff\xff\xff\xff\x01\x02\x03\x04"
        "abc"s);
}

TEST_CASE("message_writer cuts a string at an embedded NUL so it cannot forge further fields",
          "[pg][codec][framing]") {
  std::string out;
  message_writer(out, 'C').cstring("INSERT 0 1\0Mforged"sv);
  CHECK(out == "C\0\0\0\x0fINSERT 0 1\0"s);
}

TEST_CASE("body-less messages encode as a bare header and decode only when empty", "[pg][codec][framing]") {
  for (const char type :
       {frontend_type::sync, frontend_type::flush, frontend_type::terminate, frontend_type::copy_done,
        backend_type::bind_complete, backend_type::close_complete, backend_type::no_data,
        backend_type::empty_query_response, backend_type::parse_complete, backend_type::portal_suspended}) {
    std::string out;
    encode_empty(out, type);
    CHECK(out == std::string(1, type) + "\0\0\0\x04"s);
    const frame f = pg::test::whole_frame(out);
    CHECK(f.type == type);
    CHECK(decode_empty(f).ok());
  }
  const std::string body = "\0"s;
  const auto d = decode_empty(frame{'S', as_bytes(body), {}});
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == decode_errc::malformed);
}

TEST_CASE("a stream fed one byte at a time yields each message exactly once", "[pg][codec][framing]") {
  std::string stream;
  query{"SELECT 1"}.encode(stream);
  parse{"s1", "SELECT $1", {23}}.encode(stream);
  encode_empty(stream, frontend_type::sync);
  copy_data{as_bytes("1\tx\n")}.encode(stream);
  encode_empty(stream, frontend_type::terminate);

  std::string buffer;
  std::string types;
  for (const char c : stream) {
    buffer.push_back(c);
    for (;;) {
      const auto f = split_frame(as_bytes(buffer), 1 << 20);
      if (f.need_more()) break;
      REQUIRE(f.ok());
      types.push_back(f->type);
      buffer.erase(0, f->whole.size());
    }
  }
  CHECK(types == "QPSdX");
  CHECK(buffer.empty());
}

#include <limits>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "protocol/byte_reader.hpp"

using namespace std::literals;
using phigate::as_bytes;
using phigate::as_chars;
using phigate::byte_reader;

TEST_CASE("byte_reader reads big-endian integers in PostgreSQL wire order", "[codec][byte_reader]") {
  const std::string bytes = "\x01\x02\x03\x04\x05\x06\x07\x80\xff\xff\xff\xfe"s;
  byte_reader r(as_bytes(bytes));
  CHECK(r.read_u8() == 0x01);
  CHECK(r.read_u16_be() == 0x0203);
  CHECK(r.read_u32_be() == 0x04050607u);
  CHECK(r.read_u8() == 0x80);
  CHECK(r.read_i32_be() == -2);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("byte_reader reads signed values without sign-extension mistakes at 128", "[codec][byte_reader]") {
  const std::string bytes = "\x00\x80\xff\x7f\x80\x00\x00\x00\x00\x00\x00\x80"s;
  byte_reader r(as_bytes(bytes));
  CHECK(r.read_i16_be() == 128);
  CHECK(r.read_i16_be() == -129);
  CHECK(r.read_i32_be() == std::numeric_limits<std::int32_t>::min());
  CHECK(r.read_i32_be() == 128);
  CHECK(r.ok());
}

TEST_CASE("byte_reader reads little-endian integers in MySQL wire order", "[codec][byte_reader]") {
  const std::string bytes = "\x01\x02\x01\x02\x03\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x88"s;
  byte_reader r(as_bytes(bytes));
  CHECK(r.read_u16_le() == 0x0201);
  CHECK(r.read_u24_le() == 0x030201u);
  CHECK(r.read_u32_le() == 0x04030201u);
  CHECK(r.read_u64_le() == 0x8807060504030201ull);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("byte_reader reads NUL-terminated strings without the terminator", "[codec][byte_reader]") {
  const std::string bytes = "user\0\0alice\0"s;
  byte_reader r(as_bytes(bytes));
  CHECK(r.read_cstring() == "user");
  CHECK(r.read_cstring().empty());
  CHECK(r.read_cstring() == "alice");
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("byte_reader fails a string that has no terminator before the end", "[codec][byte_reader]") {
  const std::string bytes = "user"s;
  byte_reader r(as_bytes(bytes));
  CHECK(r.read_cstring().empty());
  CHECK_FALSE(r.ok());
  CHECK(r.position() == 0);
}

TEST_CASE("byte_reader reads exact byte counts and the rest", "[codec][byte_reader]") {
  const std::string bytes = "abcdef"s;
  byte_reader r(as_bytes(bytes));
  CHECK(as_chars(r.read_bytes(0)).empty());
  CHECK(as_chars(r.read_bytes(2)) == "ab");
  CHECK(r.remaining() == 4);
  CHECK(as_chars(r.read_rest()) == "cdef");
  CHECK(r.at_end());
  CHECK(as_chars(r.read_rest()).empty());
  CHECK(r.ok());
}

TEST_CASE("byte_reader fails every read that would pass the end and stays failed", "[codec][byte_reader]") {
  const std::string bytes = "\x01\x02\x03"s;
  SECTION("u32 from three bytes") {
    byte_reader r(as_bytes(bytes));
    CHECK(r.read_u32_be() == 0);
    CHECK_FALSE(r.ok());
    CHECK(r.remaining() == 0);
  }
  SECTION("a byte count one beyond the end") {
    byte_reader r(as_bytes(bytes));
    CHECK(r.read_bytes(4).empty());
    CHECK_FALSE(r.ok());
  }
  SECTION("a huge byte count does not wrap around") {
    byte_reader r(as_bytes(bytes));
    r.read_u8();
    CHECK(r.read_bytes(std::numeric_limits<std::size_t>::max()).empty());
    CHECK_FALSE(r.ok());
  }
  SECTION("reads after a failure return zero values even when bytes would suffice") {
    byte_reader r(as_bytes(bytes));
    r.read_bytes(10);
    CHECK(r.read_u8() == 0);
    CHECK(r.read_u16_be() == 0);
    CHECK(r.read_u24_le() == 0);
    CHECK(r.read_cstring().empty());
    CHECK(r.read_rest().empty());
    CHECK_FALSE(r.ok());
    CHECK(r.remaining() == 0);
  }
  SECTION("each integer width fails alone on an empty input") {
    const std::string empty;
    byte_reader a(as_bytes(empty));
    a.read_u8();
    byte_reader b(as_bytes(empty));
    b.read_u16_le();
    byte_reader c(as_bytes(empty));
    c.read_u32_le();
    byte_reader d(as_bytes(empty));
    d.read_u64_le();
    CHECK_FALSE(a.ok());
    CHECK_FALSE(b.ok());
    CHECK_FALSE(c.ok());
    CHECK_FALSE(d.ok());
  }
}

TEST_CASE("byte_reader over an empty span is at its end and ok", "[codec][byte_reader]") {
  byte_reader r(phigate::byte_span{});
  CHECK(r.ok());
  CHECK(r.at_end());
  CHECK(r.remaining() == 0);
  CHECK(r.read_rest().empty());
  CHECK(r.ok());
}

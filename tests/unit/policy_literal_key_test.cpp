#include <catch2/catch.hpp>

#include <string>

#include "policy/literal_key.hpp"

using namespace phigate::policy;

namespace {

std::string key_of(std::string_view sql) {
  const auto key = make_literal_key(sql);
  return key ? key->key : "<none>";
}

}  // namespace

TEST_CASE("pgbench statements that differ only in literal values share a literal key", "[literal_key]") {
  const auto a = make_literal_key("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;");
  const auto b = make_literal_key("SELECT abalance FROM pgbench_accounts WHERE aid = 7;");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->key == b->key);
  CHECK(a->statement == "SELECT abalance FROM pgbench_accounts WHERE aid = 48213");
  REQUIRE(a->literals.size() == 1);
  CHECK(a->literals[0].offset == 50);
  CHECK(a->literals[0].length == 5);
  CHECK(a->literals[0].kind == literal_class::integer);
  CHECK(key_of("UPDATE pgbench_accounts SET abalance = abalance + -2500 WHERE aid = 1") ==
        key_of("UPDATE pgbench_accounts SET abalance = abalance + -17 WHERE aid = 99999"));
}

TEST_CASE("strings, integers and other numbers get different markers", "[literal_key]") {
  CHECK(key_of("SELECT 1") != key_of("SELECT '1'"));
  CHECK(key_of("SELECT 1") != key_of("SELECT 1.5"));
  CHECK(key_of("SELECT 1.5") == key_of("SELECT .5"));
  CHECK(key_of("SELECT 1.5") == key_of("SELECT 1e10"));
  CHECK(key_of("SELECT 2147483647") == key_of("SELECT 0"));
  // PostgreSQL's lexer turns integers beyond int32 into FCONST, which some rules do not accept.
  CHECK(key_of("SELECT 2147483648") == key_of("SELECT 1.0"));
  CHECK(key_of("SELECT 00000000001") == key_of("SELECT 1"));
  CHECK(key_of("SELECT 'it''s'") == key_of("SELECT 'x'"));
  const auto strings = make_literal_key("SELECT 'a', 'it''s'");
  REQUIRE(strings);
  REQUIRE(strings->literals.size() == 2);
  CHECK(strings->literals[1].offset == 12);
  CHECK(strings->literals[1].length == 7);
}

TEST_CASE("everything but literal values stays in the key", "[literal_key]") {
  CHECK(key_of("SELECT a FROM t WHERE b = 1") != key_of("SELECT a FROM t WHERE c = 1"));
  CHECK(key_of("SELECT a FROM t WHERE b = 1") != key_of("select a from t where b = 1"));
  CHECK(key_of("SELECT a FROM t WHERE b = 1") != key_of("SELECT a FROM t WHERE b =  1"));
  CHECK(key_of("SELECT a FROM t WHERE b = $1") != key_of("SELECT a FROM t WHERE b = $2"));
  CHECK(key_of("SELECT x1, \"Col 2\" FROM t2") == "SELECT x1, \"Col 2\" FROM t2");
  CHECK(key_of("SELECT a$1 FROM t") == "SELECT a$1 FROM t");
  CHECK(key_of("SELECT 1;") != key_of("SELECT 1"));
}

TEST_CASE("the statement text drops the trailing semicolon and surrounding whitespace", "[literal_key]") {
  const auto key = make_literal_key("  SELECT 1 ;  \n");
  REQUIRE(key);
  CHECK(key->statement == "SELECT 1");
}

TEST_CASE("the scanner refuses what it cannot tokenize exactly as PostgreSQL does", "[literal_key]") {
  for (const char* sql : {
           "SELECT $$x$$",           // dollar quote
           "SELECT $tag$x$tag$",     // tagged dollar quote
           "SELECT E'\\''",          // escape string
           "SELECT 'a\\'",           // backslash (standard_conforming_strings may be off)
           "SELECT e'x'",            // lower-case prefix
           "SELECT B'0101'",         // bit string
           "SELECT X'1F'",           // hex bit string
           "SELECT N'x'",            // national string
           "SELECT U&'d\\0061t'",    // Unicode escape string
           "SELECT U&\"d0061t\"",    // Unicode identifier
           "SELECT 1 -- comment",    // line comment
           "SELECT /* c */ 1",       // block comment
           "SELECT 1+--2\n3",        // comment inside an operator run
           "SELECT 1; SELECT 2",     // two statements
           "SELECT 1;;",             // empty second statement
           "SELECT 'unterminated",   // unterminated string
           "SELECT \"unterminated",  // unterminated identifier
           "SELECT \"a\"\"b\"",      // "" inside an identifier
           "SELECT \"\"",            // empty identifier
           "SELECT 'caf\xc3\xa9'",   // non-ASCII
           "SELECT 1\x01",           // control byte (also the key's marker bytes)
           "SELECT 1\f",             // form feed
           "SELECT 0x1F",            // number run into a letter
           "SELECT 1a",              // trailing junk
           "SELECT 1..2",            // number run into dots
           "SELECT 1.2.3",           // two decimal points
           "SELECT 1e",              // exponent without digits
           "SELECT 1'a'",            // number run into a quote
           "SELECT $1a",             // parameter run into a letter
           "SELECT \\x",             // backslash outside a string
           "",                       // empty
           "   ",                    // whitespace only
           ";",                      // empty statement
       }) {
    INFO(sql);
    CHECK_FALSE(make_literal_key(sql).has_value());
  }
  CHECK_FALSE(make_literal_key("SELECT '" + std::string(max_literal_key_input_bytes, 'x') + "'").has_value());
}

TEST_CASE("text without literals keys to itself", "[literal_key]") {
  const auto key = make_literal_key("BEGIN");
  REQUIRE(key);
  CHECK(key->key == "BEGIN");
  CHECK(key->literals.empty());
}

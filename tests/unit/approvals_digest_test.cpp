#include "approvals/digest.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using phigate::approvals::canonical_digest_encoding;
using phigate::approvals::compute_digest;
using phigate::approvals::digest_input;

namespace {

digest_input base_input() {
  digest_input in;
  in.statements = {"SELECT * FROM patients WHERE id = $1", "COPY patients TO STDOUT"};
  in.parameters = {{std::string("17")}, {}};
  in.parameter_formats = {{0}, {}};
  in.database = "clinic";
  in.upstream_role = "clinic_reader";
  in.requester = "bob";
  in.settings = {{"search_path", "public"}, {"client_encoding", "UTF8"}, {"role", "none"}};
  return in;
}

}  // namespace

TEST_CASE("a digest is 64 lowercase hex characters and the same for the same input", "[approvals][digest]") {
  const auto digest = compute_digest(base_input());
  CHECK(digest.size() == 64);
  CHECK(digest.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(compute_digest(base_input()) == digest);
}

TEST_CASE("the digest changes with every field that decides what runs", "[approvals][digest]") {
  const auto base = compute_digest(base_input());
  auto changed = base_input();

  SECTION("one byte of a statement") {
    changed.statements[1] = "COPY patients TO STDOUt";
  }
  SECTION("a statement added") {
    changed.statements.push_back("SELECT 1");
  }
  SECTION("a parameter value") {
    changed.parameters[0][0] = std::string("18");
  }
  SECTION("a parameter that is NULL instead of a value") {
    changed.parameters[0][0] = std::nullopt;
  }
  SECTION("a parameter format") {
    changed.parameter_formats[0][0] = 1;
  }
  SECTION("the database") {
    changed.database = "clinic2";
  }
  SECTION("the upstream role") {
    changed.upstream_role = "clinic_writer";
  }
  SECTION("the requester") {
    changed.requester = "alice";
  }
  SECTION("a setting value") {
    changed.settings[0].second = "evil, public";
  }
  SECTION("a setting added") {
    changed.settings.emplace_back("TimeZone", "UTC");
  }

  CHECK(compute_digest(changed) != base);
}

TEST_CASE("a NULL parameter and an empty string parameter have different digests", "[approvals][digest]") {
  auto with_null = base_input();
  auto with_empty = base_input();
  with_null.parameters[0][0] = std::nullopt;
  with_empty.parameters[0][0] = std::string();
  CHECK(compute_digest(with_null) != compute_digest(with_empty));
}

TEST_CASE("the digest does not depend on the order settings are given in", "[approvals][digest]") {
  auto reordered = base_input();
  std::reverse(reordered.settings.begin(), reordered.settings.end());
  CHECK(compute_digest(reordered) == compute_digest(base_input()));
}

TEST_CASE("moving bytes across field boundaries changes the digest", "[approvals][digest]") {
  digest_input a, b;
  SECTION("between statements") {
    a.statements = {"ab", "c"};
    b.statements = {"a", "bc"};
  }
  SECTION("between database and role") {
    a.database = "clinic";
    a.upstream_role = "reader";
    b.database = "clinicr";
    b.upstream_role = "eader";
  }
  SECTION("a parameter moved to the next statement") {
    a.statements = b.statements = {"s1", "s2"};
    a.parameters = {{std::string("x")}, {}};
    b.parameters = {{}, {std::string("x")}};
  }
  SECTION("a setting name and value") {
    a.settings = {{"search_path", "a,b"}};
    b.settings = {{"search_path,a", "b"}};
  }
  CHECK(compute_digest(a) != compute_digest(b));
}

TEST_CASE("the canonical encoding starts with its version tag and length-prefixes every string",
          "[approvals][digest]") {
  digest_input in;
  in.database = "d";
  const std::string u64_zero(8, '\0');
  const auto u64 = [](unsigned char n) { return std::string(7, '\0') + static_cast<char>(n); };
  const std::string expected = u64(26) + "phigate.approval-digest.v1" + u64(1) + "d" + u64_zero + u64_zero +
                               u64_zero /* statements */ + u64_zero /* parameters */ +
                               u64_zero /* formats */ + u64_zero /* settings */;
  CHECK(canonical_digest_encoding(in) == expected);
}

TEST_CASE("the digest is the SHA-256 of the canonical encoding", "[approvals][digest]") {
  // SHA-256 of the documented encoding of an all-empty input, computed independently (Python hashlib).
  CHECK(compute_digest(digest_input{}) == "e3bb376a739f1bc06a3ad0a9fa2272d295598c3f3c075fcdcd246bc22728821c");
}

// The transforms one detection can go through: exact outputs, determinism under a key, format preservation,
// and the promise that no transform writes a delimiter, quote, backslash or line break of its own.
#include <catch2/catch.hpp>

#include <string>

#include "masking/transforms.hpp"

using namespace phigate::masking;

namespace {

const masking_key key_one{"k1", "0123456789abcdef0123456789abcdef"};
const masking_key key_two{"k2", "fedcba9876543210fedcba9876543210"};

// The character class of each byte: 'd' digit, 'U' upper, 'l' lower, else the byte itself.
std::string shape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      out.push_back('d');
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back('U');
    } else if (c >= 'a' && c <= 'z') {
      out.push_back('l');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool writes_no_structure(std::string_view original, std::string_view masked) {
  for (char c : std::string_view(",\t\n\r\"\\'{}:")) {
    const auto before = std::count(original.begin(), original.end(), c);
    const auto after = std::count(masked.begin(), masked.end(), c);
    if (after > before) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("transform names round-trip and unknown names are rejected", "[masking][transforms]") {
  for (auto kind :
       {transform_kind::redact, transform_kind::partial, transform_kind::pseudonym, transform_kind::hash,
        transform_kind::null, transform_kind::safe_harbor_date, transform_kind::zip3}) {
    CHECK(parse_transform_kind(to_string(kind)) == kind);
  }
  CHECK_FALSE(parse_transform_kind("Redact"));
  CHECK_FALSE(parse_transform_kind("mask"));
}

TEST_CASE("redact writes the type tag in brackets with only tag characters", "[masking][transforms]") {
  CHECK(redact("SSN") == "[SSN]");
  CHECK(redact("CREDIT_CARD") == "[CREDIT_CARD]");
  CHECK(redact("employee-id 7") == "[EMPLOYEEID7]");
  CHECK(redact("\"x\",\n") == "[X]");
}

TEST_CASE("partial stars letters and digits except the last N and keeps separators",
          "[masking][transforms]") {
  CHECK(partial("123-45-6789", 4) == "***-**-6789");
  CHECK(partial("(503) 819-7059", 4) == "(***) ***-7059");
  CHECK(partial("ann.lee@example.com", 4) == "***.***@******e.com");
  CHECK(partial("12", 4) == "12");
  CHECK(partial("123-45-6789", 0) == "***-**-****");
  // A non-ASCII letter is one character and becomes one star.
  CHECK(partial("Zoë-12", 2) == "***-12");
  CHECK(partial("José 1234", 4) == "**** 1234");
}

TEST_CASE("pseudonyms are deterministic per key and preserve the format", "[masking][transforms]") {
  const std::string ssn = pseudonym("123-45-6789", key_one);
  CHECK(ssn == pseudonym("123-45-6789", key_one));
  CHECK(ssn != pseudonym("123-45-6789", key_two));
  CHECK(ssn != "123-45-6789");
  CHECK(shape(ssn) == "ddd-dd-dddd");
  CHECK(pseudonym("123-45-6790", key_one) != ssn);
  const std::string email = pseudonym("Ann.Lee@Example.com", key_one);
  CHECK(shape(email) == "Ull.Ull@Ullllll.lll");
  // The key's id is a name only: renaming a key keeps its pseudonyms.
  CHECK(pseudonym("123-45-6789", masking_key{"renamed", key_one.bytes}) == ssn);
}

TEST_CASE("pseudonyms ignore formatting and case of the input", "[masking][transforms]") {
  const std::string dashed = pseudonym("123-45-6789", key_one);
  const std::string spaced = pseudonym("123 45 6789", key_one);
  CHECK(std::string_view(dashed).substr(0, 3) == std::string_view(spaced).substr(0, 3));
  CHECK(dashed.substr(4, 2) == spaced.substr(4, 2));
  CHECK(pseudonym("ann@x.org", key_one) == [&] {
    std::string lower = pseudonym("ANN@X.ORG", key_one);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
  }());
}

TEST_CASE("pseudonyms of long values and non-ASCII letters stay letters and digits",
          "[masking][transforms]") {
  const std::string long_digits(200, '7');
  const std::string p = pseudonym(long_digits, key_one);
  CHECK(p.size() == 200);
  CHECK(shape(p) == std::string(200, 'd'));
  CHECK(p != long_digits);
  CHECK(shape(pseudonym("Zoë", key_one)) == "Ull");
}

TEST_CASE("keyed hashes are hex HMAC-SHA256 cut to the configured length", "[masking][transforms]") {
  // RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
  const masking_key jefe{"jefe", "Jefe"};
  CHECK(keyed_hash("what do ya want for nothing?", jefe, 64) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(keyed_hash("what do ya want for nothing?", jefe, 16) == "5bdcc146bf60754e");
  CHECK(keyed_hash("what do ya want for nothing?", jefe, 0) == "5");
  CHECK(keyed_hash("what do ya want for nothing?", jefe, 500).size() == 64);
  CHECK(keyed_hash("x", key_one, 16) != keyed_hash("x", key_two, 16));
}

TEST_CASE("Safe Harbor dates keep the year only", "[masking][transforms]") {
  CHECK(safe_harbor_year("1958-08-28") == "1958");
  CHECK(safe_harbor_year("August 28, 1958") == "1958");
  CHECK(safe_harbor_year("6/24/1944") == "1944");
  CHECK(safe_harbor_year("24-Aug-2003") == "2003");
  CHECK(safe_harbor_year("19660511") == "1966");
  CHECK_FALSE(safe_harbor_year("6/24/44"));
  CHECK_FALSE(safe_harbor_year("yesterday"));
}

TEST_CASE("Safe Harbor years more than 89 years back show an age of 90", "[masking][transforms]") {
  CHECK(safe_harbor_year("1936-03-01", 2026) == "1936");  // 90: the oldest age a year may show
  CHECK(safe_harbor_year("1937-03-01", 2026) == "1937");
  CHECK(safe_harbor_year("1935-12-31", 2026) == "1936");  // 91: aggregated
  CHECK(safe_harbor_year("6/24/1901", 2026) == "1936");
  CHECK(safe_harbor_year("2003-08-24", 2026) == "2003");
}

TEST_CASE("ZIP3 keeps three digits and zeroes sparsely populated areas", "[masking][transforms]") {
  CHECK(zip3("02139") == "02100");
  CHECK(zip3("05659-5911") == "05600");
  CHECK(zip3("03601") == "00000");
  CHECK(zip3("89301") == "00000");
  CHECK_FALSE(zip3("12"));
}

TEST_CASE("no transform writes a delimiter, quote, backslash or line break of its own",
          "[masking][transforms]") {
  for (std::string value :
       {"123-45-6789", "a\"b,c\td\\e", "Zoë Smith", "x@y.com", "\xff\xfe broken utf-8 \xc3"}) {
    CHECK(writes_no_structure(value, redact(value)));
    CHECK(writes_no_structure(value, partial(value, 4)));
    CHECK(writes_no_structure(value, pseudonym(value, key_one)));
    CHECK(writes_no_structure(value, keyed_hash(value, key_one, 64)));
    CHECK(writes_no_structure(value, safe_harbor_year(value).value_or("")));
    CHECK(writes_no_structure(value, zip3(value).value_or("")));
  }
}

TEST_CASE("rules pick the per-type transform, else the default, and know when a key is needed",
          "[masking][transforms]") {
  masking_rules rules;
  CHECK(rules.transform_for(entity_type::ssn) == transform_kind::redact);
  CHECK_FALSE(rules.needs_key());
  rules.per_type[entity_type::ssn] = transform_kind::partial;
  CHECK(rules.transform_for(entity_type::ssn) == transform_kind::partial);
  CHECK(rules.transform_for(entity_type::email) == transform_kind::redact);
  CHECK_FALSE(rules.needs_key());
  rules.per_type[entity_type::email] = transform_kind::hash;
  CHECK(rules.needs_key());
  rules.per_type.clear();
  rules.default_transform = transform_kind::pseudonym;
  CHECK(rules.needs_key());
}

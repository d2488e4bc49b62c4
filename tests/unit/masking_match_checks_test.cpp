#include <catch2/catch.hpp>

#include <string>

#include "masking/match_checks.hpp"
#include "masking/text_normalizer.hpp"

using namespace phigate::masking;

TEST_CASE("column names split into lower-case words on separators and camel case", "[masking]") {
  column_words snake("patient_SSN");
  CHECK(snake.has("patient"));
  CHECK(snake.has("ssn"));
  column_words camel("providerNpi");
  CHECK(camel.has("provider"));
  CHECK(camel.has("npi"));
  CHECK_FALSE(column_words("order_id").has("ssn"));
  CHECK_FALSE(column_words("").has(""));
}

TEST_CASE("column names that hold people or streets are recognised, look-alikes are not", "[masking]") {
  CHECK(column_words("full_name").names_person());
  CHECK(column_words("last_name").names_person());
  CHECK(column_words("patient").names_person());
  CHECK_FALSE(column_words("product_name").names_person());
  CHECK_FALSE(column_words("host_name").names_person());
  CHECK(column_words("street").names_street());
  CHECK(column_words("address_line1").names_street());
  CHECK_FALSE(column_words("email_address").names_street());
  CHECK_FALSE(column_words("ip_address").names_street());
  CHECK(column_words("order_id").names_other_identifier());
  CHECK(column_words("tracking_no").names_other_identifier());
  CHECK_FALSE(column_words("phone_number").names_other_identifier());
  CHECK_FALSE(column_words("notes").names_other_identifier());
}

TEST_CASE("token edges reject candidates glued to a longer token", "[masking]") {
  std::string text = "v1.2.3.4 and 10.0.0.1, ACCT-0170386614 SSN:123-45-6789";
  CHECK_FALSE(token_edges_ok(text, {1, 8}));    // after "v"
  CHECK(token_edges_ok(text, {13, 21}));        // "10.0.0.1" followed by ","
  CHECK_FALSE(token_edges_ok(text, {28, 38}));  // digits after "ACCT-"
  CHECK(token_edges_ok(text, {43, 54}));        // after the "SSN:" label
  std::string stamp = "2024-03-05T10:22:00Z";
  CHECK_FALSE(token_edges_ok(stamp, {0, 10}));
  CHECK(date_time_edges_ok(stamp, {0, 10}));
}

TEST_CASE("context words count only nearby and within the same clause", "[masking]") {
  const std::vector<std::string> npi = {"npi"};
  std::string text = "NPI 1234567893; order 1234567893 shipped";
  CHECK(context_word_near(text, {4, 14}, npi, 40));
  CHECK_FALSE(context_word_near(text, {22, 32}, npi, 40));
  std::string after = "provider 1234567893 (NPI)";
  CHECK(context_word_near(after, {9, 19}, npi, 40));
  std::string far = "NPI is listed below for the record of this visit 1234567893";
  CHECK_FALSE(context_word_near(far, {49, 59}, npi, 40));
  CHECK(context_word_in("see the NPI", npi));
  CHECK_FALSE(context_word_in("snpix", npi));
}

TEST_CASE("five-digit ZIPs follow a street address or a state code", "[masking]") {
  std::string text = "Home 12 Elm Street, Springfield, 01105";
  std::vector<text_span> addresses = {{5, 18}};
  CHECK(zip5_follows_address(text, {33, 38}, addresses));
  CHECK_FALSE(zip5_follows_address(text, {33, 38}, {}));
  std::string state = "Boston, MA 02139";
  CHECK(zip5_follows_address(state, {11, 16}, {}));
  CHECK(may_hold_address(text));
  CHECK_FALSE(may_hold_address("lot 00123 closed"));
}

TEST_CASE("bare capitalised words pass as names only away from streets, headings and common words",
          "[masking]") {
  std::string text = "Spoke with Marlene O'Hara at Mercy Hospital";
  CHECK(plausible_bare_name(text, {11, 25}));
  CHECK_FALSE(plausible_bare_name(text, {29, 43}));  // "Hospital"
  std::string street = "lives at 12 Corkery Oval";
  CHECK_FALSE(plausible_bare_name(street, {12, 24}));
  std::string heading = "Home Address: none";
  CHECK_FALSE(plausible_bare_name(heading, {0, 12}));
}

TEST_CASE("span rules trim URLs and drop titles", "[masking]") {
  std::string url = "see https://example.org/a_(b)). next";
  auto s = apply_span_rule(span_rule::trim_punctuation, url, {4, 31});
  REQUIRE(s);
  CHECK(url.substr(s->start, s->end - s->start) == "https://example.org/a_(b)");
  std::string title = "Dr. Robbie Mraz";
  s = apply_span_rule(span_rule::after_title, title, {0, title.size()});
  REQUIRE(s);
  CHECK(title.substr(s->start, s->end - s->start) == "Robbie Mraz");
  CHECK_FALSE(apply_span_rule(span_rule::after_title, "Dr.", {0, 3}));
}

TEST_CASE("whole-cell shapes for names and street lines", "[masking]") {
  CHECK(looks_like_person_name("Macy O'Hara"));
  CHECK(looks_like_person_name("  Ludwig van Beethoven "));
  CHECK(looks_like_person_name("Zakary"));
  CHECK_FALSE(looks_like_person_name("jsmith"));
  CHECK_FALSE(looks_like_person_name("MRN-1234"));
  CHECK_FALSE(looks_like_person_name(""));
  CHECK(looks_like_street_line("413 Broadway"));
  CHECK_FALSE(looks_like_street_line("Broadway"));
  CHECK_FALSE(looks_like_street_line("1234567 x"));
}

TEST_CASE("normalizer folds look-alikes and maps every byte back", "[masking]") {
  text_normalizer n;
  CHECK_FALSE(n.normalize("plain ascii"));
  // "１２" full width, a zero-width space, an en dash, a no-break space, then "9".
  std::string text =
      "\xEF\xBC\x91\xEF\xBC\x92\xE2\x80\x8B\xE2\x80\x93\xC2\xA0"
      "9";
  REQUIRE(n.normalize(text));
  CHECK(n.text() == "12- 9");
  CHECK(n.original_start(0) == 0);
  CHECK(n.original_end(0) == 3);
  CHECK(n.original_end(1) == 9);  // the dropped zero-width space belongs to the "2" before it
  CHECK(n.original_start(2) == 9);
  CHECK(n.original_start(3) == 12);
  CHECK(n.original_start(4) == 14);
  // Invalid UTF-8 passes through byte for byte.
  std::string broken =
      "a\xFF"
      "b";
  REQUIRE(n.normalize(broken));
  CHECK(n.text() == broken);
  CHECK(n.original_end(1) == 2);
}

// The built-in detector catalogue. Expressions stay in the PCRE subset Hyperscan compiles with
// HS_FLAG_SOM_LEFTMOST (no backreferences, no lookaround, no \b: word edges are checked in the second stage,
// which is cheaper than asking the automaton for them).
#include <algorithm>
#include <string>
#include <utility>

#include "masking/pattern_spec.hpp"

namespace phigate::masking {
namespace {

// USPS street suffixes (Publication 28, appendix C1), written out; "s?" covers the plural forms.
constexpr const char* street_suffixes =
    "Alley|Annex|Arcade|Avenue|Ave|Bayou|Beach|Bend|Bluff|Bottom|Boulevard|Blvd|Branch|Bridge|Brook|Burg|"
    "Bypass|Camp|Canyon|Cape|Causeway|Center|Centre|Circle|Cir|Cliff|Club|Common|Corner|Course|Court|Ct|Cove|"
    "Creek|Crescent|Crest|Crossing|Crossroad|Curve|Dale|Dam|Divide|Drive|Dr|Estate|Expressway|Expy|Extension|"
    "Fall|Ferry|Field|Flat|Ford|Forest|Forge|Fork|Fort|Freeway|Fwy|Garden|Gateway|Glen|Green|Grove|Harbor|"
    "Haven|Heights|Highway|Hwy|Hill|Hollow|Inlet|Island|Isle|Junction|Key|Knoll|Lake|Land|Landing|Lane|Ln|"
    "Light|Loaf|Lock|Lodge|Loop|Mall|Manor|Meadow|Mews|Mill|Mission|Motorway|Mount|Mountain|Neck|Orchard|"
    "Oval|Overpass|Park|Parkway|Pkwy|Pass|Passage|Path|Pike|Pine|Place|Pl|Plain|Plaza|Point|Port|Prairie|"
    "Radial|Ramp|Ranch|Rapid|Rest|Ridge|River|Road|Rd|Route|Row|Rue|Run|Shoal|Shore|Skyway|Spring|Spur|"
    "Square|Sq|Station|Stravenue|Stream|Street|St|Summit|Terrace|Ter|Throughway|Trace|Track|Trafficway|Trail|"
    "Trl|Tunnel|Turnpike|Underpass|Union|Valley|Via|Viaduct|View|Village|Ville|Vista|Walk|Wall|Way|Well";

constexpr const char* month_names =
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    "Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?";

// A capitalised name word: "Mraz", "O'Hara", "McClure", "Roob-Stehr".
constexpr const char* name_word = "[A-Z][A-Za-z'\\-]*[a-z]";

pattern_spec plain(entity_type type, std::string expression, validator_kind validator, int priority) {
  pattern_spec s;
  s.type = type;
  s.expression = std::move(expression);
  s.validator = validator;
  s.priority = priority;
  return s;
}

pattern_spec with_context(pattern_spec s, std::vector<std::string> words, std::vector<std::string> hints) {
  s.context = context_rule::required;
  s.context_words = std::move(words);
  s.column_hints = std::move(hints);
  return s;
}

// Bare numbers that usually stand alone (ten-digit phones, card numbers) unless the column says the value is
// some other identifier.
void unless_other_id_column(pattern_spec& s, std::vector<std::string> words, std::vector<std::string> hints) {
  s.context = context_rule::not_other_id_column;
  s.context_words = std::move(words);
  s.column_hints = std::move(hints);
}

void add_identifiers(std::vector<pattern_spec>& out) {
  using v = validator_kind;
  out.push_back(
      plain(entity_type::ssn, R"(\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{3}\.\d{2}\.\d{4})", v::ssn, 6));
  out.push_back(with_context(plain(entity_type::ssn, R"(\d{9})", v::ssn, 6),
                             {"ssn", "social security", "ss#", "soc sec", "ss no"},
                             {"ssn", "social", "socsec"}));
  out.push_back(
      plain(entity_type::phone,
            R"((?:\+?1[-. ]?)?(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,6})?)",
            v::phone, 3));
  out.back().caseless = true;
  out.push_back(plain(entity_type::phone, R"((?:\+?1)?\d{10})", v::phone, 3));
  unless_other_id_column(out.back(), {"phone", "tel", "telephone", "cell", "mobile", "fax", "call", "called"},
                         {"phone", "fax", "mobile", "cell", "tel", "telephone"});
  out.push_back(plain(entity_type::credit_card, R"([2-6](?:[- ]?\d){12,18})", v::credit_card, 5));
  // Unanchored, the exact form tracks every overlapping start (which earlier digits were 2-6): its own
  // stage-1 automaton would need tens of thousands of states. Thirteen digits with single separators is
  // necessary and small.
  out.back().trigger = R"(\d(?:[- ]?\d){12})";
  unless_other_id_column(out.back(), {"card", "visa", "mastercard", "amex", "discover", "cc"},
                         {"card", "cc", "pan", "payment"});
  out.push_back(
      with_context(plain(entity_type::npi, R"(\d{10})", v::npi, 7), {"npi", "national provider"}, {"npi"}));
  out.push_back(plain(entity_type::mbi,
                      R"([1-9][A-Za-z][A-Za-z0-9]\d-?[A-Za-z][A-Za-z0-9]\d-?[A-Za-z]{2}\d{2})", v::mbi, 6));
  out.push_back(plain(entity_type::dea, R"([A-Z][A-Z9]\d{7})", v::dea, 5));
  out.push_back(
      plain(entity_type::iban, R"([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)", v::iban, 6));
  out.back().trigger = R"([A-Z]{2}\d{2}[ ]?[A-Z0-9]{4}[ ]?[A-Z0-9]{4})";  // the shortest IBAN: small, exact
  out.push_back(with_context(plain(entity_type::aba_routing, R"(\d{9})", v::aba, 5),
                             {"routing", "aba", "rtn", "transit"}, {"routing", "aba", "rtn"}));
  out.push_back(plain(entity_type::account, R"((?i:acct)[-#:]?\d{6,17})", v::none, 4));
  out.push_back(with_context(plain(entity_type::account, R"(\d{6,17})", v::none, 2),
                             {"account", "acct", "a/c", "acct#"}, {"account", "acct"}));
}

void add_network(std::vector<pattern_spec>& out) {
  using v = validator_kind;
  out.push_back(plain(entity_type::email,
                      R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24})", v::none,
                      5));
  out.back().span = span_rule::free_edges;
  out.push_back(plain(entity_type::url, R"((?:https?|ftp)://[^\s<>"'{}|\\^`]+)", v::none, 4));
  out.back().caseless = true;
  out.back().span = span_rule::trim_punctuation;
  out.push_back(
      plain(entity_type::url, R"(www\.[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?:/[^\s<>"']*)?)", v::none, 4));
  out.back().caseless = true;
  out.back().span = span_rule::trim_punctuation;
  out.push_back(plain(entity_type::ip_address, R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})", v::ipv4, 4));
  out.push_back(plain(entity_type::ip_address, R"([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})", v::ipv6, 4));
}

void add_dates_and_places(std::vector<pattern_spec>& out) {
  using v = validator_kind;
  std::string months = month_names;
  out.push_back(
      plain(entity_type::date, R"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})", v::date, 3));
  out.push_back(
      plain(entity_type::date, "(?:" + months + R"()\.?[ ]\d{1,2}(?:st|nd|rd|th)?,?[ ]\d{4})", v::date, 3));
  out.back().caseless = true;
  out.push_back(plain(entity_type::date, R"(\d{1,2}(?:st|nd|rd|th)?[- ](?:)" + months + R"()\.?,?[- ]\d{4})",
                      v::date, 3));
  out.back().caseless = true;
  out.push_back(plain(entity_type::date, "(?:" + months + R"()\.?[ ]\d{4})", v::date, 3));  // "March 2020"
  out.back().caseless = true;
  out.push_back(
      with_context(plain(entity_type::date, R"(\d{1,2}/\d{1,2}/\d{2})", v::date, 3),
                   {"dob", "born", "birth", "date", "admitted", "discharged", "visit", "seen", "dos"},
                   {"dob", "birth", "birthdate", "date", "dt"}));
  out.push_back(with_context(plain(entity_type::date, R"(\d{8})", v::date, 3),
                             {"dob", "born", "birth", "birthday"},
                             {"dob", "birth", "birthdate", "birthday", "date", "dt"}));
  out.push_back(plain(entity_type::zip, R"(\d{5}-\d{4})", v::none, 2));
  out.push_back(plain(entity_type::zip, R"(\d{5})", v::none, 2));
  out.back().context = context_rule::zip5;
  out.back().context_words = {"zip", "zipcode", "zip code", "postal", "postcode", "postal code"};
  out.back().column_hints = {"zip", "zipcode", "postal", "postcode"};
}

void add_street_and_names(std::vector<pattern_spec>& out) {
  const std::string word = name_word;
  const std::string direction = R"((?:[ ](?:[NSEW]|NE|NW|SE|SW)\.?))";
  const std::string street_word = "(?:" + word + R"(|\d{1,3}(?:st|nd|rd|th)))";
  // "123 Elm Street", "9 W 42nd St. NE", "87450 W Main", "413 Broadway".
  out.push_back(plain(entity_type::address,
                      R"(\d{1,6})" + direction + "?(?:[ ]" + street_word + "){1,3}[ ](?:" + street_suffixes +
                          R"()s?\.?)" + direction + "?|" + R"(\d{1,6})" + direction + "[ ]" + word + "|" +
                          R"(\d{1,6})" + direction + "?[ ]Broadway",
                      validator_kind::none, 2));
  // "Dr. Robbie Mraz", "Pt Zakary Watsica", "patient Jo O'Hara": the title is evidence, the name follows.
  out.push_back(plain(entity_type::person,
                      R"((?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|[Pp]t|[Pp]atient|[Nn]urse)\.?[ ]+)" + word +
                          "(?:[ ](?:[A-Z]\\.[ ])?" + word + "){0,2}",
                      validator_kind::none, 1));
  out.back().span = span_rule::after_title;
  // Two or three capitalised words inside a sentence ("... called Zakary Watsica about ...").
  out.push_back(plain(entity_type::person, word + "(?:[ ]" + word + "){1,2}", validator_kind::none, 0));
  out.back().span = span_rule::bare_name;
}

void add_mrn(std::vector<pattern_spec>& out, const detector_config& config) {
  for (const mrn_shape& shape : config.mrn_shapes) {
    pattern_spec s = plain(entity_type::mrn, shape.pattern, validator_kind::none, 5);
    if (shape.needs_context) {
      s = with_context(std::move(s), {"mrn", "medical record", "mr#", "chart", "record no", "patient id"},
                       {"mrn", "medical", "chart"});
    }
    out.push_back(std::move(s));
  }
}

// Bare digit runs (context-bound SSN, NPI, ABA, MRN, account, compact date, ZIP, 10-digit phone) share
// stage-1 expressions by the run length they need: a run of six digits ("lot 000123") wakes the six-digit
// shapes but not the ten-digit phone, which needs no context word and so would always be located.
void share_digit_run_triggers(std::vector<pattern_spec>& specs) {
  static constexpr std::pair<std::string_view, std::string_view> runs[] = {
      {R"(\d{9})", R"(\d{9})"},    {R"(\d{10})", R"(\d{10})"}, {R"((?:\+?1)?\d{10})", R"(\d{10})"},
      {R"(\d{6,17})", R"(\d{6})"}, {R"(\d{8})", R"(\d{8})"},   {R"(\d{5})", R"(\d{5})"},
      {R"(\d{6,10})", R"(\d{6})"}};
  for (pattern_spec& s : specs) {
    auto run = std::find_if(std::begin(runs), std::end(runs),
                            [&](const auto& r) { return r.first == s.expression; });
    if (run != std::end(runs)) s.trigger = run->second;
  }
}

// The three month-name date shapes ("March 5, 2020", "5th Mar 2020", "March 2020") all hold a month's first
// three letters, maybe more letters, a separator and a digit: one exact, small stage-1 expression. Left to
// the stage-1 automaton's relaxation, the full month alternations turned into "a space and four digits".
void share_month_trigger(std::vector<pattern_spec>& specs) {
  static const std::string months = month_names;
  for (pattern_spec& s : specs) {
    if (s.type == entity_type::date && s.expression.find(months) != std::string::npos)
      s.trigger = R"((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?[- ]\d)";
  }
}

}  // namespace

std::vector<pattern_spec> builtin_pattern_specs(const detector_config& config) {
  std::vector<pattern_spec> all;
  add_identifiers(all);
  add_network(all);
  add_dates_and_places(all);
  add_street_and_names(all);
  add_mrn(all, config);
  share_digit_run_triggers(all);
  share_month_trigger(all);
  std::erase_if(all, [&](const pattern_spec& s) {
    return std::find(config.disabled.begin(), config.disabled.end(), s.type) != config.disabled.end();
  });
  return all;
}

}  // namespace phigate::masking

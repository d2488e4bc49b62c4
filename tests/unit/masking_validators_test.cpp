#include <catch2/catch.hpp>

#include "masking/validators.hpp"

using namespace phigate::masking;

TEST_CASE("luhn accepts check-digit-valid numbers and skips spaces and dashes", "[masking]") {
  CHECK(luhn_valid("79927398713"));
  CHECK(luhn_valid("4111 1111 1111 1111"));
  CHECK(luhn_valid("4111-1111-1111-1111"));
  CHECK_FALSE(luhn_valid("79927398710"));
  CHECK_FALSE(luhn_valid("4111x1111"));
  CHECK_FALSE(luhn_valid("0"));
  CHECK_FALSE(luhn_valid(""));
}

TEST_CASE("credit card needs 13 to 19 Luhn-valid digits with one separator style", "[masking]") {
  CHECK(credit_card_valid("4111111111111111"));
  CHECK(credit_card_valid("4111-1111-1111-1111"));
  CHECK(credit_card_valid("4111 1111 1111 1111"));
  CHECK(credit_card_valid("378282246310005"));            // Amex, 15 digits
  CHECK(credit_card_valid("3005-082460-1461"));           // Diners layout 4-6-4
  CHECK(credit_card_valid("4222222222222"));              // 13 digits
  CHECK_FALSE(credit_card_valid("4111111111111112"));     // Luhn fails
  CHECK_FALSE(credit_card_valid("4365383113278065"));     // Luhn fails
  CHECK_FALSE(credit_card_valid("4111 1111-1111 1111"));  // mixed separators
  CHECK_FALSE(credit_card_valid("4111--1111-1111-1111"));
  CHECK_FALSE(credit_card_valid("411111111116"));      // 12 digits
  CHECK_FALSE(credit_card_valid("1111111111111117"));  // no network starts with 1
}

TEST_CASE("npi is Luhn over the 80840 prefix and starts with 1 or 2", "[masking]") {
  CHECK(npi_valid("1234567893"));
  CHECK(npi_valid("2451598595"));
  CHECK_FALSE(npi_valid("1234567890"));
  CHECK_FALSE(npi_valid("3234567891"));
  CHECK_FALSE(npi_valid("123456789"));
  CHECK_FALSE(npi_valid("12345678930"));
  CHECK_FALSE(npi_valid("123456789X"));
}

TEST_CASE("dea needs a registrant letter and the weighted check digit", "[masking]") {
  CHECK(dea_valid("AB1234563"));
  CHECK(dea_valid("BT2086951"));
  CHECK(dea_valid("A91234563"));  // business-activity numbers use 9 as the second character
  CHECK_FALSE(dea_valid("AB1234564"));
  CHECK_FALSE(dea_valid("IB1234563"));  // I is not a registrant type
  CHECK_FALSE(dea_valid("ab1234563"));
  CHECK_FALSE(dea_valid("AB123456"));
  CHECK_FALSE(dea_valid("AB12345634"));
}

TEST_CASE("mbi follows the CMS position alphabet, with or without both dashes", "[masking]") {
  CHECK(mbi_valid("1EG4TE5MK73"));
  CHECK(mbi_valid("1EG4-TE5-MK73"));
  CHECK(mbi_valid("9X89-KP4-RW97"));
  CHECK(mbi_valid("1eg4te5mk73"));
  CHECK_FALSE(mbi_valid("1EG4-TE5MK73"));  // one dash only
  CHECK_FALSE(mbi_valid("0EG4TE5MK73"));   // position 1 is 1-9
  CHECK_FALSE(mbi_valid("1SG4TE5MK73"));   // S is excluded
  CHECK_FALSE(mbi_valid("1EGATE5MK73"));   // position 4 is numeric
  CHECK_FALSE(mbi_valid("1EG4TE5MK7"));
  CHECK_FALSE(mbi_valid("1EG4TE5M173"));  // position 9 is alphabetic
}

TEST_CASE("iban checks country length and mod 97", "[masking]") {
  CHECK(iban_valid("GB82 WEST 1234 5698 7654 32"));
  CHECK(iban_valid("GB82WEST12345698765432"));
  CHECK(iban_valid("DE89370400440532013000"));
  CHECK(iban_valid("gb82west12345698765432"));
  CHECK_FALSE(iban_valid("GB83WEST12345698765432"));  // check digits
  CHECK_FALSE(iban_valid("GB82WEST1234569876543"));   // GB is 22 long
  CHECK_FALSE(iban_valid("XX82WEST12345698765432"));  // no such country
  CHECK_FALSE(iban_valid("GB82-WEST-1234-5698-7654-32"));
}

TEST_CASE("aba routing numbers need a Federal Reserve prefix and the 3-7-1 checksum", "[masking]") {
  CHECK(aba_valid("011000015"));
  CHECK(aba_valid("021000021"));
  CHECK_FALSE(aba_valid("011000016"));
  CHECK_FALSE(aba_valid("991000018"));
  CHECK_FALSE(aba_valid("01100001"));
  CHECK_FALSE(aba_valid("01100001A"));
}

TEST_CASE("ssn rejects area 000, 666 and 9xx, group 00 and serial 0000", "[masking]") {
  CHECK(ssn_valid("123-45-6789"));
  CHECK(ssn_valid("123456789"));
  CHECK(ssn_valid("442 60 1670"));
  CHECK(ssn_valid("660.76.0266"));
  CHECK_FALSE(ssn_valid("000-12-3456"));
  CHECK_FALSE(ssn_valid("666-12-3456"));
  CHECK_FALSE(ssn_valid("900-12-3456"));
  CHECK_FALSE(ssn_valid("999-12-3456"));
  CHECK_FALSE(ssn_valid("123-00-4567"));
  CHECK_FALSE(ssn_valid("123-45-0000"));
  CHECK_FALSE(ssn_valid("123-45 6789"));  // mixed separators
  CHECK_FALSE(ssn_valid("12-345-6789"));  // wrong grouping
  CHECK_FALSE(ssn_valid("12345678"));
}

TEST_CASE("nanp phone needs area code and exchange starting 2-9", "[masking]") {
  CHECK(nanp_phone_valid("(617) 555-0123"));
  CHECK(nanp_phone_valid("+1-617-366-9437"));
  CHECK(nanp_phone_valid("6176816018"));
  CHECK(nanp_phone_valid("713-498-4182 x866"));
  CHECK_FALSE(nanp_phone_valid("1079727142"));    // area code starts with 0 after the country 1
  CHECK_FALSE(nanp_phone_valid("617-155-0123"));  // exchange starts with 1
  CHECK_FALSE(nanp_phone_valid("911-555-0123"));  // N11 service code
  CHECK_FALSE(nanp_phone_valid("617-555-012"));
}

TEST_CASE("ip addresses are validated octet by octet and group by group", "[masking]") {
  CHECK(ipv4_valid("192.168.0.1"));
  CHECK(ipv4_valid("0.0.0.0"));
  CHECK_FALSE(ipv4_valid("256.1.1.1"));
  CHECK_FALSE(ipv4_valid("01.2.3.4"));
  CHECK_FALSE(ipv4_valid("1.2.3"));
  CHECK_FALSE(ipv4_valid("1.2.3.4.5"));
  CHECK(ipv6_valid("2001:db8::1"));
  CHECK(ipv6_valid("e518:d4a1:5b4e:be51:aade:05de:ecee:8adc"));
  CHECK(ipv6_valid("fe80::1ff:fe23:4567:890a"));
  CHECK_FALSE(ipv6_valid("a::b"));  // two groups: reads like C++, not an address
  CHECK_FALSE(ipv6_valid("12:30:45"));
  CHECK_FALSE(ipv6_valid("1:2:3:4:5:6:7:8:9"));
  CHECK_FALSE(ipv6_valid("1::2::3"));
  CHECK_FALSE(ipv6_valid("12345::1:2"));
}

TEST_CASE("dates must exist in the calendar in every supported layout", "[masking]") {
  CHECK(date_valid("1935-02-28"));
  CHECK(date_valid("2019/05/01"));
  CHECK(date_valid("11/05/1966"));
  CHECK(date_valid("24/12/1966"));  // day first
  CHECK(date_valid("2/29/2000"));
  CHECK(date_valid("24-Aug-2003"));
  CHECK(date_valid("August 28, 1958"));
  CHECK(date_valid("Sept 6, 2009"));
  CHECK(date_valid("4th March 1963"));
  CHECK(date_valid("March 2020"));
  CHECK(date_valid("03/04/55"));
  CHECK(date_valid("20240723"));
  CHECK_FALSE(date_valid("1935-02-30"));
  CHECK_FALSE(date_valid("2/29/1900"));
  CHECK_FALSE(date_valid("13/13/2020"));
  CHECK_FALSE(date_valid("1800-01-01"));
  CHECK_FALSE(date_valid("Mar 32, 2020"));
  CHECK_FALSE(date_valid("Smarch 3, 2020"));
  CHECK_FALSE(date_valid("20241399"));
  CHECK_FALSE(date_valid("1.2.3"));
}

TEST_CASE("validator names parse and dispatch", "[masking]") {
  CHECK(parse_validator("") == validator_kind::none);
  CHECK(parse_validator("luhn") == validator_kind::luhn);
  CHECK(parse_validator("date") == validator_kind::date);
  CHECK_FALSE(parse_validator("crc32").has_value());
  CHECK(run_validator(validator_kind::none, "anything"));
  CHECK(run_validator(validator_kind::npi, "1234567893"));
  CHECK_FALSE(run_validator(validator_kind::npi, "1234567890"));
  CHECK(run_validator(validator_kind::aba, "011000015"));
}

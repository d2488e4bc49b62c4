// Check-digit and structure validators for identifiers. Each is a pure function of the candidate text as it
// appears in a cell (separators included) and returns true when the candidate is a plausible identifier of
// its kind. They never allocate and never throw.
#pragma once

#include <optional>
#include <string_view>

namespace phigate::masking {

/// Luhn (mod 10) check over the digits of `text`; spaces and dashes are skipped, any other non-digit fails.
/// Needs at least two digits.
bool luhn_valid(std::string_view text);

/// Payment card: 13-19 digits after removing one kind of separator (space or dash) used consistently,
/// leading digit 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay), Luhn.
bool credit_card_valid(std::string_view text);

/// NPI: exactly 10 digits starting with 1 or 2; the Luhn check over "80840" + the 10 digits holds.
bool npi_valid(std::string_view text);

/// DEA registration number: registrant-type letter, a second letter (or 9 for business-activity numbers),
/// seven digits where (d1 + d3 + d5) + 2 * (d2 + d4 + d6) ends in d7. Letters must be upper case.
bool dea_valid(std::string_view text);

/// Medicare Beneficiary Identifier: 11 characters (or 13 with dashes after positions 4 and 7) following
/// CMS's position alphabet: 1 numeric 1-9, 2 alpha, 3 alphanumeric, 4 numeric, 5 alpha, 6 alphanumeric,
/// 7 numeric, 8 alpha, 9 alpha, 10 numeric, 11 numeric; letters exclude S, L, O, I, B, Z. Case-insensitive.
bool mbi_valid(std::string_view text);

/// IBAN: country code with a known length, two check digits, BBAN; spaces allowed; mod 97 == 1 (ISO 13616).
bool iban_valid(std::string_view text);

/// ABA routing number: 9 digits, a valid Federal Reserve prefix (00-12, 21-32, 61-72, 80) and the
/// 3-7-1 weighted checksum.
bool aba_valid(std::string_view text);

/// SSN: 9 digits (separators "-", " " or "." between the 3-2-4 groups, used consistently, or none); area not
/// 000, 666 or 900-999, group not 00, serial not 0000.
bool ssn_valid(std::string_view text);

/// NANP phone: 10 digits after an optional leading 1 and separators, before any extension ("x866"); area code
/// and exchange start with 2-9 and the area code is not an N11 service code.
bool nanp_phone_valid(std::string_view text);

/// IPv4 dotted quad with every octet 0-255 and no leading zeros beyond a single "0".
bool ipv4_valid(std::string_view text);

/// IPv6 in full or "::"-compressed form with at least three groups written (so "a::b" in C++ code is not an
/// address).
bool ipv6_valid(std::string_view text);

/// A calendar date in one of the numeric layouts Y-M-D, M/D/Y or D/M/Y (separators "-", "/", "."; M/D/YY
/// too), with a month name ("Mar 4, 1963", "24-Aug-2003", "4 March 1963", "March 2020"), or 8 bare digits
/// as YYYYMMDD or MMDDYYYY.
/// Years 1900-2099; the day must exist in the month.
bool date_valid(std::string_view text);

/// The validators a custom detector may name in configuration.
enum class validator_kind { none, luhn, credit_card, npi, dea, mbi, iban, aba, ssn, phone, ipv4, ipv6, date };

/// Parses a validator name ("luhn", "npi", ...); "" is none; nullopt for unknown names.
std::optional<validator_kind> parse_validator(std::string_view name);

/// Runs the validator `kind` on `text` (none accepts everything).
bool run_validator(validator_kind kind, std::string_view text);

}  // namespace phigate::masking

// The kinds of protected health information the detectors report.
#pragma once

#include <optional>
#include <string_view>

namespace phigate::masking {

/// One kind of identifier. The names (see to_string) are the ones the policy file, the audit log and the
/// `detect` output use.
enum class entity_type {
  ssn,           ///< US Social Security number
  phone,         ///< US/NANP phone or fax number
  email,         ///< e-mail address
  credit_card,   ///< payment card number (Luhn-valid, 13-19 digits)
  npi,           ///< National Provider Identifier (Luhn over the 80840 prefix)
  mrn,           ///< medical record number (configurable shapes)
  mbi,           ///< Medicare Beneficiary Identifier
  dea,           ///< DEA registration number
  date,          ///< a calendar date (birth dates, visit dates)
  ip_address,    ///< IPv4 or IPv6 address
  url,           ///< web address
  zip,           ///< US ZIP or ZIP+4 code
  address,       ///< street address (best effort)
  person,        ///< person name (best effort)
  iban,          ///< international bank account number (mod 97)
  aba_routing,   ///< ABA bank routing number
  account,       ///< bank or billing account number
  custom,        ///< a detector defined in configuration; see detection::custom_index
  unclassified,  ///< the whole cell, when scanning had to stop early (fail closed)
};

/// Upper-case name ("SSN", "CREDIT_CARD", ...).
std::string_view to_string(entity_type type);

/// Inverse of to_string (case-insensitive); nullopt for unknown names.
std::optional<entity_type> parse_entity_type(std::string_view name);

}  // namespace phigate::masking

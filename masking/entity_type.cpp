#include "masking/entity_type.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace phigate::masking {
namespace {

constexpr std::array<std::pair<entity_type, std::string_view>, 19> names = {{
    {entity_type::ssn, "SSN"},
    {entity_type::phone, "PHONE"},
    {entity_type::email, "EMAIL"},
    {entity_type::credit_card, "CREDIT_CARD"},
    {entity_type::npi, "NPI"},
    {entity_type::mrn, "MRN"},
    {entity_type::mbi, "MBI"},
    {entity_type::dea, "DEA"},
    {entity_type::date, "DATE"},
    {entity_type::ip_address, "IP_ADDRESS"},
    {entity_type::url, "URL"},
    {entity_type::zip, "ZIP"},
    {entity_type::address, "ADDRESS"},
    {entity_type::person, "PERSON"},
    {entity_type::iban, "IBAN"},
    {entity_type::aba_routing, "ABA_ROUTING"},
    {entity_type::account, "ACCOUNT"},
    {entity_type::custom, "CUSTOM"},
    {entity_type::unclassified, "UNCLASSIFIED"},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(entity_type type) {
  for (const auto& [t, name] : names) {
    if (t == type) return name;
  }
  return "UNCLASSIFIED";
}

std::optional<entity_type> parse_entity_type(std::string_view name) {
  for (const auto& [t, n] : names) {
    if (iequals(n, name)) return t;
  }
  return std::nullopt;
}

}  // namespace phigate::masking

#include "approvals/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace phigate::approvals {
namespace {

// Fixed-width big-endian integers rather than separators: a separator byte could occur inside a
// statement or parameter, so "ab" + "c" and "a" + "bc" would collide.
void put_u64(std::string& out, std::uint64_t n) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
}

void put_string(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

void put_parameters(std::string& out, const std::vector<std::vector<std::optional<std::string>>>& params) {
  put_u64(out, params.size());
  for (const auto& statement_params : params) {
    put_u64(out, statement_params.size());
    for (const auto& value : statement_params) {
      // NULL and '' mean different things to the database, so they must hash differently.
      if (!value) {
        out.push_back('\0');
        continue;
      }
      out.push_back('\1');
      put_string(out, *value);
    }
  }
}

void put_formats(std::string& out, const std::vector<std::vector<std::int16_t>>& formats) {
  put_u64(out, formats.size());
  for (const auto& statement_formats : formats) {
    put_u64(out, statement_formats.size());
    for (const auto format : statement_formats) {
      const auto bits = static_cast<std::uint16_t>(format);
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits & 0xff));
    }
  }
}

}  // namespace

std::string canonical_digest_encoding(const digest_input& input) {
  std::string out;
  put_string(out, digest_encoding_tag);
  put_string(out, input.database);
  put_string(out, input.upstream_role);
  put_string(out, input.requester);
  put_u64(out, input.statements.size());
  for (const auto& statement : input.statements) put_string(out, statement);
  put_parameters(out, input.parameters);
  put_formats(out, input.parameter_formats);
  // The session reports settings in whatever order it tracks them; the meaning does not depend on it.
  auto settings = input.settings;
  std::sort(settings.begin(), settings.end());
  put_u64(out, settings.size());
  for (const auto& [name, value] : settings) {
    put_string(out, name);
    put_string(out, value);
  }
  return out;
}

std::string compute_digest(const digest_input& input) {
  const auto encoded = canonical_digest_encoding(input);
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int hash_len = 0;
  if (EVP_Digest(encoded.data(), encoded.size(), hash.data(), &hash_len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 of the approval digest input failed (OpenSSL EVP_Digest)");
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(hash_len * 2);
  for (unsigned int i = 0; i < hash_len; ++i) {
    out.push_back(hex[hash[i] >> 4]);
    out.push_back(hex[hash[i] & 0x0f]);
  }
  return out;
}

}  // namespace phigate::approvals

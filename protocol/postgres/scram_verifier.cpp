// SCRAM-SHA-256 stored verifiers in PostgreSQL's pg_authid.rolpassword format, and the primitives behind
// them.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>

#include "protocol/postgres/auth.hpp"
#include "protocol/postgres/scram_crypto.hpp"

namespace phigate::pg::scram {
namespace detail {

// OpenSSL failures below only happen when the library itself is broken (allocation failure, missing
// digest); they are never caused by peer bytes, so an exception is the right signal.
key hmac_sha256(std::string_view hmac_key, std::string_view data) {
  key out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr ||
      length != out.size()) {
    throw std::runtime_error("OpenSSL HMAC-SHA-256 failed");
  }
  return out;
}

key sha256(std::string_view data) {
  key out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != out.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

key salted_password(std::string_view password, std::string_view salt, int iterations) {
  key out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("OpenSSL PBKDF2-HMAC-SHA-256 failed");
  }
  return out;
}

bool equal_keys(const key& a, const key& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace detail

namespace {

constexpr std::size_t random_salt_bytes = 16;  // PostgreSQL's SCRAM_DEFAULT_SALT_LEN

bool decode_key(std::string_view text, std::array<std::uint8_t, 32>& out) {
  const auto raw = pg::base64_decode(text);
  if (!raw || raw->size() != out.size()) return false;
  std::copy(raw->begin(), raw->end(), out.begin());
  return true;
}

}  // namespace

std::string verifier::to_string() const {
  return std::string(mechanism) + "$" + std::to_string(iterations) + ":" + pg::base64_encode(salt) + "$" +
         pg::base64_encode(detail::as_view(stored_key)) + ":" +
         pg::base64_encode(detail::as_view(server_key));
}

std::optional<verifier> verifier::parse(std::string_view text) {
  // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, the same split as PostgreSQL's
  // parse_scram_secret().
  if (!text.starts_with(mechanism) || text.size() == mechanism.size() || text[mechanism.size()] != '$') {
    return std::nullopt;
  }
  text.remove_prefix(mechanism.size() + 1);
  const auto dollar = text.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  const std::string_view iter_salt = text.substr(0, dollar);
  const std::string_view keys = text.substr(dollar + 1);
  const auto colon1 = iter_salt.find(':');
  const auto colon2 = keys.find(':');
  if (colon1 == std::string_view::npos || colon2 == std::string_view::npos) return std::nullopt;

  verifier v;
  const std::string_view iter_text = iter_salt.substr(0, colon1);
  const auto [end, ec] = std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), v.iterations);
  if (ec != std::errc{} || end != iter_text.data() + iter_text.size() || v.iterations < 1)
    return std::nullopt;
  auto salt = pg::base64_decode(iter_salt.substr(colon1 + 1));
  if (!salt || salt->empty()) return std::nullopt;
  v.salt = std::move(*salt);
  if (!decode_key(keys.substr(0, colon2), v.stored_key) ||
      !decode_key(keys.substr(colon2 + 1), v.server_key)) {
    return std::nullopt;
  }
  return v;
}

verifier make_verifier(std::string_view password, std::string_view salt, int iterations) {
  const detail::key salted = detail::salted_password(password, salt, iterations);
  verifier v;
  v.iterations = iterations;
  v.salt = std::string(salt);
  v.stored_key = detail::sha256(detail::as_view(detail::client_key(salted)));
  v.server_key = detail::server_key(salted);
  return v;
}

verifier make_verifier(std::string_view password) {
  return make_verifier(password, random_bytes(random_salt_bytes));
}

verifier mock_verifier(std::string_view username, std::string_view server_secret) {
  // The salt must be stable per name (a salt that changes between attempts would reveal that the user does
  // not exist) and unpredictable without the secret. The keys are derived the same way, under other labels,
  // so no password can ever produce them: the exchange always ends in wrong_password.
  verifier v;
  v.iterations = default_iterations;
  const detail::key salt =
      detail::hmac_sha256(server_secret, "phigate mock salt\x1f" + std::string(username));
  v.salt = std::string(detail::as_view(salt).substr(0, random_salt_bytes));
  v.stored_key = detail::hmac_sha256(server_secret, "phigate mock stored key\x1f" + std::string(username));
  v.server_key = detail::hmac_sha256(server_secret, "phigate mock server key\x1f" + std::string(username));
  return v;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return out;
}

}  // namespace phigate::pg::scram

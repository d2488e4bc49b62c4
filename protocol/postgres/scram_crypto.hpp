// SCRAM-SHA-256 primitives shared by the verifier and the two exchange roles (RFC 5802 section 3).
// Internal to protocol/postgres.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace phigate::pg::scram::detail {

using key = std::array<std::uint8_t, 32>;

/// HMAC-SHA-256(key, data).
key hmac_sha256(std::string_view hmac_key, std::string_view data);
/// SHA-256(data).
key sha256(std::string_view data);
/// SaltedPassword := Hi(password, salt, iterations), i.e. PBKDF2-HMAC-SHA-256 with a 32-byte output.
key salted_password(std::string_view password, std::string_view salt, int iterations);

/// ClientKey := HMAC(SaltedPassword, "Client Key").
inline key client_key(const key& salted) {
  return hmac_sha256({reinterpret_cast<const char*>(salted.data()), salted.size()}, "Client Key");
}
/// ServerKey := HMAC(SaltedPassword, "Server Key").
inline key server_key(const key& salted) {
  return hmac_sha256({reinterpret_cast<const char*>(salted.data()), salted.size()}, "Server Key");
}

inline std::string_view as_view(const key& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

inline key xor_keys(const key& a, const key& b) {
  key out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

/// Constant-time comparison (CRYPTO_memcmp), so a proof check does not leak how many bytes matched.
bool equal_keys(const key& a, const key& b);

}  // namespace phigate::pg::scram::detail

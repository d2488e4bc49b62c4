// Password authentication math for PostgreSQL: SCRAM-SHA-256 (RFC 5802 / RFC 7677, as PostgreSQL speaks it)
// in both roles, and the legacy MD5 hash. Pure functions and small state machines over strings; OpenSSL for
// hashes and randomness. No I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phigate::pg::scram {

inline constexpr std::string_view mechanism = "SCRAM-SHA-256";
inline constexpr int default_iterations = 4096;  // PostgreSQL's scram_iterations default

/// A stored SCRAM secret, textually `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`
/// exactly as PostgreSQL keeps it in pg_authid.rolpassword.
struct verifier {
  int iterations = default_iterations;
  std::string salt;  ///< raw bytes
  std::array<std::uint8_t, 32> stored_key{};
  std::array<std::uint8_t, 32> server_key{};

  std::string to_string() const;
  static std::optional<verifier> parse(std::string_view text);
};

/// Derives a verifier for `password` (used as given: ASCII passwords are unchanged by SASLprep).
verifier make_verifier(std::string_view password, std::string_view salt, int iterations = default_iterations);
/// A verifier with a random 16-byte salt.
verifier make_verifier(std::string_view password);
/// A deterministic verifier for a user that does not exist, so that an unknown name fails the exchange
/// exactly like a wrong password instead of revealing itself (PostgreSQL's scram_mock_salt does the same).
verifier mock_verifier(std::string_view username, std::string_view server_secret);

/// Cryptographically random bytes (OpenSSL RAND_bytes).
std::string random_bytes(std::size_t n);

enum class status {
  ok,              ///< step done; `message` is what to send next (empty after the last client step)
  bad_message,     ///< the peer's message does not follow the protocol
  wrong_password,  ///< server side: the client proof does not match
  bad_server,      ///< client side: the server signature does not match (or the nonce was not extended)
};
struct step {
  status result;
  std::string message;
};

/// Server role: authenticates one client against a verifier. Call in order: on_client_first, on_client_final.
/// Accepts gs2 headers "n,," and "y,," (phigate never advertises SCRAM-SHA-256-PLUS); "p=" is bad_message.
class server_exchange {
 public:
  explicit server_exchange(verifier v, std::string server_nonce = {});  // empty → 18 random bytes, base64
  step on_client_first(std::string_view client_first_message);          ///< → server-first-message
  step on_client_final(std::string_view client_final_message);  ///< → server-final-message ("v=...")

 private:
  verifier v_;
  std::string server_nonce_;
  std::string gs2_header_;  ///< "n,," or "y,,": the client-final's c= must repeat it exactly
  std::string client_first_bare_;
  std::string server_first_;
  std::string combined_nonce_;
};

/// Client role: phigate authenticating to the upstream server. Call in order: client_first,
/// on_server_first, on_server_final.
class client_exchange {
 public:
  explicit client_exchange(std::string password, std::string client_nonce = {});  // empty → random
  std::string client_first();                                                     ///< "n,,n=,r=<nonce>"
  step on_server_first(std::string_view server_first_message);  ///< → client-final-message
  step on_server_final(std::string_view server_final_message);  ///< verifies the server signature

 private:
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string auth_message_;
  std::array<std::uint8_t, 32> salted_password_{};
};

}  // namespace phigate::pg::scram

namespace phigate::pg {

/// The reply to AuthenticationMD5Password: "md5" + hex(md5(hex(md5(password + user)) + salt)).
std::string md5_password_response(std::string_view user, std::string_view password,
                                  const std::array<std::byte, 4>& salt);

/// base64 (RFC 4648, with padding) used by SCRAM messages.
std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace phigate::pg

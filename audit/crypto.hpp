// The audit log's cryptography, over OpenSSL 3: SHA-256 for the chain, a keyed HMAC-SHA256 for statement
// text and parameters (a plain hash of a nine-digit number is reversed by trying them all), and Ed25519 for
// checkpoints. Every OpenSSL handle is owned by an RAII wrapper.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace phigate::audit {

/// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
/// Lowercase hex of bytes.
std::string to_hex(std::string_view bytes);
/// Bytes of lowercase or uppercase hex; nullopt on odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);

/// Characters of a hex HMAC-SHA256.
inline constexpr std::size_t hmac_hex_length = 64;

/// An HMAC-SHA256 key with an id that names it in records (so a rotated key can be told apart).
class hmac_key {
 public:
  hmac_key(std::string id, std::string_view secret);
  ~hmac_key();
  hmac_key(const hmac_key&) = delete;
  hmac_key& operator=(const hmac_key&) = delete;

  const std::string& id() const noexcept { return id_; }
  /// Lowercase hex HMAC-SHA256(secret, data). Thread-safe.
  std::string digest_hex(std::string_view data) const;
  /// Appends digest_hex(data) to `hex` (hmac_hex_length characters).
  void append_digest_hex(std::string& hex, std::string_view data) const;

 private:
  struct midstates;
  std::string id_;
  /// SHA-256 after the key's inner and outer pad blocks, worked out once (RFC 2104): each digest starts
  /// from plain copies of them, so it costs the data's blocks and two more, with no allocation (EVP_MAC
  /// allocates and copies provider contexts for every digest, which the audit writer paid per statement).
  std::unique_ptr<const midstates> pads_;
};

struct pkey_deleter {
  void operator()(EVP_PKEY* key) const noexcept;
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/// An Ed25519 private key (made by `openssl genpkey -algorithm ed25519 -out audit-signing.pem`).
class signing_key {
 public:
  /// Reads a PEM private key; returns nullopt and sets `error` when the file is unreadable or not Ed25519.
  static std::optional<signing_key> load_pem_file(const std::string& path, std::string& error);
  /// Reads a PEM private key from memory.
  static std::optional<signing_key> from_pem(std::string_view pem, std::string& error);

  /// The 64-byte Ed25519 signature of `message`, as hex.
  std::string sign_hex(std::string_view message) const;
  /// The public half, PEM ("-----BEGIN PUBLIC KEY-----").
  std::string public_pem() const;
  /// First 16 hex digits of SHA-256 over the raw public key: names the key in checkpoints.
  std::string key_id() const;

 private:
  explicit signing_key(pkey_ptr key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

/// An Ed25519 public key for verify.
class verify_key {
 public:
  /// Reads a PEM public key, or the public half of a PEM private key.
  static std::optional<verify_key> load_pem_file(const std::string& path, std::string& error);
  static std::optional<verify_key> from_pem(std::string_view pem, std::string& error);

  bool verify_hex(std::string_view message, std::string_view signature_hex) const;
  std::string key_id() const;

 private:
  explicit verify_key(pkey_ptr key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace phigate::audit

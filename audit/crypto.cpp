#include "audit/crypto.hpp"

// The HMAC below works on SHA-256's incremental interface (see hmac_key::pads_), which OpenSSL 3 marks
// deprecated in favour of EVP_MAC.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace phigate::audit {

namespace {

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;
struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  out = std::move(s).str();
  return true;
}

// Lowercase hex of `n` bytes into `out` (2n characters).
void write_hex(const unsigned char* bytes, std::size_t n, char* out) {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0xF];
  }
}

std::string raw_public_key(EVP_PKEY* key) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) return {};
  return std::string(reinterpret_cast<char*>(raw), len);
}

}  // namespace

void pkey_deleter::operator()(EVP_PKEY* key) const noexcept {
  EVP_PKEY_free(key);
}

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  write_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  // The writer hashes every record: fetching the algorithm once and reusing one context per thread skips
  // OpenSSL's per-call algorithm lookup and context allocation.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const md_ctx_ptr ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!sha256 || !ctx || EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
    return {};
  return to_hex(std::string_view(reinterpret_cast<char*>(digest), len));
}

struct hmac_key::midstates {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

hmac_key::hmac_key(std::string id, std::string_view secret) : id_(std::move(id)) {
  // RFC 2104: a key longer than the block is replaced by its hash; then zero-padded to one block.
  unsigned char block[SHA256_CBLOCK] = {};
  if (secret.size() > sizeof block) {
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), block);
  } else {
    std::memcpy(block, secret.data(), secret.size());
  }
  auto pads = std::make_unique<midstates>();
  unsigned char pad[SHA256_CBLOCK];
  for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x36);
  SHA256_Init(&pads->inner);
  SHA256_Update(&pads->inner, pad, sizeof pad);
  for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x5c);
  SHA256_Init(&pads->outer);
  SHA256_Update(&pads->outer, pad, sizeof pad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  pads_ = std::move(pads);
}

hmac_key::~hmac_key() {
  OPENSSL_cleanse(const_cast<midstates*>(pads_.get()), sizeof(midstates));
}

std::string hmac_key::digest_hex(std::string_view data) const {
  std::string out;
  append_digest_hex(out, data);
  return out;
}

void hmac_key::append_digest_hex(std::string& hex, std::string_view data) const {
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = pads_->inner;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner_digest, &ctx);
  ctx = pads_->outer;
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA256_Final(out, &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  char text[hmac_hex_length];
  static_assert(sizeof text == 2 * sizeof out);
  write_hex(out, sizeof out, text);
  hex.append(text, sizeof text);
}

std::optional<signing_key> signing_key::load_pem_file(const std::string& path, std::string& error) {
  std::string pem;
  if (!read_file(path, pem, error)) return std::nullopt;
  auto key = from_pem(pem, error);
  if (!key) error = path + ": " + error;
  return key;
}

std::optional<signing_key> signing_key::from_pem(std::string_view pem, std::string& error) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    error = "not a PEM private key (make one with `openssl genpkey -algorithm ed25519`)";
    return std::nullopt;
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    error = "the signing key must be Ed25519 (`openssl genpkey -algorithm ed25519`)";
    return std::nullopt;
  }
  return signing_key(std::move(key));
}

std::string signing_key::sign_hex(std::string_view message) const {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  // Ed25519 is a one-shot scheme: no digest is named, the message is signed whole.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1)
    return {};
  return to_hex(std::string_view(reinterpret_cast<char*>(sig), len));
}

std::string signing_key::public_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string signing_key::key_id() const {
  return sha256_hex(raw_public_key(key_.get())).substr(0, 16);
}

std::optional<verify_key> verify_key::load_pem_file(const std::string& path, std::string& error) {
  std::string pem;
  if (!read_file(path, pem, error)) return std::nullopt;
  auto key = from_pem(pem, error);
  if (!key) error = path + ": " + error;
  return key;
}

std::optional<verify_key> verify_key::from_pem(std::string_view pem, std::string& error) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // A private key file also carries the public half.
    bio_ptr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    error = "not a PEM Ed25519 public key";
    return std::nullopt;
  }
  return verify_key(std::move(key));
}

bool verify_key::verify_hex(std::string_view message, std::string_view signature_hex) const {
  const auto sig = from_hex(signature_hex);
  if (!sig) return false;
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

std::string verify_key::key_id() const {
  return sha256_hex(raw_public_key(key_.get())).substr(0, 16);
}

}  // namespace phigate::audit

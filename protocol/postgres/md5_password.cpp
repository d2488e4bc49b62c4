// PostgreSQL's legacy MD5 password response (AuthenticationMD5Password, request code 5).
#include <openssl/evp.h>

#include <stdexcept>

#include "protocol/postgres/auth.hpp"

namespace phigate::pg {
namespace {

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP rather than MD5(): the one-shot MD5() is deprecated in OpenSSL 3.
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL MD5 failed");
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string md5_password_response(std::string_view user, std::string_view password,
                                  const std::array<std::byte, 4>& salt) {
  // Same order as libpq's pg_md5_encrypt: the password comes first, the user name is the "salt" of the inner
  // hash; the outer hash runs over the inner hex digest followed by the server's 4 random bytes.
  std::string inner(password);
  inner += user;
  std::string outer = md5_hex(inner);
  outer.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return "md5" + md5_hex(outer);
}

}  // namespace phigate::pg

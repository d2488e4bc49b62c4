// SCRAM-SHA-256 exchanges in both roles, message for message as PostgreSQL speaks them
// (src/backend/libpq/auth-scram.c on the server side, src/interfaces/libpq/fe-auth-scram.c on the client
// side).
#include <charconv>
#include <optional>
#include <utility>

#include "protocol/postgres/auth.hpp"
#include "protocol/postgres/scram_crypto.hpp"

namespace phigate::pg::scram {
namespace {

constexpr std::size_t raw_nonce_bytes = 18;  // PostgreSQL's SCRAM_RAW_NONCE_LEN
constexpr std::string_view client_gs2_header = "n,,";
constexpr std::string_view client_cbind_b64 = "biws";  // base64("n,,")

step bad_message() {
  return {status::bad_message, {}};
}

/// Reads the comma-separated `<letter>=<value>` attributes of one SCRAM message, front to back.
class attribute_reader {
 public:
  explicit attribute_reader(std::string_view text) : text_(text) {}

  /// The next attribute's value if it is named `name`.
  std::optional<std::string_view> read(char name) {
    auto attr = read_any();
    if (!attr || attr->first != name) return std::nullopt;
    return attr->second;
  }

  /// The next attribute, whatever its name (RFC 5802 lets extensions appear; PostgreSQL skips them).
  std::optional<std::pair<char, std::string_view>> read_any() {
    if (pos_ + 2 > text_.size()) return std::nullopt;
    const char name = text_[pos_];
    const bool letter = (name >= 'a' && name <= 'z') || (name >= 'A' && name <= 'Z');
    if (!letter || text_[pos_ + 1] != '=') return std::nullopt;
    const std::size_t start = pos_ + 2;
    std::size_t comma = text_.find(',', start);
    more_ = comma != std::string_view::npos;
    if (!more_) comma = text_.size();
    pos_ = more_ ? comma + 1 : comma;
    return std::pair{name, text_.substr(start, comma - start)};
  }

  /// True when every attribute was read and the text did not end in a dangling comma.
  bool at_end() const { return pos_ == text_.size() && !more_; }
  std::size_t position() const { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  bool more_ = false;
};

/// RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','.
bool printable_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (const char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::optional<detail::key> decode_key(std::string_view text) {
  const auto raw = pg::base64_decode(text);
  if (!raw || raw->size() != detail::key{}.size()) return std::nullopt;
  detail::key out{};
  std::copy(raw->begin(), raw->end(), out.begin());
  return out;
}

std::optional<int> parse_iterations(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

}  // namespace

server_exchange::server_exchange(verifier v, std::string server_nonce)
    : v_(std::move(v)), server_nonce_(std::move(server_nonce)) {}

step server_exchange::on_client_first(std::string_view message) {
  if (!client_first_bare_.empty()) return bad_message();
  // gs2-header. 'p' asks for channel binding, which phigate never advertises (no SCRAM-SHA-256-PLUS), and an
  // authzid is refused like PostgreSQL does: the user name comes from the startup packet.
  if (message.size() < 3 || (message[0] != 'n' && message[0] != 'y') || message[1] != ',' ||
      message[2] != ',') {
    return bad_message();
  }
  const std::string_view bare = message.substr(3);
  attribute_reader reader(bare);
  // The user name is ignored (PostgreSQL sends it empty); a mandatory extension "m=" is not supported.
  const auto user = reader.read('n');
  const auto nonce = reader.read('r');
  if (!user || !nonce || !printable_nonce(*nonce)) return bad_message();
  while (!reader.at_end()) {
    if (!reader.read_any()) return bad_message();
  }

  if (server_nonce_.empty()) server_nonce_ = pg::base64_encode(random_bytes(raw_nonce_bytes));
  gs2_header_ = std::string(message.substr(0, 3));
  client_first_bare_ = std::string(bare);
  combined_nonce_ = std::string(*nonce) + server_nonce_;
  server_first_ =
      "r=" + combined_nonce_ + ",s=" + pg::base64_encode(v_.salt) + ",i=" + std::to_string(v_.iterations);
  return {status::ok, server_first_};
}

step server_exchange::on_client_final(std::string_view message) {
  if (combined_nonce_.empty()) return bad_message();
  attribute_reader reader(message);
  const auto cbind = reader.read('c');
  const auto cbind_raw = cbind ? pg::base64_decode(*cbind) : std::nullopt;
  if (!cbind_raw || *cbind_raw != gs2_header_) return bad_message();
  const auto nonce = reader.read('r');
  if (!nonce || *nonce != combined_nonce_) return bad_message();
  // Extensions may sit between r= and p=; the proof is always last and is not part of the AuthMessage.
  std::size_t proof_start = 0;
  std::optional<std::pair<char, std::string_view>> attr;
  do {
    proof_start = reader.position();
    attr = reader.read_any();
    if (!attr) return bad_message();
  } while (attr->first != 'p');
  const auto proof = decode_key(attr->second);
  if (!proof || !reader.at_end()) return bad_message();

  // One proof per exchange: a second client-final, right or wrong, is a protocol error.
  combined_nonce_.clear();
  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(message.substr(0, proof_start - 1));
  const detail::key client_signature = detail::hmac_sha256(detail::as_view(v_.stored_key), auth_message);
  const detail::key client_key = detail::xor_keys(*proof, client_signature);
  if (!detail::equal_keys(detail::sha256(detail::as_view(client_key)), v_.stored_key)) {
    return {status::wrong_password, {}};
  }
  const detail::key server_signature = detail::hmac_sha256(detail::as_view(v_.server_key), auth_message);
  return {status::ok, "v=" + pg::base64_encode(detail::as_view(server_signature))};
}

client_exchange::client_exchange(std::string password, std::string client_nonce)
    : password_(std::move(password)), client_nonce_(std::move(client_nonce)) {
  if (client_nonce_.empty()) client_nonce_ = pg::base64_encode(random_bytes(raw_nonce_bytes));
}

std::string client_exchange::client_first() {
  // Like libpq: no channel binding and an empty user name (the server takes it from the startup packet).
  client_first_bare_ = "n=,r=" + client_nonce_;
  auth_message_.clear();
  return std::string(client_gs2_header) + client_first_bare_;
}

step client_exchange::on_server_first(std::string_view message) {
  if (client_first_bare_.empty() || !auth_message_.empty()) return bad_message();
  attribute_reader reader(message);
  const auto nonce = reader.read('r');
  const auto salt_b64 = reader.read('s');
  const auto iterations_text = reader.read('i');
  if (!nonce || !salt_b64 || !iterations_text || !reader.at_end() || !printable_nonce(*nonce)) {
    return bad_message();
  }
  const auto salt = pg::base64_decode(*salt_b64);
  const auto iterations = parse_iterations(*iterations_text);
  if (!salt || salt->empty() || !iterations) return bad_message();
  // The server must extend our nonce; a server that echoes it (or replaces it) is replaying or confused.
  if (nonce->size() <= client_nonce_.size() || !nonce->starts_with(client_nonce_)) {
    return {status::bad_server, {}};
  }

  salted_password_ = detail::salted_password(password_, *salt, *iterations);
  const std::string without_proof = "c=" + std::string(client_cbind_b64) + ",r=" + std::string(*nonce);
  auth_message_ = client_first_bare_ + "," + std::string(message) + "," + without_proof;
  const detail::key client_key = detail::client_key(salted_password_);
  const detail::key stored_key = detail::sha256(detail::as_view(client_key));
  const detail::key proof =
      detail::xor_keys(client_key, detail::hmac_sha256(detail::as_view(stored_key), auth_message_));
  return {status::ok, without_proof + ",p=" + pg::base64_encode(detail::as_view(proof))};
}

step client_exchange::on_server_final(std::string_view message) {
  if (auth_message_.empty()) return bad_message();
  const std::string auth_message = std::exchange(auth_message_, {});
  attribute_reader reader(message);
  const auto attr = reader.read_any();
  if (!attr) return bad_message();
  // "e=" is the server refusing the proof (RFC 5802 server-error); PostgreSQL itself sends an ErrorResponse
  // instead, but either way the server did not prove it knows our verifier.
  if (attr->first == 'e') return {status::bad_server, {}};
  const auto signature = attr->first == 'v' ? decode_key(attr->second) : std::nullopt;
  if (!signature || !reader.at_end()) return bad_message();
  const detail::key expected =
      detail::hmac_sha256(detail::as_view(detail::server_key(salted_password_)), auth_message);
  if (!detail::equal_keys(*signature, expected)) return {status::bad_server, {}};
  return {status::ok, {}};
}

}  // namespace phigate::pg::scram

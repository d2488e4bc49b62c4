// Startup-phase packets: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
#include <algorithm>

#include "protocol/postgres/decode_helpers.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::pg {

namespace {

// SSLRequest and GSSENCRequest carry only their code; CancelRequest adds two Int32s (protocol 3.0).
constexpr std::size_t code_only_body_bytes = 4;
constexpr std::size_t cancel_body_bytes = 12;
constexpr std::uint32_t protocol_major_3 = 3;

bool has_repeated_name(const std::vector<std::pair<std::string_view, std::string_view>>& params) {
  std::vector<std::string_view> names;
  names.reserve(params.size());
  for (const auto& p : params) names.push_back(p.first);
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

// A repeated name would let the gateway and the server each believe a different value (the gateway reads
// the first "user", PostgreSQL keeps the last), so repeats are refused outright.
decoded<startup_packet> decode_startup_message(byte_reader& r, std::uint32_t protocol) {
  startup_message m;
  m.protocol = protocol;
  for (;;) {
    const std::string_view name = r.read_cstring();
    if (!r.ok()) return malformed("StartupMessage lacks its terminating empty parameter name");
    if (name.empty()) break;
    const std::string_view value = r.read_cstring();
    if (!r.ok()) return malformed("StartupMessage parameter value lacks its NUL terminator");
    m.params.emplace_back(name, value);
  }
  if (!r.at_end()) return malformed("bytes after the StartupMessage terminator");
  if (has_repeated_name(m.params)) return malformed("StartupMessage repeats a parameter name");
  return startup_packet{std::move(m)};
}

}  // namespace

std::optional<std::string_view> startup_message::param(std::string_view key) const {
  for (const auto& [name, value] : params) {
    if (name == key) return value;
  }
  return std::nullopt;
}

void startup_message::encode(std::string& out) const {
  message_writer w(out, '\0');
  w.u32(protocol);
  for (const auto& [name, value] : params) w.cstring(name).cstring(value);
  w.u8(0);
}

void ssl_request::encode(std::string& out) const {
  message_writer(out, '\0').u32(ssl_request_code);
}

void gssenc_request::encode(std::string& out) const {
  message_writer(out, '\0').u32(gssenc_request_code);
}

void cancel_request::encode(std::string& out) const {
  message_writer(out, '\0').u32(cancel_request_code).i32(process_id).i32(secret_key);
}

// The special request codes are recognised only at their exact lengths, as PostgreSQL does; a request code
// in a packet of another length is malformed rather than read as a StartupMessage of an odd version.
decoded<startup_packet> decode_startup_packet(const frame& f) {
  byte_reader r(f.body);
  const std::uint32_t code = r.read_u32_be();
  if (!r.ok()) return malformed("startup packet shorter than its protocol code");
  switch (code) {
    case ssl_request_code:
      if (f.body.size() != code_only_body_bytes) return malformed("SSLRequest length is not 8");
      return startup_packet{ssl_request{}};
    case gssenc_request_code:
      if (f.body.size() != code_only_body_bytes) return malformed("GSSENCRequest length is not 8");
      return startup_packet{gssenc_request{}};
    case cancel_request_code: {
      if (f.body.size() != cancel_body_bytes) return malformed("CancelRequest length is not 16");
      cancel_request c;
      c.process_id = r.read_i32_be();
      c.secret_key = r.read_i32_be();
      return startup_packet{c};
    }
    default:
      break;
  }
  if ((code >> 16) != protocol_major_3) return detail::unsupported("protocol major version is not 3");
  return decode_startup_message(r, code);
}

}  // namespace phigate::pg

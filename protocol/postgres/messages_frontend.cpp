// Frontend (client → server) typed messages. Decoders read f.body only; the caller dispatches on f.type
// (several types share a byte, e.g. every 'p' message, whose meaning depends on the authentication state).
#include "protocol/postgres/decode_helpers.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::pg {

using detail::finish;

decoded<password_message> password_message::decode(const frame& f) {
  byte_reader r(f.body);
  password_message m;
  m.password = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void password_message::encode(std::string& out) const {
  message_writer(out, frontend_type::password).cstring(password);
}

decoded<sasl_initial_response> sasl_initial_response::decode(const frame& f) {
  byte_reader r(f.body);
  sasl_initial_response m;
  m.mechanism = r.read_cstring();
  if (!r.ok()) return malformed("SASLInitialResponse mechanism lacks its NUL terminator");
  auto data = detail::read_nullable_bytes(r);
  if (!data) return data.error();
  m.data = *data;
  if (auto e = finish(r)) return *e;
  return m;
}

void sasl_initial_response::encode(std::string& out) const {
  message_writer w(out, frontend_type::password);
  w.cstring(mechanism);
  if (data) {
    w.i32(static_cast<std::int32_t>(data->size())).bytes(*data);
  } else {
    w.i32(-1);
  }
}

decoded<sasl_response> sasl_response::decode(const frame& f) {
  return sasl_response{f.body};
}

void sasl_response::encode(std::string& out) const {
  message_writer(out, frontend_type::password).bytes(data);
}

decoded<query> query::decode(const frame& f) {
  byte_reader r(f.body);
  query m;
  m.sql = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void query::encode(std::string& out) const {
  message_writer(out, frontend_type::query).cstring(sql);
}

decoded<parse> parse::decode(const frame& f) {
  byte_reader r(f.body);
  parse m;
  m.name = r.read_cstring();
  m.sql = r.read_cstring();
  if (!r.ok()) return malformed("Parse name or query lacks its NUL terminator");
  const auto count = detail::read_count16(r, 4);
  if (!count) return malformed("Parse parameter type count exceeds the message");
  m.param_types.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) m.param_types.push_back(r.read_u32_be());
  if (auto e = finish(r)) return *e;
  return m;
}

void parse::encode(std::string& out) const {
  message_writer w(out, frontend_type::parse);
  w.cstring(name).cstring(sql).i16(detail::count16(param_types.size()));
  for (const std::uint32_t t : param_types) w.u32(t);
}

namespace {

// Format code lists (Int16 count, then Int16 codes) appear twice in Bind.
decoded<std::vector<std::int16_t>> read_format_codes(byte_reader& r) {
  const auto count = detail::read_count16(r, 2);
  if (!count) return malformed("format code count exceeds the message");
  std::vector<std::int16_t> formats;
  formats.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    formats.push_back(r.read_i16_be());
    if (!detail::is_format_code(formats.back())) return malformed("format code is neither 0 nor 1");
  }
  return formats;
}

void write_format_codes(message_writer& w, const std::vector<std::int16_t>& formats) {
  w.i16(detail::count16(formats.size()));
  for (const std::int16_t f : formats) w.i16(f);
}

}  // namespace

// PostgreSQL accepts 0 parameter format codes (all text), 1 (applies to all) or exactly one per parameter
// (exec_bind_message); anything else is a protocol violation there, and here the gateway could not tell
// which format a parameter value is in.
decoded<bind> bind::decode(const frame& f) {
  byte_reader r(f.body);
  bind m;
  m.portal = r.read_cstring();
  m.statement = r.read_cstring();
  if (!r.ok()) return malformed("Bind portal or statement name lacks its NUL terminator");
  auto param_formats = read_format_codes(r);
  if (!param_formats) return param_formats.error();
  m.param_formats = std::move(*param_formats);
  const auto count = detail::read_count16(r, 4);
  if (!count) return malformed("Bind parameter count exceeds the message");
  m.params.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    auto value = detail::read_nullable_bytes(r);
    if (!value) return value.error();
    m.params.push_back(*value);
  }
  if (m.param_formats.size() > 1 && m.param_formats.size() != m.params.size()) {
    return malformed("Bind parameter format count is neither 0, 1 nor the parameter count");
  }
  auto result_formats = read_format_codes(r);
  if (!result_formats) return result_formats.error();
  m.result_formats = std::move(*result_formats);
  if (auto e = finish(r)) return *e;
  return m;
}

void bind::encode(std::string& out) const {
  message_writer w(out, frontend_type::bind);
  w.cstring(portal).cstring(statement);
  write_format_codes(w, param_formats);
  w.i16(detail::count16(params.size()));
  for (const auto& p : params) {
    if (p) {
      w.i32(static_cast<std::int32_t>(p->size())).bytes(*p);
    } else {
      w.i32(-1);
    }
  }
  write_format_codes(w, result_formats);
}

namespace {

// Describe and Close: 'S' (prepared statement) or 'P' (portal), then a name. PostgreSQL rejects any other
// kind byte as a protocol violation.
template <class M>
decoded<M> decode_kind_and_name(const frame& f) {
  byte_reader r(f.body);
  M m;
  m.kind = static_cast<char>(r.read_u8());
  m.name = r.read_cstring();
  if (auto e = finish(r)) return *e;
  if (m.kind != 'S' && m.kind != 'P') return malformed("kind is neither 'S' nor 'P'");
  return m;
}

}  // namespace

decoded<describe> describe::decode(const frame& f) {
  return decode_kind_and_name<describe>(f);
}

void describe::encode(std::string& out) const {
  message_writer(out, frontend_type::describe).u8(static_cast<std::uint8_t>(kind)).cstring(name);
}

decoded<close> close::decode(const frame& f) {
  return decode_kind_and_name<close>(f);
}

void close::encode(std::string& out) const {
  message_writer(out, frontend_type::close).u8(static_cast<std::uint8_t>(kind)).cstring(name);
}

// max_rows is passed through as sent: PostgreSQL treats zero and negative values alike as "no limit".
decoded<execute> execute::decode(const frame& f) {
  byte_reader r(f.body);
  execute m;
  m.portal = r.read_cstring();
  m.max_rows = r.read_i32_be();
  if (auto e = finish(r)) return *e;
  return m;
}

void execute::encode(std::string& out) const {
  message_writer(out, frontend_type::execute).cstring(portal).i32(max_rows);
}

decoded<copy_data> copy_data::decode(const frame& f) {
  return copy_data{f.body};
}

void copy_data::encode(std::string& out) const {
  message_writer(out, frontend_type::copy_data).bytes(data);
}

decoded<copy_fail> copy_fail::decode(const frame& f) {
  byte_reader r(f.body);
  copy_fail m;
  m.message = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void copy_fail::encode(std::string& out) const {
  message_writer(out, frontend_type::copy_fail).cstring(message);
}

decoded<std::monostate> decode_empty(const frame& f) {
  if (!f.body.empty()) return malformed("message must have an empty body");
  return std::monostate{};
}

void encode_empty(std::string& out, char type) {
  message_writer(out, type).finish();
}

}  // namespace phigate::pg

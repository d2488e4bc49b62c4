// Backend (server → client) messages. Decoders read f.body only; the caller dispatches on f.type.
#include <algorithm>

#include "protocol/postgres/decode_helpers.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::pg {

using detail::finish;

namespace {

// Bytes on the wire of one RowDescription field after its name: table OID, attnum, type OID, type size,
// type modifier, format code.
constexpr std::size_t field_fixed_bytes = 4 + 2 + 4 + 2 + 4 + 2;
constexpr std::size_t md5_salt_bytes = 4;

// AuthenticationSASL: mechanism names, each NUL-terminated, ended by an empty name.
decoded<std::vector<std::string_view>> read_mechanisms(byte_reader& r) {
  std::vector<std::string_view> mechanisms;
  for (;;) {
    const std::string_view name = r.read_cstring();
    if (!r.ok()) return malformed("AuthenticationSASL mechanism list lacks its terminating empty name");
    if (name.empty()) return mechanisms;
    mechanisms.push_back(name);
  }
}

}  // namespace

// Which fields follow the code depends on the code; an unknown code is well-formed but unsupported.
decoded<authentication> authentication::decode(const frame& f) {
  byte_reader r(f.body);
  authentication m;
  m.code = static_cast<auth_code>(r.read_i32_be());
  if (!r.ok()) return malformed("Authentication message shorter than its code");
  switch (m.code) {
    case auth_code::ok:
    case auth_code::kerberos_v5:
    case auth_code::cleartext_password:
    case auth_code::gss:
    case auth_code::sspi:
      break;
    case auth_code::md5_password: {
      const byte_span salt = r.read_bytes(md5_salt_bytes);
      if (r.ok()) std::copy(salt.begin(), salt.end(), m.md5_salt.begin());
      break;
    }
    case auth_code::sasl: {
      auto mechanisms = read_mechanisms(r);
      if (!mechanisms) return mechanisms.error();
      m.mechanisms = std::move(*mechanisms);
      break;
    }
    case auth_code::gss_continue:
    case auth_code::sasl_continue:
    case auth_code::sasl_final:
      m.data = r.read_rest();
      break;
    default:
      return detail::unsupported("unknown authentication code");
  }
  if (auto e = finish(r)) return *e;
  return m;
}

void authentication::encode(std::string& out) const {
  message_writer w(out, backend_type::authentication);
  w.i32(static_cast<std::int32_t>(code));
  switch (code) {
    case auth_code::md5_password:
      w.bytes(byte_span(md5_salt));
      break;
    case auth_code::sasl:
      for (const std::string_view name : mechanisms) w.cstring(name);
      w.u8(0);
      break;
    case auth_code::gss_continue:
    case auth_code::sasl_continue:
    case auth_code::sasl_final:
      w.bytes(data);
      break;
    default:
      break;
  }
}

decoded<backend_key_data> backend_key_data::decode(const frame& f) {
  byte_reader r(f.body);
  backend_key_data m;
  m.process_id = r.read_i32_be();
  m.secret_key = r.read_i32_be();
  if (auto e = finish(r)) return *e;
  return m;
}

void backend_key_data::encode(std::string& out) const {
  message_writer(out, backend_type::backend_key_data).i32(process_id).i32(secret_key);
}

decoded<parameter_status> parameter_status::decode(const frame& f) {
  byte_reader r(f.body);
  parameter_status m;
  m.name = r.read_cstring();
  m.value = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void parameter_status::encode(std::string& out) const {
  message_writer(out, backend_type::parameter_status).cstring(name).cstring(value);
}

decoded<ready_for_query> ready_for_query::decode(const frame& f) {
  byte_reader r(f.body);
  ready_for_query m;
  m.status = static_cast<char>(r.read_u8());
  if (auto e = finish(r)) return *e;
  if (m.status != 'I' && m.status != 'T' && m.status != 'E') return malformed("unknown transaction status");
  return m;
}

void ready_for_query::encode(std::string& out) const {
  message_writer(out, backend_type::ready_for_query).u8(static_cast<std::uint8_t>(status));
}

decoded<row_description> row_description::decode(const frame& f) {
  byte_reader r(f.body);
  row_description m;
  const auto count = detail::read_count16(r, 1 + field_fixed_bytes);
  if (!count) return malformed("RowDescription field count exceeds the message");
  m.fields.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    field_description& d = m.fields.emplace_back();
    d.name = r.read_cstring();
    d.table_oid = r.read_u32_be();
    d.column_attnum = r.read_i16_be();
    d.type_oid = r.read_u32_be();
    d.type_size = r.read_i16_be();
    d.type_modifier = r.read_i32_be();
    d.format = r.read_i16_be();
    if (!r.ok()) return malformed("RowDescription field runs past the end of the message");
    if (!detail::is_format_code(d.format)) return malformed("RowDescription format code is neither 0 nor 1");
  }
  if (auto e = finish(r)) return *e;
  return m;
}

void row_description::encode(std::string& out) const {
  message_writer w(out, backend_type::row_description);
  w.i16(detail::count16(fields.size()));
  for (const field_description& d : fields) {
    w.cstring(d.name).u32(d.table_oid).i16(d.column_attnum).u32(d.type_oid).i16(d.type_size);
    w.i32(d.type_modifier).i16(d.format);
  }
}

decoded<data_row> data_row::decode(const frame& f) {
  byte_reader r(f.body);
  data_row m;
  const auto count = detail::read_count16(r, 4);
  if (!count) return malformed("DataRow column count exceeds the message");
  m.columns.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    auto value = detail::read_nullable_bytes(r);
    if (!value) return value.error();
    m.columns.push_back(*value);
  }
  if (auto e = finish(r)) return *e;
  return m;
}

void data_row::encode(std::string& out) const {
  message_writer w(out, backend_type::data_row);
  w.i16(detail::count16(columns.size()));
  for (const auto& c : columns) {
    if (c) {
      w.i32(static_cast<std::int32_t>(c->size())).bytes(*c);
    } else {
      w.i32(-1);
    }
  }
}

decoded<command_complete> command_complete::decode(const frame& f) {
  byte_reader r(f.body);
  command_complete m;
  m.tag = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void command_complete::encode(std::string& out) const {
  message_writer(out, backend_type::command_complete).cstring(tag);
}

std::optional<std::string_view> error_response::field(char code) const {
  for (const error_field& f : fields) {
    if (f.code == code) return f.value;
  }
  return std::nullopt;
}

decoded<error_response> error_response::decode(const frame& f) {
  byte_reader r(f.body);
  error_response m;
  for (;;) {
    const char code = static_cast<char>(r.read_u8());
    if (!r.ok()) return malformed("ErrorResponse lacks its terminating zero byte");
    if (code == '\0') break;
    const std::string_view value = r.read_cstring();
    if (!r.ok()) return malformed("ErrorResponse field value lacks its NUL terminator");
    m.fields.push_back({code, value});
  }
  if (auto e = finish(r)) return *e;
  return m;
}

void error_response::encode(std::string& out, char type) const {
  message_writer w(out, type);
  for (const error_field& f : fields) w.u8(static_cast<std::uint8_t>(f.code)).cstring(f.value);
  w.u8(0);
}

decoded<notification_response> notification_response::decode(const frame& f) {
  byte_reader r(f.body);
  notification_response m;
  m.process_id = r.read_i32_be();
  m.channel = r.read_cstring();
  m.payload = r.read_cstring();
  if (auto e = finish(r)) return *e;
  return m;
}

void notification_response::encode(std::string& out) const {
  message_writer(out, backend_type::notification_response).i32(process_id).cstring(channel).cstring(payload);
}

// The spec requires every column format to be 0 when the overall format is textual (0); a gateway that
// rewrites CopyData must know how to read it, so anything else is refused.
decoded<copy_response> copy_response::decode(const frame& f) {
  byte_reader r(f.body);
  copy_response m;
  m.format = static_cast<std::int8_t>(r.read_u8());
  if (!r.ok()) return malformed("copy response shorter than its format byte");
  if (!detail::is_format_code(m.format)) return malformed("copy format is neither 0 nor 1");
  const auto count = detail::read_count16(r, 2);
  if (!count) return malformed("copy response column count exceeds the message");
  m.column_formats.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    const std::int16_t format = r.read_i16_be();
    if (!detail::is_format_code(format)) return malformed("copy column format is neither 0 nor 1");
    if (m.format == 0 && format != 0) return malformed("binary column format in a textual copy");
    m.column_formats.push_back(format);
  }
  if (auto e = finish(r)) return *e;
  return m;
}

void copy_response::encode(std::string& out, char type) const {
  message_writer w(out, type);
  w.u8(static_cast<std::uint8_t>(format)).i16(detail::count16(column_formats.size()));
  for (const std::int16_t c : column_formats) w.i16(c);
}

decoded<parameter_description> parameter_description::decode(const frame& f) {
  byte_reader r(f.body);
  parameter_description m;
  const auto count = detail::read_count16(r, 4);
  if (!count) return malformed("ParameterDescription count exceeds the message");
  m.types.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) m.types.push_back(r.read_u32_be());
  if (auto e = finish(r)) return *e;
  return m;
}

void parameter_description::encode(std::string& out) const {
  message_writer w(out, backend_type::parameter_description);
  w.i16(detail::count16(types.size()));
  for (const std::uint32_t t : types) w.u32(t);
}

// The option count is an Int32 here, unlike the Int16 counts elsewhere, so it can be negative.
decoded<negotiate_protocol_version> negotiate_protocol_version::decode(const frame& f) {
  byte_reader r(f.body);
  negotiate_protocol_version m;
  m.newest_minor = r.read_i32_be();
  const std::int32_t count = r.read_i32_be();
  if (!r.ok()) return malformed("NegotiateProtocolVersion shorter than its two Int32 fields");
  if (count < 0) return malformed("negative option count");
  // Each option name takes at least its NUL terminator.
  if (static_cast<std::size_t>(count) > r.remaining()) return malformed("option count exceeds the message");
  m.unrecognized_options.reserve(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) m.unrecognized_options.push_back(r.read_cstring());
  if (auto e = finish(r)) return *e;
  return m;
}

void negotiate_protocol_version::encode(std::string& out) const {
  message_writer w(out, backend_type::negotiate_protocol_version);
  w.i32(newest_minor).i32(static_cast<std::int32_t>(unrecognized_options.size()));
  for (const std::string_view o : unrecognized_options) w.cstring(o);
}

void encode_error(std::string& out, std::string_view severity, std::string_view sqlstate,
                  std::string_view message, std::string_view detail, std::string_view hint, char type) {
  message_writer w(out, type);
  // S is the possibly localized severity, V the never-localized one (PostgreSQL 9.6+); we send both alike.
  w.u8('S').cstring(severity).u8('V').cstring(severity).u8('C').cstring(sqlstate).u8('M').cstring(message);
  if (!detail.empty()) w.u8('D').cstring(detail);
  if (!hint.empty()) w.u8('H').cstring(hint);
  w.u8(0);
}

}  // namespace phigate::pg

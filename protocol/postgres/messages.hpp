// PostgreSQL protocol 3.0 messages: one view type per message, each with `decode` and `encode` side by
// side (the model is Envoy's MySQL codec files). Views point into the caller's buffer; they own nothing and
// are valid only while that buffer is. No I/O, no exceptions on untrusted bytes.
//
// Spec: "Frontend/Backend Protocol" chapter of the PostgreSQL documentation (55.7 Message Formats).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/byte_reader.hpp"
#include "protocol/decode_result.hpp"

namespace phigate::pg {

/// PostgreSQL refuses startup packets larger than this (MAX_STARTUP_PACKET_LENGTH, src/include/libpq/pqcomm.h).
inline constexpr std::size_t max_startup_packet_bytes = 10000;
inline constexpr std::uint32_t protocol_version_3_0 = 196608;  // (3 << 16) | 0
inline constexpr std::uint32_t cancel_request_code = 80877102;  // (1234 << 16) | 5678
inline constexpr std::uint32_t ssl_request_code = 80877103;     // (1234 << 16) | 5679
inline constexpr std::uint32_t gssenc_request_code = 80877104;  // (1234 << 16) | 5680

/// One whole message found in a buffer.
struct frame {
  char type = '\0';   ///< message type byte; '\0' for startup-phase packets, which have none
  byte_span body;     ///< the bytes after the length word
  byte_span whole;    ///< type byte (if any) + length word + body: forward these untouched
};

/// Finds the first typed message (type byte + int32 length + body) at the front of `buf`.
/// need_more while incomplete; too_large when the declared length exceeds `max_message_bytes`
/// (checked as soon as the 5-byte header is there, before the body arrives); malformed for length < 4 or
/// negative. The limit applies to the length word's value, i.e. body + 4 (the type byte is not counted).
decoded<frame> split_frame(byte_span buf, std::size_t max_message_bytes);

/// Finds the first untyped startup-phase packet (int32 length + body) at the front of `buf`.
/// too_large beyond max_startup_packet_bytes; malformed for length < 8 or negative. The length word counts
/// itself, so the limit applies to the whole packet.
decoded<frame> split_startup_frame(byte_span buf);

/// Appends one message to `out`: writes the type byte (none when type is '\0') and a length placeholder at
/// construction, fields through the calls, and patches the length in `finish()` (also called by the
/// destructor if not called explicitly).
class message_writer {
 public:
  message_writer(std::string& out, char type);
  ~message_writer();
  message_writer(const message_writer&) = delete;
  message_writer& operator=(const message_writer&) = delete;

  message_writer& u8(std::uint8_t v);
  message_writer& i16(std::int16_t v);
  message_writer& i32(std::int32_t v);
  message_writer& u32(std::uint32_t v);
  message_writer& cstring(std::string_view s);  ///< s followed by NUL; s is cut at its first NUL, if any
  message_writer& bytes(byte_span b);
  message_writer& bytes(std::string_view b);
  void finish();

 private:
  std::string& out_;
  std::size_t start_;  // offset of the length word
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------------------------
// Startup phase (untyped packets from the frontend)

struct startup_message {
  std::uint32_t protocol = protocol_version_3_0;
  std::vector<std::pair<std::string_view, std::string_view>> params;  ///< in wire order
  std::optional<std::string_view> param(std::string_view key) const;
  void encode(std::string& out) const;
};
struct ssl_request {
  void encode(std::string& out) const;
};
struct gssenc_request {
  void encode(std::string& out) const;
};
struct cancel_request {
  std::int32_t process_id = 0;
  std::int32_t secret_key = 0;
  void encode(std::string& out) const;
};
using startup_packet = std::variant<startup_message, ssl_request, gssenc_request, cancel_request>;

/// Decodes a frame from split_startup_frame. Protocol major version other than 3 → unsupported.
/// A StartupMessage must end with the empty-name terminator; names must not repeat → malformed.
decoded<startup_packet> decode_startup_packet(const frame& f);

// ---------------------------------------------------------------------------------------------------------
// Frontend (client → server) typed messages. Type bytes: see `frontend_type`.
//
// Every `decode` below reads `f.body` only and never looks at `f.type`: the caller dispatches on the type
// byte (several messages share one). A body is accepted only if every length fits, every string has its
// NUL, and no byte is left over. Int16 counts are read as unsigned 0..65535, as PostgreSQL and libpq read
// them; Int32 value lengths of -1 are SQL NULL and any other negative length is malformed. Format codes
// other than 0 (text) and 1 (binary) are malformed, so a gateway never forwards bytes it cannot read.
// `encode` appends the whole message (type byte included) to `out`; counts must fit in 16 bits.

namespace frontend_type {
inline constexpr char bind = 'B', close = 'C', copy_data = 'd', copy_done = 'c', copy_fail = 'f',
                      describe = 'D', execute = 'E', flush = 'H', function_call = 'F', parse = 'P',
                      password = 'p', query = 'Q', sync = 'S', terminate = 'X';
}

/// 'p' in reply to AuthenticationCleartextPassword / MD5Password.
struct password_message {
  std::string_view password;
  static decoded<password_message> decode(const frame& f);
  void encode(std::string& out) const;
};
/// 'p' in reply to AuthenticationSASL. `data` absent when the length field is -1.
struct sasl_initial_response {
  std::string_view mechanism;
  std::optional<byte_span> data;
  static decoded<sasl_initial_response> decode(const frame& f);
  void encode(std::string& out) const;
};
/// 'p' in reply to AuthenticationSASLContinue.
struct sasl_response {
  byte_span data;
  static decoded<sasl_response> decode(const frame& f);
  void encode(std::string& out) const;
};
struct query {
  std::string_view sql;
  static decoded<query> decode(const frame& f);
  void encode(std::string& out) const;
};
struct parse {
  std::string_view name;  ///< "" = unnamed statement
  std::string_view sql;
  std::vector<std::uint32_t> param_types;
  static decoded<parse> decode(const frame& f);
  void encode(std::string& out) const;
};
struct bind {
  std::string_view portal;     ///< "" = unnamed portal
  std::string_view statement;  ///< "" = unnamed statement
  std::vector<std::int16_t> param_formats;      ///< 0 text, 1 binary (0, 1 or N entries, as sent)
  std::vector<std::optional<byte_span>> params; ///< nullopt = SQL NULL (length -1)
  std::vector<std::int16_t> result_formats;
  static decoded<bind> decode(const frame& f);
  void encode(std::string& out) const;
};
/// Describe ('D') and Close ('C') share a shape: 'S' statement or 'P' portal, then a name.
struct describe {
  char kind = 'S';
  std::string_view name;
  static decoded<describe> decode(const frame& f);
  void encode(std::string& out) const;
};
struct close {
  char kind = 'S';
  std::string_view name;
  static decoded<close> decode(const frame& f);
  void encode(std::string& out) const;
};
struct execute {
  std::string_view portal;
  std::int32_t max_rows = 0;  ///< 0 = no limit
  static decoded<execute> decode(const frame& f);
  void encode(std::string& out) const;
};
/// CopyData ('d') is the same in both directions.
struct copy_data {
  byte_span data;
  static decoded<copy_data> decode(const frame& f);
  void encode(std::string& out) const;
};
struct copy_fail {
  std::string_view message;
  static decoded<copy_fail> decode(const frame& f);
  void encode(std::string& out) const;
};
/// Body-less messages: Sync, Flush, Terminate, CopyDone (both directions). Decoding checks the empty body.
decoded<std::monostate> decode_empty(const frame& f);
void encode_empty(std::string& out, char type);

// ---------------------------------------------------------------------------------------------------------
// Backend (server → client) messages. Type bytes: see `backend_type`.

namespace backend_type {
inline constexpr char authentication = 'R', backend_key_data = 'K', bind_complete = '2', close_complete = '3',
                      command_complete = 'C', copy_data = 'd', copy_done = 'c', copy_in_response = 'G',
                      copy_out_response = 'H', copy_both_response = 'W', data_row = 'D',
                      empty_query_response = 'I', error_response = 'E', negotiate_protocol_version = 'v',
                      no_data = 'n', notice_response = 'N', notification_response = 'A',
                      parameter_description = 't', parameter_status = 'S', parse_complete = '1',
                      portal_suspended = 's', ready_for_query = 'Z', row_description = 'T';
}

enum class auth_code : std::int32_t {
  ok = 0, kerberos_v5 = 2, cleartext_password = 3, md5_password = 5, gss = 7, gss_continue = 8,
  sspi = 9, sasl = 10, sasl_continue = 11, sasl_final = 12,
};

/// 'R'. Which fields are meaningful depends on `code`: md5_salt for md5_password; mechanisms for sasl;
/// data for sasl_continue, sasl_final and gss_continue.
struct authentication {
  auth_code code = auth_code::ok;
  std::array<std::byte, 4> md5_salt{};
  std::vector<std::string_view> mechanisms;
  byte_span data;
  static decoded<authentication> decode(const frame& f);
  void encode(std::string& out) const;
};
struct backend_key_data {
  std::int32_t process_id = 0;
  std::int32_t secret_key = 0;
  static decoded<backend_key_data> decode(const frame& f);
  void encode(std::string& out) const;
};
struct parameter_status {
  std::string_view name;
  std::string_view value;
  static decoded<parameter_status> decode(const frame& f);
  void encode(std::string& out) const;
};
/// 'Z'. status: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block.
struct ready_for_query {
  char status = 'I';
  static decoded<ready_for_query> decode(const frame& f);
  void encode(std::string& out) const;
};
struct field_description {
  std::string_view name;
  std::uint32_t table_oid = 0;      ///< 0 when the column is not a plain table column
  std::int16_t column_attnum = 0;   ///< 0 likewise
  std::uint32_t type_oid = 0;
  std::int16_t type_size = 0;
  std::int32_t type_modifier = 0;
  std::int16_t format = 0;          ///< 0 text, 1 binary
};
struct row_description {
  std::vector<field_description> fields;
  static decoded<row_description> decode(const frame& f);
  void encode(std::string& out) const;
};
struct data_row {
  std::vector<std::optional<byte_span>> columns;  ///< nullopt = SQL NULL
  static decoded<data_row> decode(const frame& f);
  void encode(std::string& out) const;
};
struct command_complete {
  std::string_view tag;
  static decoded<command_complete> decode(const frame& f);
  void encode(std::string& out) const;
};
/// ErrorResponse ('E') and NoticeResponse ('N') share a body: (code byte, cstring)* then a NUL.
struct error_field {
  char code = '\0';
  std::string_view value;
};
struct error_response {
  std::vector<error_field> fields;
  std::optional<std::string_view> field(char code) const;
  static decoded<error_response> decode(const frame& f);
  /// type is backend_type::error_response or backend_type::notice_response.
  void encode(std::string& out, char type = backend_type::error_response) const;
};
struct notification_response {
  std::int32_t process_id = 0;
  std::string_view channel;
  std::string_view payload;
  static decoded<notification_response> decode(const frame& f);
  void encode(std::string& out) const;
};
/// CopyInResponse ('G'), CopyOutResponse ('H'), CopyBothResponse ('W').
struct copy_response {
  std::int8_t format = 0;  ///< overall: 0 text, 1 binary
  std::vector<std::int16_t> column_formats;
  static decoded<copy_response> decode(const frame& f);
  void encode(std::string& out, char type) const;
};
struct parameter_description {
  std::vector<std::uint32_t> types;
  static decoded<parameter_description> decode(const frame& f);
  void encode(std::string& out) const;
};
struct negotiate_protocol_version {
  std::int32_t newest_minor = 0;
  std::vector<std::string_view> unrecognized_options;
  static decoded<negotiate_protocol_version> decode(const frame& f);
  void encode(std::string& out) const;
};

/// Writes an ErrorResponse (or NoticeResponse) with the fields PostgreSQL always sends:
/// S and V (severity), C (SQLSTATE), M (message), and D (detail) / H (hint) when not empty.
void encode_error(std::string& out, std::string_view severity, std::string_view sqlstate,
                  std::string_view message, std::string_view detail = {}, std::string_view hint = {},
                  char type = backend_type::error_response);

}  // namespace phigate::pg

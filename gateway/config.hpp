// The gateway's configuration: one YAML file, loaded and validated at start (`phigate check`) and on SIGHUP.
// Errors carry file:line:column so a person can find them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/config_admin.hpp"
#include "gateway/config_audit.hpp"
#include "gateway/config_capture.hpp"
#include "masking/column_rules.hpp"
#include "masking/transforms.hpp"
#include "protocol/postgres/auth.hpp"

namespace phigate {

/// How phigate talks TLS to the upstream server (libpq's sslmode names).
enum class upstream_tls_mode {
  disable,      ///< plain TCP
  prefer,       ///< TLS if the server accepts SSLRequest, plain otherwise
  require,      ///< TLS or fail; no certificate check
  verify_full,  ///< TLS, certificate chain checked against ca_file and host name checked
};

struct listen_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6432;  ///< 0 = let the kernel choose (read it back from the ready file or the log)
};

/// Client-facing TLS. Absent → SSLRequest is answered 'N'.
struct client_tls_config {
  std::string cert_file;
  std::string key_file;
  bool required = false;  ///< refuse clients that do not ask for TLS
};

struct limits_config {
  /// A client message larger than this → ErrorResponse 08P01 and close.
  std::size_t max_message_bytes = 64u << 20;
  /// A server message larger than this ends the session the same way. Server messages are trusted more,
  /// but a row must be held whole to be rewritten, so this bounds the gateway's memory per session.
  std::size_t max_server_message_bytes = 256u << 20;
  std::chrono::milliseconds startup_timeout{10'000};  ///< from accept to ReadyForQuery
  std::chrono::milliseconds idle_timeout{0};  ///< client silent this long while idle → close; 0 = off
  std::chrono::milliseconds upstream_connect_timeout{5'000};
};

struct upstream_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5432;
  upstream_tls_mode tls = upstream_tls_mode::prefer;
  std::string ca_file;  ///< required for verify_full
};

/// An upstream database role. Its password comes from an environment variable or a file, never from the
/// config itself, and is never logged.
struct role_config {
  std::string name;      ///< key in the config
  std::string user;      ///< the upstream user name
  std::string password;  ///< resolved at load time from password_env / password_file ("" = none / trust)
};

/// A person who may connect to phigate.
struct user_config {
  std::string name;
  pg::scram::verifier verifier;  ///< from `password:` (a SCRAM-SHA-256 verifier made by `phigate passwd`)
  std::vector<std::string> groups;
  std::string role;  ///< key into gateway_config::roles
};

/// The `masking:` section: content-scan masking of every result. Absent section → no masking.
struct masking_config {
  bool enabled = true;
  /// Transforms per entity type; the key comes from key_env or key_file (at least 16 bytes) and is required
  /// when any transform is pseudonym or hash.
  masking::masking_rules rules;
  std::vector<std::string> unmasked_groups;  ///< people in any of these groups see clear values
  /// `columns:` every value of these columns is masked whole, matched by table OID + attnum.
  std::vector<masking::column_rule> columns;
  masking::derived_action derived_columns = masking::derived_action::mask;
  masking::whole_row_action whole_row = masking::whole_row_action::refuse;
  /// Key into gateway_config::roles: the upstream role whose connection reads the catalog to resolve column
  /// rules to table OIDs and attribute numbers. "" = rules apply by lineage and column name only.
  std::string metadata_role;
  std::chrono::seconds metadata_refresh{60};
};

struct gateway_config {
  std::string source_path;  ///< file it was loaded from
  listen_config listen_postgres;
  unsigned workers = 0;  ///< 0 = std::thread::hardware_concurrency()
  std::optional<client_tls_config> tls;
  limits_config limits;
  upstream_config upstream;
  std::map<std::string, role_config> roles;
  std::map<std::string, user_config> users;
  std::optional<masking_config> masking;
  /// `policy_file:` resolved against the config file's directory; "" = no policy (every statement allowed).
  std::string policy_file;
  std::string log_level = "info";
  approvals_config approvals;             ///< where held statements wait for approval
  std::optional<admin_config> admin;      ///< absent → no admin HTTP listener
  notify_config notify;                   ///< chat and webhook announcements of new requests
  std::optional<capture_config> capture;  ///< absent → no session is recorded for `phigate replay`
  std::optional<audit_config> audit;      ///< absent → no audit log
};

/// One problem found in a config file.
struct config_error {
  std::string file;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown
  std::string message;
  std::string to_string() const;  ///< "file:line:column: message"
};

/// Thrown by load_config with every problem found (not just the first).
class config_exception : public std::runtime_error {
 public:
  explicit config_exception(std::vector<config_error> errors);
  const std::vector<config_error>& errors() const noexcept { return errors_; }

 private:
  std::vector<config_error> errors_;
};

/// Reads and validates the file. Unknown keys, wrong types, missing required keys, a user whose role does not
/// exist, an unset password_env variable, an unreadable file, an invalid verifier: all are errors.
gateway_config load_config(const std::string& path);

}  // namespace phigate

// The approval sections of the gateway config: where held requests are stored (`approvals:`), the admin HTTP
// listener and its approver tokens (`admin:`), and where new requests are announced (`notify:`).
//
// A token is never written in the file, only its SHA-256 in hex:
//     printf %s "$TOKEN" | sha256sum
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace phigate {

struct user_config;
namespace yaml {
class reader;
struct entry;
}  // namespace yaml

/// The `approvals:` section.
struct approvals_config {
  /// SQLite file of approval requests, resolved against the config file's directory; ":memory:" keeps them
  /// in memory (tests).
  std::string store = "approvals.db";
};

/// One approver who may call the admin API.
struct admin_token {
  std::string identity;             ///< a user under `users:`
  std::string token_sha256;         ///< lowercase hex SHA-256 of the bearer token (64 characters)
  std::vector<std::string> groups;  ///< the user's groups plus any given on the token
};

struct admin_tls_config {
  std::string cert_file;
  std::string key_file;
};

/// The `admin:` section. Absent → no admin listener.
struct admin_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6480;  ///< 0 = let the kernel choose (read it back from the ready file)
  std::optional<admin_tls_config> tls;
  std::string public_url;  ///< base of links in chat messages ("" = no link)
  std::vector<admin_token> tokens;
};

/// A parsed http:// or https:// URL of a webhook.
struct http_url {
  bool tls = false;
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";  ///< path and query
  std::string text;          ///< as written
};

/// "http://host[:port]/path?query" or "https://..."; nullopt when it is not such a URL.
std::optional<http_url> parse_http_url(std::string_view text);

struct slack_notify_config {
  http_url webhook_url;
  std::string signing_secret;                ///< from signing_secret_env / signing_secret_file; never logged
  std::map<std::string, std::string> users;  ///< Slack user id → phigate identity (a user under `users:`)
};

struct teams_notify_config {
  http_url webhook_url;
};

struct webhook_notify_config {
  http_url url;
  std::string secret;  ///< HMAC key for X-Phigate-Signature, from secret_env / secret_file; never logged
};

/// The `notify:` section; each channel is optional.
struct notify_config {
  std::optional<slack_notify_config> slack;
  std::optional<teams_notify_config> teams;
  std::optional<webhook_notify_config> webhook;
};

/// Readers for the three sections. Problems go to `r` with their place in the file; `base_dir` is the config
/// file's directory; `users` are the already-loaded `users:` (token and Slack identities must name one).
approvals_config load_approvals_config(yaml::reader& r, const yaml::entry& e,
                                       const std::filesystem::path& base_dir);
/// The default `approvals:` when the section is absent (the store beside the config file).
approvals_config default_approvals_config(const std::filesystem::path& base_dir);
std::optional<admin_config> load_admin_config(yaml::reader& r, const yaml::entry& e,
                                              const std::filesystem::path& base_dir,
                                              const std::map<std::string, user_config>& users);
notify_config load_notify_config(yaml::reader& r, const yaml::entry& e, const std::filesystem::path& base_dir,
                                 const std::map<std::string, user_config>& users);

}  // namespace phigate

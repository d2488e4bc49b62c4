// The approvals, admin and notify sections of the gateway config and the audit log's timing: every field
// of a full section, the defaults, and each kind of mistake reported at its file:line:column.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "config_test_support.hpp"
#include "gateway/config.hpp"

using phigate::config_exception;
using phigate::load_config;

using phigate::config_test::temp_dir;
using phigate::config_test::verifier_text;

namespace {

// printf %s dana-token | sha256sum, and the same for erin-token
constexpr std::string_view dana_hash = "cc4a95848b6491a30a19bca2a2e7c0bd69d8b10c6d19463f2db2224d9d71cd9d";
constexpr std::string_view erin_hash = "31cda640df783340475d42ae13821d0e4d5d9ab7ccd3b6146884948f39870860";

/// Users dana (approvers) and erin (security, approvers) and nothing else, then `rest`.
std::string with_users(std::string_view rest) {
  const std::string v(verifier_text);
  return "roles:\n  r:\n    user: r\nusers:\n  dana:\n    password: " + v +
         "\n    groups: [approvers]\n    role: r\n  erin:\n    password: " + v +
         "\n    groups: [security, approvers]\n    role: r\n" + std::string(rest);
}

/// "line:column: message" for every error, joined by " | "; "" when the file loads.
std::string errors_of(std::string_view yaml) {
  temp_dir dir;
  try {
    load_config(dir.write("phigate.yaml", yaml));
  } catch (const config_exception& e) {
    std::string out;
    for (const auto& err : e.errors()) {
      if (!out.empty()) out += " | ";
      out += std::to_string(err.line) + ":" + std::to_string(err.column) + ": " + err.message;
    }
    return out;
  }
  return "";
}

}  // namespace

TEST_CASE("full approvals, admin and notify sections load with every field", "[config][admin]") {
  temp_dir dir;
  dir.write("certs/admin.crt", "cert");
  dir.write("certs/admin.key", "key");
  dir.write("secrets/hook", "hook secret\n");
  ::setenv("PHIGATE_CONFIG_ADMIN_SLACK", "slack secret", 1);
  const auto c = load_config(dir.write("phigate.yaml", with_users(R"(approvals:
  store: state/approvals.db
admin:
  listen: 0.0.0.0:0
  tls: { cert_file: certs/admin.crt, key_file: certs/admin.key }
  public_url: https://phigate.example.org:6480
  tokens:
    - { identity: dana, token_sha256: )" + std::string(dana_hash) +
                                                                  R"( }
    - { identity: erin, token_sha256: )" + std::string(erin_hash) +
                                                                  R"(, groups: [dba-approvers, security] }
notify:
  slack:
    webhook_url: https://hooks.slack.com/services/T0/B0/xyz
    signing_secret_env: PHIGATE_CONFIG_ADMIN_SLACK
    users: { U012ABC: dana, U099XYZ: erin }
  teams: { webhook_url: "http://127.0.0.1:9/teams?tenant=1" }
  webhook: { url: "http://[::1]:8080/hook", secret_file: secrets/hook }
)")));
  ::unsetenv("PHIGATE_CONFIG_ADMIN_SLACK");

  CHECK(c.approvals.store == (dir.path() / "state/approvals.db").string());
  REQUIRE(c.admin);
  CHECK(c.admin->host == "0.0.0.0");
  CHECK(c.admin->port == 0);
  REQUIRE(c.admin->tls);
  CHECK(c.admin->tls->cert_file == (dir.path() / "certs/admin.crt").string());
  CHECK(c.admin->tls->key_file == (dir.path() / "certs/admin.key").string());
  CHECK(c.admin->public_url == "https://phigate.example.org:6480");
  REQUIRE(c.admin->tokens.size() == 2);
  CHECK(c.admin->tokens[0].identity == "dana");
  CHECK(c.admin->tokens[0].token_sha256 == dana_hash);
  CHECK(c.admin->tokens[0].groups == std::vector<std::string>{"approvers"});
  CHECK(c.admin->tokens[1].groups == std::vector<std::string>{"security", "approvers", "dba-approvers"});

  REQUIRE(c.notify.slack);
  CHECK(c.notify.slack->webhook_url.tls);
  CHECK(c.notify.slack->webhook_url.host == "hooks.slack.com");
  CHECK(c.notify.slack->webhook_url.port == 443);
  CHECK(c.notify.slack->webhook_url.target == "/services/T0/B0/xyz");
  CHECK(c.notify.slack->signing_secret == "slack secret");
  CHECK(c.notify.slack->users ==
        std::map<std::string, std::string>{{"U012ABC", "dana"}, {"U099XYZ", "erin"}});
  REQUIRE(c.notify.teams);
  CHECK_FALSE(c.notify.teams->webhook_url.tls);
  CHECK(c.notify.teams->webhook_url.port == 9);
  CHECK(c.notify.teams->webhook_url.target == "/teams?tenant=1");
  REQUIRE(c.notify.webhook);
  CHECK(c.notify.webhook->url.host == "::1");
  CHECK(c.notify.webhook->url.port == 8080);
  CHECK(c.notify.webhook->secret == "hook secret");
}

TEST_CASE("without the sections there is no admin listener, no notification and a store beside the config",
          "[config][admin]") {
  temp_dir dir;
  const auto c = load_config(dir.write("phigate.yaml", "users: {}\n"));
  CHECK(c.approvals.store == (dir.path() / "approvals.db").string());
  CHECK_FALSE(c.admin);
  CHECK_FALSE(c.notify.slack);
  CHECK_FALSE(c.notify.teams);
  CHECK_FALSE(c.notify.webhook);
}

TEST_CASE("an in-memory approvals store is kept as written", "[config][admin]") {
  temp_dir dir;
  const auto c = load_config(dir.write("phigate.yaml", "approvals: { store: \":memory:\" }\n"));
  CHECK(c.approvals.store == ":memory:");
}

TEST_CASE("unknown keys in the approval sections are errors with a suggestion", "[config][admin]") {
  CHECK(errors_of("approvals: { stor: x }\n") ==
        "1:14: unknown key 'stor' in approvals (did you mean 'store'?)");
  CHECK(errors_of(with_users("admin:\n  listen: 127.0.0.1:0\n  tokens: []\n  public_uri: http://x\n")) ==
        "16:3: unknown key 'public_uri' in admin (did you mean 'public_url'?)");
  CHECK(errors_of("notify:\n  slak: {}\n") == "2:3: unknown key 'slak' in notify (did you mean 'slack'?)");
}

TEST_CASE("a token hash must be 64 lowercase hex characters and is never echoed", "[config][admin]") {
  const auto err = errors_of(with_users(
      "admin:\n  listen: 127.0.0.1:0\n  tokens:\n    - { identity: dana, token_sha256: my-plain-token }\n"));
  CHECK(err ==
        "16:39: admin.tokens[0].token_sha256: expected 64 lowercase hex characters "
        "(printf %s \"$TOKEN\" | sha256sum)");
  CHECK(err.find("my-plain-token") == std::string::npos);
  std::string upper(dana_hash);
  upper[0] = 'F';
  CHECK_FALSE(
      errors_of(
          with_users("admin:\n  listen: 127.0.0.1:0\n  tokens:\n    - { identity: dana, token_sha256: " +
                     upper + " }\n"))
          .empty());
}

TEST_CASE("a token identity must be a configured user", "[config][admin]") {
  CHECK(errors_of(
            with_users("admin:\n  listen: 127.0.0.1:0\n  tokens:\n    - { identity: mallory, token_sha256: " +
                       std::string(dana_hash) + " }\n")) ==
        "16:19: admin.tokens[0].identity: unknown user 'mallory' (not defined under users)");
}

TEST_CASE("the same token given to two identities is an error", "[config][admin]") {
  const std::string h(dana_hash);
  CHECK(errors_of(with_users(
            "admin:\n  listen: 127.0.0.1:0\n  tokens:\n    - { identity: dana, token_sha256: " + h +
            " }\n    - { identity: erin, token_sha256: " + h + " }\n")) ==
        "17:7: admin.tokens[1]: the same token_sha256 is given twice");
}

TEST_CASE("the admin section needs listen and tokens", "[config][admin]") {
  CHECK(errors_of("admin: { public_url: \"http://x\" }\n") ==
        "1:1: admin: missing required key 'listen' | 1:1: admin: missing required key 'tokens'");
  CHECK(errors_of("admin: { listen: nowhere, tokens: [] }\n") ==
        "1:18: admin.listen: expected host:port, got 'nowhere'");
}

TEST_CASE("webhook URLs must be http or https with a host", "[config][admin]") {
  CHECK(errors_of("notify:\n  teams: { webhook_url: ftp://x/y }\n") ==
        "2:25: notify.teams.webhook_url: expected an http:// or https:// URL with a host, got 'ftp://x/y'");
  CHECK_FALSE(phigate::parse_http_url("http://user:pw@host/x"));
  CHECK_FALSE(phigate::parse_http_url("http://host:99999/x"));
  CHECK_FALSE(phigate::parse_http_url("https:///x"));
  const auto plain = phigate::parse_http_url("http://example.org");
  REQUIRE(plain);
  CHECK(plain->port == 80);
  CHECK(plain->target == "/");
}

TEST_CASE("chat secrets come from a set variable or a file, exactly one", "[config][admin]") {
  ::unsetenv("PHIGATE_CONFIG_ADMIN_UNSET");
  CHECK(errors_of("notify:\n  webhook: { url: \"http://h/x\", secret_env: PHIGATE_CONFIG_ADMIN_UNSET }\n") ==
        "2:45: notify.webhook.secret_env: environment variable PHIGATE_CONFIG_ADMIN_UNSET is not set");
  CHECK(errors_of("notify:\n  webhook: { url: \"http://h/x\" }\n") ==
        "2:3: notify.webhook: missing required key 'secret_env' or 'secret_file'");
  CHECK(errors_of(
            "notify:\n  slack: { webhook_url: \"http://h/x\", signing_secret_env: A, signing_secret_file: "
            "b }\n") == "2:62: notify.slack: give signing_secret_env or signing_secret_file, not both");
}

TEST_CASE("a Slack user must map to a configured user", "[config][admin]") {
  ::setenv("PHIGATE_CONFIG_ADMIN_SLACK", "s", 1);
  CHECK(errors_of(with_users("notify:\n  slack:\n    webhook_url: http://h/x\n    signing_secret_env: "
                             "PHIGATE_CONFIG_ADMIN_SLACK\n    users: { U1: dana, U2: zed }\n")) ==
        "17:28: notify.slack.users.U2: unknown user 'zed' (not defined under users)");
  ::unsetenv("PHIGATE_CONFIG_ADMIN_SLACK");
}

TEST_CASE("the audit log's commit delay and sync interval load, default and are range-checked",
          "[config][audit]") {
  temp_dir dir;
  ::setenv("PHIGATE_CONFIG_AUDIT_KEY", "0123456789abcdef0123", 1);
  const auto c = load_config(
      dir.write("phigate.yaml",
                "audit: { key_env: PHIGATE_CONFIG_AUDIT_KEY, commit_delay_ms: 0, sync_interval_ms: 0 }\n"));
  REQUIRE(c.audit);
  CHECK(c.audit->commit_delay == std::chrono::milliseconds(0));
  CHECK(c.audit->sync_interval == std::chrono::milliseconds(0));
  const auto d = load_config(dir.write("other.yaml", "audit: { key_env: PHIGATE_CONFIG_AUDIT_KEY }\n"));
  REQUIRE(d.audit);
  CHECK(d.audit->commit_delay == std::chrono::milliseconds(50));
  CHECK(d.audit->sync_interval == std::chrono::milliseconds(200));
  CHECK(errors_of("audit: { key_env: PHIGATE_CONFIG_AUDIT_KEY, commit_delay_ms: 5000 }\n") ==
        "1:62: audit.commit_delay_ms: 5000 is out of range 0..1000");
  CHECK(errors_of("audit: { key_env: PHIGATE_CONFIG_AUDIT_KEY, sync_interval_ms: -1 }\n") ==
        "1:63: audit.sync_interval_ms: expected an integer in 0..60000, got '-1'");
}

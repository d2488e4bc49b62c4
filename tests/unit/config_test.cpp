// Loading and validating the gateway's YAML config: every field of a full file, and every kind of mistake
// reported at its file:line:column, all of them at once.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "config_test_support.hpp"
#include "gateway/config.hpp"
#include "gateway/config_helpers.hpp"
#include "policy/yaml_reader.hpp"

using phigate::config_error;
using phigate::config_exception;
using phigate::load_config;

using phigate::config_test::temp_dir;
using phigate::config_test::verifier_text;

namespace {

/// Every error load_config reports for `yaml`; empty when the file loads.
std::vector<config_error> errors_for(const temp_dir& dir, std::string_view yaml) {
  const std::string file = dir.write("phigate.yaml", yaml);
  try {
    load_config(file);
  } catch (const config_exception& e) {
    return e.errors();
  }
  return {};
}

/// Every error load_config reports for `yaml`, as "line:column: message" joined by " | " (so a mismatch
/// shows them all).
std::string only_error(std::string_view yaml) {
  temp_dir dir;
  std::string out;
  for (const auto& e : errors_for(dir, yaml)) {
    CHECK(e.file == (dir.path() / "phigate.yaml").string());
    if (!out.empty()) out += " | ";
    out += std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
  }
  return out;
}

std::string full_config() {
  return R"(listen:
  postgres: 0.0.0.0:0
workers: 3
tls:
  cert_file: certs/server.crt
  key_file: certs/server.key
  required: true
limits:
  max_message_bytes: 1048576
  startup_timeout_ms: 2000
  idle_timeout_ms: 60000
  upstream_connect_timeout_ms: 750
upstream:
  host: db.internal
  port: 15432
  tls: verify-full
  ca_file: ca.crt
roles:
  clinical_reader:
    user: clinical_reader
    password_env: PHIGATE_CONFIG_TEST_READER
  billing:
    user: billing_ro
    password_file: secrets/billing
  trusted:
    user: local_trust
users:
  analyst:
    password: ")" +
         std::string(verifier_text) + R"("
    groups: [clinical, research]
    role: clinical_reader
  clerk:
    password: )" +
         std::string(verifier_text) + R"(
    role: billing
log:
  level: debug
)";
}

}  // namespace

TEST_CASE("a full config loads with every field", "[config]") {
  temp_dir dir;
  dir.write("certs/server.crt", "cert");
  dir.write("certs/server.key", "key");
  dir.write("ca.crt", "ca");
  dir.write("secrets/billing", "billing pw\n");
  ::setenv("PHIGATE_CONFIG_TEST_READER", "reader pw", 1);
  const auto c = load_config(dir.write("phigate.yaml", full_config()));
  ::unsetenv("PHIGATE_CONFIG_TEST_READER");

  CHECK(c.source_path == (dir.path() / "phigate.yaml").string());
  CHECK(c.listen_postgres.host == "0.0.0.0");
  CHECK(c.listen_postgres.port == 0);
  CHECK(c.workers == 3);
  REQUIRE(c.tls);
  CHECK(c.tls->cert_file == (dir.path() / "certs/server.crt").string());
  CHECK(c.tls->key_file == (dir.path() / "certs/server.key").string());
  CHECK(c.tls->required);
  CHECK(c.limits.max_message_bytes == 1048576);
  CHECK(c.limits.startup_timeout == std::chrono::milliseconds(2000));
  CHECK(c.limits.idle_timeout == std::chrono::milliseconds(60000));
  CHECK(c.limits.upstream_connect_timeout == std::chrono::milliseconds(750));
  CHECK(c.upstream.host == "db.internal");
  CHECK(c.upstream.port == 15432);
  CHECK(c.upstream.tls == phigate::upstream_tls_mode::verify_full);
  CHECK(c.upstream.ca_file == (dir.path() / "ca.crt").string());
  REQUIRE(c.roles.size() == 3);
  CHECK(c.roles.at("clinical_reader").name == "clinical_reader");
  CHECK(c.roles.at("clinical_reader").user == "clinical_reader");
  CHECK(c.roles.at("clinical_reader").password == "reader pw");
  CHECK(c.roles.at("billing").user == "billing_ro");
  CHECK(c.roles.at("billing").password == "billing pw");
  CHECK(c.roles.at("trusted").password.empty());
  REQUIRE(c.users.size() == 2);
  const auto& analyst = c.users.at("analyst");
  CHECK(analyst.name == "analyst");
  CHECK(analyst.verifier.to_string() == verifier_text);
  CHECK(analyst.groups == std::vector<std::string>{"clinical", "research"});
  CHECK(analyst.role == "clinical_reader");
  CHECK(c.users.at("clerk").groups.empty());
  CHECK(c.users.at("clerk").role == "billing");
  CHECK(c.log_level == "debug");
}

TEST_CASE("a minimal config takes the documented defaults", "[config]") {
  temp_dir dir;
  const auto c = load_config(dir.write("phigate.yaml", "users: {}\n"));
  CHECK(c.listen_postgres.host == "127.0.0.1");
  CHECK(c.listen_postgres.port == 6432);
  CHECK(c.workers == 0);
  CHECK_FALSE(c.tls);
  CHECK(c.limits.max_message_bytes == 64u << 20);
  CHECK(c.limits.startup_timeout == std::chrono::milliseconds(10'000));
  CHECK(c.limits.idle_timeout == std::chrono::milliseconds(0));
  CHECK(c.limits.upstream_connect_timeout == std::chrono::milliseconds(5'000));
  CHECK(c.upstream.host == "127.0.0.1");
  CHECK(c.upstream.port == 5432);
  CHECK(c.upstream.tls == phigate::upstream_tls_mode::prefer);
  CHECK(c.roles.empty());
  CHECK(c.log_level == "info");
}

TEST_CASE("config errors print as file:line:column: message", "[config]") {
  CHECK(config_error{"gw.yaml", 3, 7, "boom"}.to_string() == "gw.yaml:3:7: boom");
  const config_exception e({{"a.yaml", 1, 2, "first"}, {"a.yaml", 4, 5, "second"}});
  CHECK(std::string(e.what()) == "a.yaml:1:2: first\na.yaml:4:5: second");
  CHECK(e.errors().size() == 2);
}

TEST_CASE("a YAML syntax error is reported where yaml-cpp stops", "[config]") {
  CHECK(only_error("listen:\n  postgres: [127.0.0.1\nworkers: 2\n") == "3:8: end of sequence flow not found");
  CHECK(only_error("log:\n  level: info: extra\n") == "2:14: illegal map value");
}

TEST_CASE("an unreadable or empty file is an error", "[config]") {
  temp_dir dir;
  const std::string missing = (dir.path() / "absent.yaml").string();
  try {
    load_config(missing);
    FAIL("loaded a missing file");
  } catch (const config_exception& e) {
    REQUIRE(e.errors().size() == 1);
    CHECK(e.errors()[0].to_string() == missing + ":0:0: cannot read: No such file or directory");
  }
  CHECK(only_error("") == "0:0: expected a mapping at the top level, got nothing");
  CHECK(only_error("- listen\n") == "1:1: expected a mapping at the top level, got a list");
}

TEST_CASE("unknown keys are errors at the key, with a suggestion for typos", "[config]") {
  CHECK(only_error("listne:\n  postgres: 127.0.0.1:6432\n") ==
        "1:1: unknown key 'listne' (did you mean 'listen'?)");
  CHECK(only_error("upstream:\n  host: db\n  sslmode: require\n") ==
        "3:3: unknown key 'sslmode' in upstream");
  CHECK(only_error("roles:\n  r:\n    user: u\n    pasword_env: X\n") ==
        "4:5: unknown key 'pasword_env' in roles.r (did you mean 'password_env'?)");
  CHECK(only_error("limits:\n  idle_timeout: 5\n") ==
        "2:3: unknown key 'idle_timeout' in limits (did you mean 'idle_timeout_ms'?)");
}

TEST_CASE("duplicate keys are errors at the second one", "[config]") {
  CHECK(only_error("workers: 1\nlog:\n  level: info\nworkers: 2\n") ==
        "4:1: duplicate key 'workers' (first at line 1)");
}

TEST_CASE("values of the wrong type are errors at the value", "[config]") {
  CHECK(only_error("workers: four\n") == "1:10: workers: expected an integer in 0..1024, got 'four'");
  CHECK(only_error("workers: \"4\"\n") == "1:10: workers: expected an integer, got a quoted string");
  CHECK(only_error("workers: -1\n") == "1:10: workers: expected an integer in 0..1024, got '-1'");
  CHECK(only_error("listen: 127.0.0.1:6432\n") == "1:9: listen: expected a mapping, got a scalar");
  CHECK(only_error("upstream:\n  host: [a, b]\n") == "2:9: upstream.host: expected a string, got a list");
  CHECK(only_error("tls:\n") == "1:1: tls: expected a mapping, got nothing");
  CHECK(only_error("users:\n  u:\n    password: \"" + std::string(verifier_text) +
                   "\"\n    role: r\n    groups: clinical\n"
                   "roles:\n  r:\n    user: u\n") == "5:13: users.u.groups: expected a list, got a scalar");
  CHECK(only_error("limits:\n  idle_timeout_ms: 99999999999\n") ==
        "2:20: limits.idle_timeout_ms: 99999999999 is out of range 0..2147483647");
  CHECK(only_error("limits:\n  startup_timeout_ms: 0\n") ==
        "2:23: limits.startup_timeout_ms: 0 is out of range 1..2147483647");
}

TEST_CASE("ports out of range are errors", "[config]") {
  CHECK(only_error("listen:\n  postgres: 127.0.0.1:70000\n") ==
        "2:13: listen.postgres: port: 70000 is out of range 0..65535");
  CHECK(only_error("listen:\n  postgres: localhost\n") ==
        "2:13: listen.postgres: expected host:port, got 'localhost'");
  CHECK(only_error("listen:\n  postgres: ::1:6432\n") ==
        "2:13: listen.postgres: IPv6 addresses need brackets: '[::1]:port'");
  CHECK(only_error("upstream:\n  port: 0\n") == "2:9: upstream.port: 0 is out of range 1..65535");
  CHECK(only_error("upstream:\n  port: 65536\n") == "2:9: upstream.port: 65536 is out of range 1..65535");
}

TEST_CASE("listen addresses accept bracketed IPv6 and port 0", "[config]") {
  temp_dir dir;
  const auto c = load_config(dir.write("phigate.yaml", "listen:\n  postgres: \"[::1]:0\"\n"));
  CHECK(c.listen_postgres.host == "::1");
  CHECK(c.listen_postgres.port == 0);
}

TEST_CASE("an unknown upstream tls mode is an error", "[config]") {
  CHECK(only_error("upstream:\n  tls: verify-ca\n") ==
        "2:8: upstream.tls: unknown mode 'verify-ca' (expected disable, prefer, require or verify-full)");
  CHECK(only_error("log:\n  level: verbose\n") ==
        "2:10: log.level: unknown level 'verbose' (expected trace, debug, info, warn, error)");
}

TEST_CASE("verify-full without ca_file is an error", "[config]") {
  CHECK(only_error("upstream:\n  tls: verify-full\n") ==
        "2:8: upstream.tls: verify-full needs upstream.ca_file to check the server's certificate against");
}

TEST_CASE("missing tls certificate files are errors at their path", "[config]") {
  temp_dir dir;
  dir.write("server.key", "key");
  const auto errors =
      errors_for(dir, "tls:\n  cert_file: server.crt\n  key_file: server.key\n  required: maybe\n");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].line == 2);
  CHECK(errors[0].column == 14);
  CHECK(errors[0].message ==
        "tls.cert_file: cannot read " + (dir.path() / "server.crt").string() + ": No such file or directory");
  CHECK(errors[1].line == 4);
  CHECK(errors[1].message == "tls.required: expected true or false, got 'maybe'");
  CHECK(only_error("tls:\n  required: true\n") ==
        "1:1: tls: missing required key 'cert_file' | 1:1: tls: missing required key 'key_file'");
}

TEST_CASE("a user naming an unknown role is an error at the role", "[config]") {
  CHECK(only_error("roles:\n  reader:\n    user: r\nusers:\n  ann:\n    password: " +
                   std::string(verifier_text) + "\n    role: writer\n") ==
        "7:11: users.ann.role: unknown role 'writer' (not defined under roles)");
}

TEST_CASE("role passwords come from a set variable or a readable file", "[config]") {
  ::unsetenv("PHIGATE_CONFIG_TEST_UNSET");
  CHECK(only_error("roles:\n  r:\n    user: u\n    password_env: PHIGATE_CONFIG_TEST_UNSET\n") ==
        "4:19: roles.r.password_env: environment variable PHIGATE_CONFIG_TEST_UNSET is not set");
  ::setenv("PHIGATE_CONFIG_TEST_EMPTY", "", 1);
  CHECK(only_error("roles:\n  r:\n    user: u\n    password_env: PHIGATE_CONFIG_TEST_EMPTY\n") ==
        "4:19: roles.r.password_env: environment variable PHIGATE_CONFIG_TEST_EMPTY is empty");
  ::unsetenv("PHIGATE_CONFIG_TEST_EMPTY");
  CHECK(only_error("roles:\n  r: {}\n") == "2:3: roles.r: missing required key 'user'");
  CHECK(only_error("roles:\n  r:\n    user: u\n    password_env: X\n    password_file: f\n") ==
        "5:5: roles.r: give password_env or password_file, not both");

  temp_dir dir;
  const auto errors = errors_for(dir, "roles:\n  r:\n    user: u\n    password_file: missing.txt\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == (dir.path() / "phigate.yaml").string() +
                                     ":4:20: roles.r.password_file: cannot read " +
                                     (dir.path() / "missing.txt").string() + ": No such file or directory");
}

TEST_CASE("a password file loses exactly one trailing newline", "[config]") {
  temp_dir dir;
  dir.write("one", "pw\n");
  dir.write("two", "pw\n\n");
  dir.write("crlf", "pw\r\n");
  dir.write("none", " pw ");
  const auto c = load_config(
      dir.write("phigate.yaml",
                "roles:\n  one: {user: u, password_file: one}\n  two: {user: u, password_file: two}\n"
                "  crlf: {user: u, password_file: crlf}\n  none: {user: u, password_file: none}\n"));
  CHECK(c.roles.at("one").password == "pw");
  CHECK(c.roles.at("two").password == "pw\n");
  CHECK(c.roles.at("crlf").password == "pw");
  CHECK(c.roles.at("none").password == " pw ");
}

TEST_CASE("a user needs a valid SCRAM verifier and never sees it echoed", "[config]") {
  const std::string role = "roles:\n  r:\n    user: u\nusers:\n  ann:\n";
  CHECK(only_error(role + "    role: r\n") == "5:3: users.ann: missing required key 'password'");
  CHECK(only_error(role + "    password: hunter2\n    role: r\n") ==
        "6:15: users.ann.password: expected a SCRAM-SHA-256 verifier made by `phigate passwd`, not a plain "
        "password "
        "or another hash");
  CHECK(only_error(role + "    password: md5a3556571e93b0d20722ba62be61e8c2d\n    role: r\n").find("hash") !=
        std::string::npos);
  CHECK(only_error(role +
                   "    password: SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$short:short\n    role: r\n") ==
        "6:15: users.ann.password: invalid SCRAM-SHA-256 verifier (expected "
        "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)");
}

TEST_CASE("every error in a file is reported, in line order", "[config]") {
  temp_dir dir;
  const auto errors = errors_for(dir, R"(listen:
  postgres: 127.0.0.1:99999
workers: many
upstream:
  prot: 5432
  tls: sometimes
roles:
  r:
    user: u
    password_env: PHIGATE_CONFIG_TEST_NEVER_SET
users:
  ann:
    password: plain
    role: nobody
log:
  level: loud
)");
  std::vector<std::string> got;
  for (const auto& e : errors) got.push_back(std::to_string(e.line) + ":" + std::to_string(e.column));
  CHECK(got == std::vector<std::string>{"2:13", "3:10", "5:3", "6:8", "10:19", "13:15", "14:11", "16:10"});
}

TEST_CASE("config text helpers parse addresses and suggest names", "[config]") {
  using namespace phigate::config_detail;
  using phigate::yaml::closest_name;
  const auto v6 = parse_host_port("[fe80::1]:5432");
  REQUIRE(std::holds_alternative<host_port>(v6));
  CHECK(std::get<host_port>(v6).host == "fe80::1");
  CHECK(std::get<host_port>(v6).port == 5432);
  CHECK(std::holds_alternative<problem>(parse_host_port(":5432")));
  CHECK(std::holds_alternative<problem>(parse_host_port("[::1]5432")));
  CHECK(std::holds_alternative<problem>(parse_host_port("db:+5")));
  CHECK(closest_name("wrokers", {"workers", "log"}) == std::optional<std::string_view>("workers"));
  CHECK_FALSE(closest_name("completely_different", {"workers", "log"}));
  for (const auto mode : {phigate::upstream_tls_mode::disable, phigate::upstream_tls_mode::prefer,
                          phigate::upstream_tls_mode::require, phigate::upstream_tls_mode::verify_full}) {
    CHECK(parse_upstream_tls_mode(to_string(mode)) == mode);
  }
}

TEST_CASE("a masking section loads its rules, key and unmasked groups", "[config][masking]") {
  using phigate::masking::entity_type;
  using phigate::masking::transform_kind;
  temp_dir dir;
  ::setenv("PHIGATE_CONFIG_TEST_MASKING_KEY", "0123456789abcdef-key", 1);
  const auto c = load_config(dir.write("phigate.yaml", R"(masking:
  key_env: PHIGATE_CONFIG_TEST_MASKING_KEY
  key_id: k1
  default_transform: redact
  transforms: { SSN: partial, email: pseudonym, DATE: safe_harbor_date, ZIP: zip3, PHONE: hash }
  partial_keep: 2
  hash_hex_chars: 12
  unmasked_groups: [dba]
)"));
  ::unsetenv("PHIGATE_CONFIG_TEST_MASKING_KEY");
  REQUIRE(c.masking);
  CHECK(c.masking->enabled);
  const auto& rules = c.masking->rules;
  CHECK(rules.default_transform == transform_kind::redact);
  CHECK(rules.per_type ==
        std::map<entity_type, transform_kind>{{entity_type::ssn, transform_kind::partial},
                                              {entity_type::email, transform_kind::pseudonym},
                                              {entity_type::date, transform_kind::safe_harbor_date},
                                              {entity_type::zip, transform_kind::zip3},
                                              {entity_type::phone, transform_kind::hash}});
  CHECK(rules.partial_keep == 2);
  CHECK(rules.hash_hex_chars == 12);
  REQUIRE(rules.key);
  CHECK(rules.key->id == "k1");
  CHECK(rules.key->bytes == "0123456789abcdef-key");
  CHECK(c.masking->unmasked_groups == std::vector<std::string>{"dba"});
}

TEST_CASE("masking is off without the section and on by default with it", "[config][masking]") {
  temp_dir dir;
  CHECK_FALSE(load_config(dir.write("a.yaml", "users: {}\n")).masking);
  const auto c = load_config(dir.write("b.yaml", "masking: {}\n"));
  REQUIRE(c.masking);
  CHECK(c.masking->enabled);
  CHECK(c.masking->rules.default_transform == phigate::masking::transform_kind::redact);
  CHECK(c.masking->rules.partial_keep == 4);
  CHECK(c.masking->rules.hash_hex_chars == 16);
  CHECK_FALSE(c.masking->rules.key);
  CHECK(c.masking->unmasked_groups.empty());
  CHECK_FALSE(load_config(dir.write("c.yaml", "masking:\n  enabled: false\n")).masking->enabled);
}

TEST_CASE("a masking key comes from a file and is never shorter than 16 bytes", "[config][masking]") {
  temp_dir dir;
  dir.write("masking.key", "a-file-key-of-32-bytes-0123456789\n");
  const auto c = load_config(
      dir.write("phigate.yaml", "masking:\n  key_file: masking.key\n  default_transform: hash\n"));
  REQUIRE(c.masking->rules.key);
  CHECK(c.masking->rules.key->bytes == "a-file-key-of-32-bytes-0123456789");
  CHECK(c.masking->rules.key->id == "default");
  dir.write("short.key", "short");
  const auto errors = errors_for(dir, "masking:\n  key_file: short.key\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 2);
  CHECK(errors[0].column == 13);
  CHECK(errors[0].message == "masking.key_file: the key must be at least 16 bytes, got 5");
}

TEST_CASE("masking mistakes are errors at their place", "[config][masking]") {
  CHECK(only_error("masking:\n  transforms: {SSN: pseudonym}\n") ==
        "1:1: masking: the pseudonym and hash transforms need a key: set key_env or key_file");
  CHECK(only_error("masking:\n  default_transform: hash\n") ==
        "1:1: masking: the pseudonym and hash transforms need a key: set key_env or key_file");
  CHECK(only_error("masking:\n  default_transform: scramble\n") ==
        "2:22: masking.default_transform: unknown transform 'scramble' (expected redact, partial, pseudonym, "
        "hash, "
        "null, safe_harbor_date or zip3)");
  CHECK(only_error("masking:\n  transforms:\n    SNN: partial\n") ==
        "3:5: unknown entity type 'SNN' in masking.transforms (did you mean 'SSN'?)");
  CHECK(only_error("masking:\n  transforms: [SSN]\n") ==
        "2:15: masking.transforms: expected a mapping, got a list");
  CHECK(only_error("masking:\n  partial_keep: 65\n") ==
        "2:17: masking.partial_keep: 65 is out of range 0..64");
  CHECK(only_error("masking:\n  hash_hex_chars: 0\n") ==
        "2:19: masking.hash_hex_chars: 0 is out of range 1..64");
  CHECK(only_error("masking:\n  unmasked_groups: dba\n") ==
        "2:20: masking.unmasked_groups: expected a list, got a scalar");
  CHECK(only_error("masking:\n  key_env: A\n  key_file: b\n") ==
        "3:3: masking: give key_env or key_file, not both");
  CHECK(only_error("masking:\n  key_id: k1\n") == "2:11: masking.key_id: key_id without key_env or key_file");
  CHECK(only_error("masking:\n  enabeld: true\n") ==
        "2:3: unknown key 'enabeld' in masking (did you mean 'enabled'?)");
  ::unsetenv("PHIGATE_CONFIG_TEST_UNSET");
  CHECK(only_error("masking:\n  key_env: PHIGATE_CONFIG_TEST_UNSET\n") ==
        "2:12: masking.key_env: environment variable PHIGATE_CONFIG_TEST_UNSET is not set");
}

TEST_CASE("masking column rules load with their transforms and metadata role", "[config][masking]") {
  temp_dir dir;
  dir.write("policy.yaml", "rules: []\n");
  const auto c = load_config(dir.write("phigate.yaml", R"(policy_file: policy.yaml
roles:
  meta: { user: phigate_meta }
masking:
  columns:
    public.patients.ssn: partial
    clinic.people.dob: safe_harbor_date
  derived_columns: refuse
  whole_row: scan
  metadata_role: meta
  metadata_refresh_seconds: 30
)"));
  REQUIRE(c.masking);
  const auto& columns = c.masking->columns;
  REQUIRE(columns.size() == 2);
  // Keys of a mapping come back sorted.
  CHECK(columns[0].qualified() == "clinic.people.dob");
  CHECK(columns[0].transform == phigate::masking::transform_kind::safe_harbor_date);
  CHECK(columns[1].qualified() == "public.patients.ssn");
  CHECK(columns[1].transform == phigate::masking::transform_kind::partial);
  CHECK(c.masking->derived_columns == phigate::masking::derived_action::refuse);
  CHECK(c.masking->whole_row == phigate::masking::whole_row_action::scan);
  CHECK(c.masking->metadata_role == "meta");
  CHECK(c.masking->metadata_refresh == std::chrono::seconds(30));
}

TEST_CASE("masking column rule mistakes are errors at their place", "[config][masking]") {
  const std::string policy = std::string("policy_file: ") + __FILE__ + "\n";  // any readable file
  CHECK(only_error(policy + "masking:\n  columns:\n    patients.ssn: partial\n") ==
        "4:5: masking.columns: 'patients.ssn' must name a column as schema.table.column");
  CHECK(only_error(policy + "masking:\n  columns:\n    public.patients.ssn: scramble\n") ==
        "4:26: masking.columns.public.patients.ssn: unknown transform 'scramble' (expected redact, partial, "
        "pseudonym, hash, null, safe_harbor_date or zip3)");
  CHECK(only_error(policy + "masking:\n  columns:\n    public.patients.ssn: hash\n") ==
        "3:3: masking.columns: the pseudonym and hash transforms need a key: set key_env or key_file");
  CHECK(only_error(policy + "masking:\n  derived_columns: hide\n") ==
        "3:20: masking.derived_columns: unknown value 'hide' (expected mask or refuse)");
  CHECK(only_error(policy + "masking:\n  metadata_role: nobody\n") ==
        "3:18: masking.metadata_role: unknown role 'nobody' (not defined under roles)");
  CHECK(only_error(policy + "masking:\n  metadata_refresh_seconds: 0\n") ==
        "3:29: masking.metadata_refresh_seconds: 0 is out of range 1..86400");
  CHECK(only_error("masking:\n  columns:\n    public.patients.ssn: partial\n") ==
        "2:3: masking.columns needs a policy_file: column rules follow each statement's lineage, which the "
        "policy's statement analysis provides");
}

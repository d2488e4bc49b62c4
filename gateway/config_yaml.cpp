// load_config: reads the YAML file with yaml-cpp and validates every section, collecting every problem with
// its file:line:column instead of stopping at the first.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "gateway/config.hpp"
#include "gateway/config_helpers.hpp"
#include "gateway/config_masking.hpp"
#include "policy/yaml_reader.hpp"

namespace phigate {
namespace {

using namespace config_detail;
using yaml::closest_name;
using yaml::entry;
using yaml::type_name;

constexpr std::uint64_t max_workers = 1024;
constexpr std::uint64_t max_message_bytes_limit = 1u << 30;  // PostgreSQL's MaxAllocSize is 1 GB - 1
constexpr std::uint64_t max_timeout_ms = 2'147'483'647;      // what fits an int, like PostgreSQL's GUCs
constexpr std::size_t min_masking_key_bytes = 16;  // 128 bits: below that a pseudonym key is guessable
constexpr std::uint64_t max_partial_keep = 64;

class yaml_loader : public yaml::reader {
 public:
  yaml_loader(std::string file, std::filesystem::path base_dir)
      : yaml::reader(std::move(file)), base_dir_(std::move(base_dir)) {}

  gateway_config load(const YAML::Node& root);

 private:
  std::optional<std::uint64_t> unsigned_value(const entry& e, std::uint64_t min, std::uint64_t max);
  std::optional<std::string> readable_path(const entry& e);

  void load_listen(const entry& e, gateway_config& config);
  void load_tls(const entry& e, gateway_config& config);
  void load_limits(const entry& e, limits_config& limits);
  void load_upstream(const entry& e, upstream_config& upstream);
  void load_roles(const entry& e, gateway_config& config);
  void load_role(const entry& e, role_config& role);
  std::optional<std::string> role_password(const entry* env, const entry* file);
  void load_users(const entry& e, gateway_config& config);
  void load_user(const entry& e, user_config& user);
  std::optional<pg::scram::verifier> verifier_value(const entry& e);
  void load_log(const entry& e, gateway_config& config);
  void load_masking(const entry& e, gateway_config& config);
  void load_masking_key(const entry& e, const std::map<std::string, entry>& f, masking_config& masking);
  void load_masking_transforms(const entry& e, masking::masking_rules& rules);
  std::optional<masking::transform_kind> transform_value(const entry& e);

  std::filesystem::path base_dir_;
  std::set<std::string> role_names_;  ///< every role key, even one with errors of its own
  std::vector<std::pair<entry, std::string>> user_roles_;  ///< (role value, name) checked after all sections
  std::optional<entry> metadata_role_entry_, masking_columns_entry_;  ///< checked after all sections
};

std::optional<std::uint64_t> yaml_loader::unsigned_value(const entry& e, std::uint64_t min,
                                                         std::uint64_t max) {
  // A quoted "5432" is a string in YAML; accepting it would hide a type mistake elsewhere too.
  if (!e.value.IsScalar() || e.value.Tag() == "!") {
    error(e, "expected an integer, got " + std::string(type_name(e.value)));
    return std::nullopt;
  }
  const auto number = parse_unsigned(e.value.Scalar(), min, max);
  if (const auto* p = std::get_if<problem>(&number)) {
    error(e, p->message);
    return std::nullopt;
  }
  return std::get<std::uint64_t>(number);
}

std::optional<std::string> yaml_loader::readable_path(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  std::string path = resolve_path(base_dir_, *text);
  if (const auto problem = check_readable_file(path); !problem.empty()) {
    error(e, problem);
    return std::nullopt;
  }
  return path;
}

void yaml_loader::load_listen(const entry& e, gateway_config& config) {
  const auto f = known_fields(e, {"postgres"});
  if (!e.value.IsMap()) return;
  const entry* postgres = require(f, e, "postgres");
  if (!postgres) return;
  const auto text = string_value(*postgres);
  if (!text) return;
  const auto address = parse_host_port(*text);
  if (const auto* p = std::get_if<problem>(&address)) return error(*postgres, p->message);
  const auto& [host, port] = std::get<host_port>(address);
  config.listen_postgres = {host, port};
}

void yaml_loader::load_tls(const entry& e, gateway_config& config) {
  const auto f = known_fields(e, {"cert_file", "key_file", "required"});
  if (!e.value.IsMap()) return;
  client_tls_config tls;
  const entry* cert = require(f, e, "cert_file");
  const entry* key = require(f, e, "key_file");
  const auto cert_path = cert ? readable_path(*cert) : std::nullopt;
  const auto key_path = key ? readable_path(*key) : std::nullopt;
  if (cert_path) tls.cert_file = *cert_path;
  if (key_path) tls.key_file = *key_path;
  if (const auto it = f.find("required"); it != f.end())
    tls.required = bool_value(it->second).value_or(false);
  config.tls = std::move(tls);
}

void yaml_loader::load_limits(const entry& e, limits_config& limits) {
  const auto f = known_fields(e, {"max_message_bytes", "max_server_message_bytes", "startup_timeout_ms",
                                  "idle_timeout_ms", "upstream_connect_timeout_ms"});
  const auto number = [&](const char* key, std::uint64_t min,
                          std::uint64_t max) -> std::optional<std::uint64_t> {
    const auto it = f.find(key);
    return it == f.end() ? std::nullopt : unsigned_value(it->second, min, max);
  };
  using std::chrono::milliseconds;
  if (const auto v = number("max_message_bytes", 1, max_message_bytes_limit)) limits.max_message_bytes = *v;
  if (const auto v = number("max_server_message_bytes", 1, max_message_bytes_limit))
    limits.max_server_message_bytes = *v;
  if (const auto v = number("startup_timeout_ms", 1, max_timeout_ms))
    limits.startup_timeout = milliseconds(*v);
  if (const auto v = number("idle_timeout_ms", 0, max_timeout_ms)) limits.idle_timeout = milliseconds(*v);
  if (const auto v = number("upstream_connect_timeout_ms", 1, max_timeout_ms)) {
    limits.upstream_connect_timeout = milliseconds(*v);
  }
}

void yaml_loader::load_upstream(const entry& e, upstream_config& upstream) {
  const auto f = known_fields(e, {"host", "port", "tls", "ca_file"});
  if (const auto it = f.find("host"); it != f.end())
    upstream.host = string_value(it->second).value_or(upstream.host);
  if (const auto it = f.find("port"); it != f.end()) {
    if (const auto port = unsigned_value(it->second, 1, 65535))
      upstream.port = static_cast<std::uint16_t>(*port);
  }
  if (const auto it = f.find("ca_file"); it != f.end())
    upstream.ca_file = readable_path(it->second).value_or("");
  const auto tls = f.find("tls");
  if (tls == f.end()) return;
  const auto text = string_value(tls->second);
  const auto mode = text ? parse_upstream_tls_mode(*text) : std::nullopt;
  if (text && !mode) {
    return error(tls->second,
                 "unknown mode '" + *text + "' (expected disable, prefer, require or verify-full)");
  }
  if (!mode) return;
  upstream.tls = *mode;
  // Checked on the key, not the file: an unreadable ca_file has already been reported where it is written.
  if (*mode == upstream_tls_mode::verify_full && !f.contains("ca_file")) {
    error(tls->second, "verify-full needs upstream.ca_file to check the server's certificate against");
  }
}

void yaml_loader::load_roles(const entry& e, gateway_config& config) {
  for (const auto& [name, role_entry] : fields(e, nullptr)) {
    role_names_.insert(name);
    role_config role;
    role.name = name;
    load_role(role_entry, role);
    config.roles.emplace(name, std::move(role));
  }
}

void yaml_loader::load_role(const entry& e, role_config& role) {
  const auto f = known_fields(e, {"user", "password_env", "password_file"});
  if (!e.value.IsMap()) return;
  if (const entry* user = require(f, e, "user")) role.user = string_value(*user).value_or("");
  const auto env = f.find("password_env");
  const auto file = f.find("password_file");
  if (env != f.end() && file != f.end()) {
    return error(file->second.key_mark, e.path + ": give password_env or password_file, not both");
  }
  role.password =
      role_password(env == f.end() ? nullptr : &env->second, file == f.end() ? nullptr : &file->second)
          .value_or("");
}

std::optional<std::string> yaml_loader::role_password(const entry* env, const entry* file) {
  if (!env && !file) return std::string();
  const entry& source = env ? *env : *file;
  const auto name = string_value(source);
  if (!name) return std::nullopt;
  if (file) {
    auto secret = read_secret_file(resolve_path(base_dir_, *name));
    if (const auto* p = std::get_if<problem>(&secret)) {
      error(source, p->message);
      return std::nullopt;
    }
    return std::get<std::string>(std::move(secret));
  }
  const char* value = std::getenv(name->c_str());
  // An empty variable is almost always a deployment mistake; "no password" is written by leaving both keys
  // out.
  if (value && *value != '\0') return value;
  error(source, "environment variable " + *name + (value ? " is empty" : " is not set"));
  return std::nullopt;
}

void yaml_loader::load_users(const entry& e, gateway_config& config) {
  for (const auto& [name, user_entry] : fields(e, nullptr)) {
    user_config user;
    user.name = name;
    load_user(user_entry, user);
    config.users.emplace(name, std::move(user));
  }
}

void yaml_loader::load_user(const entry& e, user_config& user) {
  const auto f = known_fields(e, {"password", "groups", "role"});
  if (!e.value.IsMap()) return;
  if (const entry* password = require(f, e, "password")) {
    if (auto v = verifier_value(*password)) user.verifier = std::move(*v);
  }
  if (const auto it = f.find("groups"); it != f.end())
    user.groups = string_list(it->second).value_or(std::vector<std::string>{});
  if (const entry* role = require(f, e, "role")) {
    if (auto name = string_value(*role)) {
      user.role = *name;
      user_roles_.emplace_back(*role, std::move(*name));
    }
  }
}

std::optional<pg::scram::verifier> yaml_loader::verifier_value(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  // Never echo the value: a mistake here is often a plain-text password pasted in.
  const std::string prefix = std::string(pg::scram::mechanism) + "$";
  if (!text->starts_with(prefix)) {
    error(e,
          "expected a SCRAM-SHA-256 verifier made by `phigate passwd`, not a plain password or another hash");
    return std::nullopt;
  }
  auto v = pg::scram::verifier::parse(*text);
  if (!v)
    error(e,
          "invalid SCRAM-SHA-256 verifier (expected "
          "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)");
  return v;
}

void yaml_loader::load_log(const entry& e, gateway_config& config) {
  const auto f = known_fields(e, {"level"});
  const auto it = f.find("level");
  if (it == f.end()) return;
  const auto level = string_value(it->second);
  if (level && !is_log_level(*level)) {
    return error(it->second, "unknown level '" + *level + "' (expected " + std::string(log_levels) + ")");
  }
  if (level) config.log_level = *level;
}

void yaml_loader::load_masking(const entry& e, gateway_config& config) {
  const auto f =
      known_fields(e, {"enabled", "key_env", "key_file", "key_id", "default_transform", "transforms",
                       "partial_keep", "hash_hex_chars", "unmasked_groups", "columns", "derived_columns",
                       "whole_row", "metadata_role", "metadata_refresh_seconds"});
  if (!e.value.IsMap()) return;
  masking_config masking;
  if (const auto it = f.find("enabled"); it != f.end())
    masking.enabled = bool_value(it->second).value_or(true);
  auto& rules = masking.rules;
  if (const auto it = f.find("default_transform"); it != f.end())
    rules.default_transform = transform_value(it->second).value_or(rules.default_transform);
  if (const auto it = f.find("transforms"); it != f.end()) load_masking_transforms(it->second, rules);
  if (const auto it = f.find("partial_keep"); it != f.end())
    rules.partial_keep = unsigned_value(it->second, 0, max_partial_keep).value_or(rules.partial_keep);
  if (const auto it = f.find("hash_hex_chars"); it != f.end())
    rules.hash_hex_chars = unsigned_value(it->second, 1, 64).value_or(rules.hash_hex_chars);
  if (const auto it = f.find("unmasked_groups"); it != f.end())
    masking.unmasked_groups = string_list(it->second).value_or(std::vector<std::string>{});
  load_masking_key(e, f, masking);
  load_masking_columns(*this, f, masking);
  if (const auto it = f.find("metadata_role"); it != f.end()) metadata_role_entry_ = it->second;
  if (const auto it = f.find("columns"); it != f.end()) masking_columns_entry_ = it->second;
  config.masking = std::move(masking);
}

void yaml_loader::load_masking_key(const entry& e, const std::map<std::string, entry>& f,
                                   masking_config& masking) {
  const auto env = f.find("key_env");
  const auto file = f.find("key_file");
  if (env != f.end() && file != f.end())
    return error(file->second.key_mark, e.path + ": give key_env or key_file, not both");
  const entry* source = env != f.end() ? &env->second : file != f.end() ? &file->second : nullptr;
  if (!source) {
    if (masking.rules.needs_key())
      error(e.key_mark, e.path + ": the pseudonym and hash transforms need a key: set key_env or key_file");
    if (const auto id = f.find("key_id"); id != f.end())
      error(id->second, "key_id without key_env or key_file");
    return;
  }
  const auto bytes = role_password(env != f.end() ? source : nullptr, file != f.end() ? source : nullptr);
  if (!bytes) return;
  // Never echo the key; its length is enough to act on.
  if (bytes->size() < min_masking_key_bytes) {
    return error(*source, "the key must be at least " + std::to_string(min_masking_key_bytes) +
                              " bytes, got " + std::to_string(bytes->size()));
  }
  masking::masking_key key{"default", *bytes};
  if (const auto id = f.find("key_id"); id != f.end()) key.id = string_value(id->second).value_or(key.id);
  masking.rules.key = std::move(key);
}

void yaml_loader::load_masking_transforms(const entry& e, masking::masking_rules& rules) {
  std::vector<std::string_view> names;
  for (int t = 0; t <= static_cast<int>(masking::entity_type::unclassified); ++t)
    names.push_back(masking::to_string(static_cast<masking::entity_type>(t)));
  for (const auto& [name, rule] : fields(e, nullptr)) {
    const auto type = masking::parse_entity_type(name);
    if (!type) {
      std::string message = "unknown entity type '" + name + "' in " + e.path;
      if (const auto guess = closest_name(name, names))
        message += " (did you mean '" + std::string(*guess) + "'?)";
      error(rule.key_mark, message);
      continue;
    }
    if (const auto kind = transform_value(rule)) rules.per_type[*type] = *kind;
  }
}

std::optional<masking::transform_kind> yaml_loader::transform_value(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  const auto kind = masking::parse_transform_kind(*text);
  if (!kind) {
    error(e, "unknown transform '" + *text +
                 "' (expected redact, partial, pseudonym, hash, null, safe_harbor_date or zip3)");
  }
  return kind;
}

gateway_config yaml_loader::load(const YAML::Node& root) {
  gateway_config config;
  const entry top{YAML::Mark::null_mark(), root, ""};
  if (!root.IsMap()) {
    error(root.IsNull() ? YAML::Mark::null_mark() : root.Mark(),
          "expected a mapping at the top level, got " + std::string(type_name(root)));
    return config;
  }
  const auto f =
      known_fields(top, {"listen", "workers", "tls", "limits", "upstream", "roles", "users", "masking",
                         "policy_file", "log", "approvals", "admin", "notify", "capture", "audit"});
  const auto section = [&](const char* key, const auto& load_section) {
    if (const auto it = f.find(key); it != f.end()) load_section(it->second);
  };
  section("listen", [&](const entry& e) { load_listen(e, config); });
  section("workers", [&](const entry& e) {
    config.workers = static_cast<unsigned>(unsigned_value(e, 0, max_workers).value_or(0));
  });
  section("tls", [&](const entry& e) { load_tls(e, config); });
  section("limits", [&](const entry& e) { load_limits(e, config.limits); });
  section("upstream", [&](const entry& e) { load_upstream(e, config.upstream); });
  section("roles", [&](const entry& e) { load_roles(e, config); });
  section("users", [&](const entry& e) { load_users(e, config); });
  section("masking", [&](const entry& e) { load_masking(e, config); });
  section("policy_file", [&](const entry& e) { config.policy_file = readable_path(e).value_or(""); });
  section("log", [&](const entry& e) { load_log(e, config); });
  config.approvals = default_approvals_config(base_dir_);
  section("approvals",
          [&](const entry& e) { config.approvals = load_approvals_config(*this, e, base_dir_); });
  section("admin",
          [&](const entry& e) { config.admin = load_admin_config(*this, e, base_dir_, config.users); });
  section("notify",
          [&](const entry& e) { config.notify = load_notify_config(*this, e, base_dir_, config.users); });
  section("capture",
          [&](const entry& e) { load_capture_section(*this, e, base_dir_, config.capture.emplace()); });
  section("audit", [&](const entry& e) { config.audit = load_audit_config(*this, e, base_dir_); });
  if (config.masking && !config.masking->metadata_role.empty() &&
      !role_names_.contains(config.masking->metadata_role))
    error(*metadata_role_entry_,
          "unknown role '" + config.masking->metadata_role + "' (not defined under roles)");
  if (config.masking && !config.masking->columns.empty() && config.policy_file.empty())
    error(masking_columns_entry_->key_mark,
          "masking.columns needs a policy_file: column rules follow each statement's lineage, "
          "which the policy's statement analysis provides");
  for (const auto& [role_entry, name] : user_roles_) {
    if (!role_names_.contains(name))
      error(role_entry, "unknown role '" + name + "' (not defined under roles)");
  }
  return config;
}

}  // namespace

gateway_config load_config(const std::string& path) {
  const std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
  yaml_loader loader(path, base_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_exception({{path, 0, 0, "cannot read: " + std::string(std::strerror(errno))}});
  std::ostringstream text;
  text << in.rdbuf();
  gateway_config config;
  try {
    config = loader.load(YAML::Load(text.str()));
  } catch (const YAML::Exception& e) {
    // yaml-cpp stops at the first syntax error; nothing after it can be trusted, so it is reported alone.
    loader.error(e.mark, e.msg);
  }
  auto errors = loader.take_errors<config_error>();
  if (!errors.empty()) throw config_exception(std::move(errors));
  config.source_path = path;
  return config;
}

}  // namespace phigate

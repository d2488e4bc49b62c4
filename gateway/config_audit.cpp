// The `audit:` section, read by a reader of its own that hands every problem back to the main loader's
// reader with its line and column, so the person sees one list in file order.
#include "gateway/config_audit.hpp"

#include <cstdlib>

#include "audit/crypto.hpp"
#include "gateway/config.hpp"
#include "gateway/config_helpers.hpp"
#include "policy/yaml_reader.hpp"

namespace phigate {
namespace {

using namespace config_detail;
using yaml::entry;

constexpr std::size_t min_hmac_key_bytes = 16;  // 128 bits: below that the HMAC of a short value is guessable
constexpr std::uint64_t min_checkpoint_interval_ms = 100;
constexpr std::uint64_t max_checkpoint_interval_ms = 86'400'000;  // a day
constexpr std::uint64_t max_commit_delay_ms = 1'000;
constexpr std::uint64_t max_sync_interval_ms = 60'000;

class audit_reader : public yaml::nested_reader {
 public:
  audit_reader(yaml::reader& outer, std::filesystem::path base_dir)
      : yaml::nested_reader(outer), base_dir_(std::move(base_dir)) {}
  audit_config load(const entry& e);

 private:
  void load_key(const entry& e, const std::map<std::string, entry>& f, audit_config& config);
  void load_signing_key(const entry& e, audit_config& config);
  /// Milliseconds in [min, max].
  std::optional<std::chrono::milliseconds> interval(const entry& e, std::uint64_t min, std::uint64_t max);

  std::filesystem::path base_dir_;
};

void audit_reader::load_key(const entry& e, const std::map<std::string, entry>& f, audit_config& config) {
  const auto env = f.find("key_env");
  const auto file = f.find("key_file");
  if (env != f.end() && file != f.end())
    return error(file->second.key_mark, e.path + ": give key_env or key_file, not both");
  if (env == f.end() && file == f.end()) {
    // A plain hash of a statement's literals (a nine-digit SSN) is reversed by trying them all.
    return error(e.key_mark,
                 e.path + ": the audit log needs an HMAC key for statement text: set key_env or key_file");
  }
  const entry& source = env != f.end() ? env->second : file->second;
  const auto name = string_value(source);
  if (!name) return;
  std::string secret;
  if (file != f.end()) {
    auto content = read_secret_file(resolve_path(base_dir_, *name));
    if (const auto* p = std::get_if<problem>(&content)) return error(source, p->message);
    secret = std::get<std::string>(std::move(content));
  } else {
    const char* value = std::getenv(name->c_str());
    if (!value || *value == '\0')
      return error(source, "environment variable " + *name + (value ? " is empty" : " is not set"));
    secret = value;
  }
  // Never echo the key; its length is enough to act on.
  if (secret.size() < min_hmac_key_bytes)
    return error(source, "the key must be at least " + std::to_string(min_hmac_key_bytes) + " bytes, got " +
                             std::to_string(secret.size()));
  config.hmac_key = std::move(secret);
}

void audit_reader::load_signing_key(const entry& e, audit_config& config) {
  const auto text = string_value(e);
  if (!text) return;
  const std::string path = resolve_path(base_dir_, *text);
  if (const auto problem = check_readable_file(path); !problem.empty()) return error(e, problem);
  std::string problem;
  if (!audit::signing_key::load_pem_file(path, problem)) return error(e, problem);
  config.signing_key_file = path;
}

std::optional<std::chrono::milliseconds> audit_reader::interval(const entry& e, std::uint64_t min,
                                                                std::uint64_t max) {
  if (!e.value.IsScalar() || e.value.Tag() == "!") {
    error(e, "expected an integer, got " + std::string(yaml::type_name(e.value)));
    return std::nullopt;
  }
  const auto number = parse_unsigned(e.value.Scalar(), min, max);
  if (const auto* p = std::get_if<problem>(&number)) {
    error(e, p->message);
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::get<std::uint64_t>(number));
}

audit_config audit_reader::load(const entry& e) {
  const auto f = known_fields(
      e, {"enabled", "store", "key_env", "key_file", "key_id", "signing_key_file", "checkpoint_file",
          "checkpoint_interval_ms", "commit_delay_ms", "sync_interval_ms", "keep_literals"});
  audit_config config;
  config.store = resolve_path(base_dir_, "audit.db");
  if (!e.value.IsMap()) return config;
  if (const auto it = f.find("enabled"); it != f.end())
    config.enabled = bool_value(it->second).value_or(true);
  if (const auto it = f.find("store"); it != f.end()) {
    if (const auto text = string_value(it->second)) config.store = resolve_path(base_dir_, *text);
  }
  if (const auto it = f.find("key_id"); it != f.end())
    config.key_id = string_value(it->second).value_or(config.key_id);
  if (config.enabled) load_key(e, f, config);
  if (const auto it = f.find("signing_key_file"); it != f.end()) load_signing_key(it->second, config);
  if (const auto it = f.find("checkpoint_file"); it != f.end()) {
    if (const auto text = string_value(it->second)) config.checkpoint_file = resolve_path(base_dir_, *text);
    if (!f.contains("signing_key_file"))
      error(it->second, "checkpoint_file without signing_key_file: checkpoints are signed with that key");
  } else if (!config.signing_key_file.empty()) {
    config.checkpoint_file = config.store + ".checkpoints";
  }
  if (const auto it = f.find("checkpoint_interval_ms"); it != f.end()) {
    if (const auto ms = interval(it->second, min_checkpoint_interval_ms, max_checkpoint_interval_ms))
      config.checkpoint_interval = *ms;
  }
  if (const auto it = f.find("commit_delay_ms"); it != f.end())
    config.commit_delay = interval(it->second, 0, max_commit_delay_ms).value_or(config.commit_delay);
  if (const auto it = f.find("sync_interval_ms"); it != f.end())
    config.sync_interval = interval(it->second, 0, max_sync_interval_ms).value_or(config.sync_interval);
  if (const auto it = f.find("keep_literals"); it != f.end())
    config.keep_literals = bool_value(it->second).value_or(false);
  return config;
}

}  // namespace

audit_config load_audit_config(yaml::reader& r, const yaml::entry& e, const std::filesystem::path& base_dir) {
  audit_reader reader(r, base_dir);
  return reader.load(e);
}

}  // namespace phigate

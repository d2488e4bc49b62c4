// The approvals, admin and notify sections of the config. They are read by a reader of their own that hands
// every problem back to the main loader's reader, so the person sees one list in file order either way.
#include "gateway/config_admin.hpp"

#include <algorithm>
#include <cstdlib>

#include "gateway/config.hpp"
#include "gateway/config_helpers.hpp"
#include "policy/yaml_reader.hpp"

namespace phigate {
namespace {

using namespace config_detail;
using yaml::entry;

constexpr std::size_t sha256_hex_chars = 64;

class section_reader : public yaml::nested_reader {
 public:
  section_reader(yaml::reader& outer, const std::filesystem::path& base_dir,
                 const std::map<std::string, user_config>* users)
      : yaml::nested_reader(outer), base_dir_(base_dir), users_(users) {}
  approvals_config approvals(const entry& e);
  std::optional<admin_config> admin(const entry& e);
  notify_config notify(const entry& e);

 private:
  std::optional<std::string> readable_path(const entry& e);
  std::optional<std::string> secret(const std::map<std::string, entry>& f, const entry& parent,
                                    const std::string& prefix);
  std::optional<http_url> url_value(const entry& e);
  bool known_user(const entry& e, const std::string& identity);
  void load_admin_tls(const entry& e, admin_config& admin);
  void load_tokens(const entry& e, admin_config& admin);
  std::optional<admin_token> token(const entry& e);
  std::optional<slack_notify_config> slack(const entry& e);

  std::filesystem::path base_dir_;
  const std::map<std::string, user_config>* users_;
};

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::string> section_reader::readable_path(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  std::string path = resolve_path(base_dir_, *text);
  if (const auto problem = check_readable_file(path); !problem.empty()) {
    error(e, problem);
    return std::nullopt;
  }
  return path;
}

/// `<prefix>_env` or `<prefix>_file`, exactly one of them, required.
std::optional<std::string> section_reader::secret(const std::map<std::string, entry>& f, const entry& parent,
                                                  const std::string& prefix) {
  const auto env = f.find(prefix + "_env");
  const auto file = f.find(prefix + "_file");
  if (env != f.end() && file != f.end()) {
    error(file->second.key_mark, parent.path + ": give " + prefix + "_env or " + prefix + "_file, not both");
    return std::nullopt;
  }
  if (env == f.end() && file == f.end()) {
    error(parent.key_mark,
          parent.path + ": missing required key '" + prefix + "_env' or '" + prefix + "_file'");
    return std::nullopt;
  }
  const entry& source = env != f.end() ? env->second : file->second;
  const auto name = string_value(source);
  if (!name) return std::nullopt;
  if (file != f.end()) {
    auto content = read_secret_file(resolve_path(base_dir_, *name));
    if (const auto* p = std::get_if<problem>(&content)) {
      error(source, p->message);
      return std::nullopt;
    }
    if (std::get<std::string>(content).empty()) {
      error(source, "the secret file is empty");
      return std::nullopt;
    }
    return std::get<std::string>(std::move(content));
  }
  const char* value = std::getenv(name->c_str());
  // Never echo the value; an empty one is a deployment mistake, not "no signature".
  if (value && *value != '\0') return std::string(value);
  error(source, "environment variable " + *name + (value ? " is empty" : " is not set"));
  return std::nullopt;
}

std::optional<http_url> section_reader::url_value(const entry& e) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  auto url = parse_http_url(*text);
  if (!url) error(e, "expected an http:// or https:// URL with a host, got '" + *text + "'");
  return url;
}

bool section_reader::known_user(const entry& e, const std::string& identity) {
  if (users_->contains(identity)) return true;
  error(e, "unknown user '" + identity + "' (not defined under users)");
  return false;
}

approvals_config section_reader::approvals(const entry& e) {
  const auto f = known_fields(e, {"store"});
  approvals_config config = default_approvals_config(base_dir_);
  if (const auto it = f.find("store"); it != f.end()) {
    if (const auto text = string_value(it->second))
      config.store = *text == ":memory:" ? *text : resolve_path(base_dir_, *text);
  }
  return config;
}

std::optional<admin_config> section_reader::admin(const entry& e) {
  const auto f = known_fields(e, {"listen", "tls", "public_url", "tokens"});
  if (!e.value.IsMap()) return std::nullopt;
  admin_config admin;
  if (const entry* listen = require(f, e, "listen")) {
    if (const auto text = string_value(*listen)) {
      const auto address = parse_host_port(*text);
      if (const auto* p = std::get_if<problem>(&address)) {
        error(*listen, p->message);
      } else {
        admin.host = std::get<host_port>(address).host;
        admin.port = std::get<host_port>(address).port;
      }
    }
  }
  if (const auto it = f.find("tls"); it != f.end()) load_admin_tls(it->second, admin);
  if (const auto it = f.find("public_url"); it != f.end()) {
    if (const auto url = url_value(it->second)) admin.public_url = url->text;
  }
  if (const entry* tokens = require(f, e, "tokens")) load_tokens(*tokens, admin);
  return admin;
}

void section_reader::load_admin_tls(const entry& e, admin_config& admin) {
  const auto f = known_fields(e, {"cert_file", "key_file"});
  if (!e.value.IsMap()) return;
  admin_tls_config tls;
  const entry* cert = require(f, e, "cert_file");
  const entry* key = require(f, e, "key_file");
  tls.cert_file = cert ? readable_path(*cert).value_or("") : "";
  tls.key_file = key ? readable_path(*key).value_or("") : "";
  admin.tls = std::move(tls);
}

void section_reader::load_tokens(const entry& e, admin_config& admin) {
  if (!e.value.IsSequence()) return error(e, "expected a list, got " + std::string(yaml::type_name(e.value)));
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const entry item{e.value[i].Mark(), e.value[i], e.path + "[" + std::to_string(i) + "]"};
    if (auto t = token(item)) {
      const bool duplicate = std::any_of(admin.tokens.begin(), admin.tokens.end(), [&](const admin_token& o) {
        return o.token_sha256 == t->token_sha256;
      });
      // Two identities sharing one token would make every vote ambiguous.
      if (duplicate) {
        error(item, "the same token_sha256 is given twice");
        continue;
      }
      admin.tokens.push_back(std::move(*t));
    }
  }
}

std::optional<admin_token> section_reader::token(const entry& e) {
  const auto f = known_fields(e, {"identity", "token_sha256", "groups"});
  if (!e.value.IsMap()) return std::nullopt;
  admin_token t;
  const entry* identity = require(f, e, "identity");
  const entry* hash = require(f, e, "token_sha256");
  bool ok = identity && hash;
  if (identity) {
    const auto name = string_value(*identity);
    ok = name && known_user(*identity, *name) && ok;
    if (ok) {
      t.identity = *name;
      t.groups = users_->at(*name).groups;
    }
  }
  if (hash) {
    const auto text = string_value(*hash);
    if (text && (text->size() != sha256_hex_chars || !is_lower_hex(*text))) {
      // Never echo it: a plain token pasted here by mistake would land in the logs.
      error(*hash, "expected 64 lowercase hex characters (printf %s \"$TOKEN\" | sha256sum)");
      ok = false;
    }
    if (text) t.token_sha256 = *text;
    ok = ok && text;
  }
  if (const auto it = f.find("groups"); it != f.end()) {
    for (auto& group : string_list(it->second).value_or(std::vector<std::string>{}))
      if (std::find(t.groups.begin(), t.groups.end(), group) == t.groups.end()) t.groups.push_back(group);
  }
  if (!ok) return std::nullopt;
  return t;
}

std::optional<slack_notify_config> section_reader::slack(const entry& e) {
  const auto f = known_fields(e, {"webhook_url", "signing_secret_env", "signing_secret_file", "users"});
  if (!e.value.IsMap()) return std::nullopt;
  slack_notify_config slack;
  bool ok = true;
  if (const entry* url = require(f, e, "webhook_url")) {
    auto parsed = url_value(*url);
    ok = parsed.has_value();
    if (parsed) slack.webhook_url = std::move(*parsed);
  }
  auto secret_text = secret(f, e, "signing_secret");
  ok = ok && secret_text;
  if (secret_text) slack.signing_secret = std::move(*secret_text);
  if (const auto it = f.find("users"); it != f.end()) {
    for (const auto& [slack_id, identity_entry] : fields(it->second, nullptr)) {
      const auto identity = string_value(identity_entry);
      if (identity && known_user(identity_entry, *identity)) slack.users.emplace(slack_id, *identity);
    }
  }
  if (!ok) return std::nullopt;
  return slack;
}

notify_config section_reader::notify(const entry& e) {
  const auto f = known_fields(e, {"slack", "teams", "webhook"});
  notify_config notify;
  if (const auto it = f.find("slack"); it != f.end()) notify.slack = slack(it->second);
  if (const auto it = f.find("teams"); it != f.end()) {
    const auto t = known_fields(it->second, {"webhook_url"});
    if (const entry* url = it->second.value.IsMap() ? require(t, it->second, "webhook_url") : nullptr) {
      if (auto parsed = url_value(*url)) notify.teams = teams_notify_config{std::move(*parsed)};
    }
  }
  if (const auto it = f.find("webhook"); it != f.end()) {
    const auto w = known_fields(it->second, {"url", "secret_env", "secret_file"});
    if (!it->second.value.IsMap()) return notify;
    webhook_notify_config webhook;
    const entry* url = require(w, it->second, "url");
    auto parsed = url ? url_value(*url) : std::nullopt;
    auto key = secret(w, it->second, "secret");
    if (parsed && key) notify.webhook = webhook_notify_config{std::move(*parsed), std::move(*key)};
  }
  return notify;
}

}  // namespace

std::optional<http_url> parse_http_url(std::string_view text) {
  http_url url;
  url.text = std::string(text);
  std::string_view rest;
  if (text.starts_with("https://")) {
    url.tls = true;
    url.port = 443;
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.target = std::string(rest.substr(slash));
    if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  }
  // User info in a webhook URL would be a credential sent in clear to logs; refuse it.
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  const bool bracketed = authority.starts_with('[');
  const auto close = bracketed ? authority.find(']') : std::string_view::npos;
  if (bracketed && close == std::string_view::npos) return std::nullopt;
  const auto colon = authority.find(':', bracketed ? close : 0);
  url.host = std::string(bracketed ? authority.substr(1, close - 1) : authority.substr(0, colon));
  if (url.host.empty()) return std::nullopt;
  if (colon != std::string_view::npos) {
    const auto port = parse_unsigned(authority.substr(colon + 1), 1, 65535);
    if (std::holds_alternative<problem>(port)) return std::nullopt;
    url.port = static_cast<std::uint16_t>(std::get<std::uint64_t>(port));
  } else if (bracketed && close + 1 != authority.size()) {
    return std::nullopt;
  }
  return url;
}

approvals_config default_approvals_config(const std::filesystem::path& base_dir) {
  return approvals_config{resolve_path(base_dir, "approvals.db")};
}

approvals_config load_approvals_config(yaml::reader& r, const yaml::entry& e,
                                       const std::filesystem::path& base_dir) {
  return section_reader(r, base_dir, nullptr).approvals(e);
}

std::optional<admin_config> load_admin_config(yaml::reader& r, const yaml::entry& e,
                                              const std::filesystem::path& base_dir,
                                              const std::map<std::string, user_config>& users) {
  return section_reader(r, base_dir, &users).admin(e);
}

notify_config load_notify_config(yaml::reader& r, const yaml::entry& e, const std::filesystem::path& base_dir,
                                 const std::map<std::string, user_config>& users) {
  return section_reader(r, base_dir, &users).notify(e);
}

}  // namespace phigate

// The `capture:` section. yaml::reader keeps its typed readers for derived loaders, so this free function
// reads the few scalars it needs itself and reports every problem through reader.error().
#include "gateway/config_capture.hpp"

#include <algorithm>

#include "gateway/capture.hpp"
#include "gateway/config_helpers.hpp"
#include "gateway/seams.hpp"
#include "policy/yaml_reader.hpp"

namespace phigate {

namespace {

const std::vector<std::string_view> capture_keys = {"enabled", "file", "dir", "identities", "groups"};

std::optional<std::string> text_value(yaml::reader& reader, const yaml::entry& e) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    reader.error(e, "expected a non-empty string, got " + std::string(yaml::type_name(e.value)));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::vector<std::string> names_value(yaml::reader& reader, const yaml::entry& e) {
  std::vector<std::string> names;
  if (!e.value.IsSequence()) {
    reader.error(e, "expected a list of names, got " + std::string(yaml::type_name(e.value)));
    return names;
  }
  for (const auto& item : e.value) {
    if (item.IsScalar() && !item.Scalar().empty()) {
      names.push_back(item.Scalar());
    } else {
      reader.error(item.Mark(), e.path + ": expected a name, got " + std::string(yaml::type_name(item)));
    }
  }
  return names;
}

std::optional<bool> flag_value(yaml::reader& reader, const yaml::entry& e) {
  bool value = false;
  if (e.value.IsScalar() && e.value.Tag() != "!" && YAML::convert<bool>::decode(e.value, value)) return value;
  reader.error(e, "expected true or false, got " + std::string(yaml::type_name(e.value)));
  return std::nullopt;
}

// The section's pairs by key; unknown and duplicate keys are reported.
std::map<std::string, yaml::entry> section_fields(yaml::reader& reader, const yaml::entry& section) {
  std::map<std::string, yaml::entry> out;
  if (!section.value.IsMap()) {
    reader.error(section, "expected a mapping, got " + std::string(yaml::type_name(section.value)));
    return out;
  }
  for (auto it = section.value.begin(); it != section.value.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    yaml::entry e{it->first.Mark(), it->second, section.path + "." + name};
    if (std::find(capture_keys.begin(), capture_keys.end(), name) == capture_keys.end()) {
      std::string message = "unknown key '" + name + "' in " + section.path;
      if (const auto guess = yaml::closest_name(name, capture_keys))
        message += " (did you mean '" + std::string(*guess) + "'?)";
      reader.error(e.key_mark, message);
    } else if (!out.emplace(name, e).second) {
      reader.error(e.key_mark, "duplicate key '" + e.path + "'");
    }
  }
  return out;
}

}  // namespace

bool capture_config::captures(const session_identity& who) const {
  if (identities.empty() && groups.empty()) return true;
  if (std::find(identities.begin(), identities.end(), who.user) != identities.end()) return true;
  return std::any_of(who.groups.begin(), who.groups.end(), [&](const std::string& group) {
    return std::find(groups.begin(), groups.end(), group) != groups.end();
  });
}

void load_capture_section(yaml::reader& reader, const yaml::entry& section,
                          const std::filesystem::path& base_dir, capture_config& out) {
  const auto f = section_fields(reader, section);
  if (!section.value.IsMap()) return;
  if (const auto it = f.find("enabled"); it != f.end())
    out.enabled = flag_value(reader, it->second).value_or(true);
  if (const auto it = f.find("identities"); it != f.end()) out.identities = names_value(reader, it->second);
  if (const auto it = f.find("groups"); it != f.end()) out.groups = names_value(reader, it->second);
  const auto file = f.find("file");
  const auto dir = f.find("dir");
  if (file != f.end() && dir != f.end())
    return reader.error(dir->second.key_mark, section.path + ": give file or dir, not both");
  if (file == f.end() && dir == f.end())
    return reader.error(section.key_mark, section.path + ": say where captures go: set file or dir");
  const auto& where = file != f.end() ? file->second : dir->second;
  const auto text = text_value(reader, where);
  if (!text) return;
  out.path = config_detail::resolve_path(base_dir, *text);
  out.path_is_dir = dir != f.end();
  out.writer = capture_writer::shared_for(out.path, out.path_is_dir);
}

}  // namespace phigate

#include "policy/yaml_reader.hpp"

namespace phigate::yaml {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? "a quoted string" : "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<std::string_view> closest_name(std::string_view word,
                                             const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

void reader::error(const YAML::Mark& mark, std::string message) {
  const bool known = !mark.is_null();
  findings_.push_back({known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, std::move(message)});
}

/// The pairs of a mapping by key, reporting non-mappings, odd keys, duplicates and (when `allowed` is given)
/// unknown keys, with a suggestion when an unknown key looks like a typo of a known one.
std::map<std::string, entry> reader::fields(const entry& map, const std::vector<std::string_view>* allowed) {
  std::map<std::string, entry> out;
  if (!map.value.IsMap()) {
    error(map, "expected a mapping, got " + std::string(type_name(map.value)));
    return out;
  }
  for (auto it = map.value.begin(); it != map.value.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    entry e{it->first.Mark(), it->second, map.path.empty() ? name : map.path + "." + name};
    if (name.empty()) {
      error(it->first.Mark(), (map.path.empty() ? "" : map.path + ": ") + "keys must be non-empty names");
    } else if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      std::string message = "unknown key '" + name + "'" + (map.path.empty() ? "" : " in " + map.path);
      if (const auto guess = closest_name(name, *allowed))
        message += " (did you mean '" + std::string(*guess) + "'?)";
      error(e.key_mark, message);
    } else if (const auto [first, inserted] = out.emplace(name, e); !inserted) {
      error(e.key_mark, "duplicate key '" + e.path + "' (first at line " +
                            std::to_string(first->second.key_mark.line + 1) + ")");
    }
  }
  return out;
}

const entry* reader::require(const std::map<std::string, entry>& fields, const entry& parent,
                             const std::string& key) {
  const auto it = fields.find(key);
  if (it != fields.end()) return &it->second;
  error(parent.key_mark,
        (parent.path.empty() ? "" : parent.path + ": ") + "missing required key '" + key + "'");
  return nullptr;
}

std::optional<std::string> reader::string_value(const entry& e) {
  if (!e.value.IsScalar()) {
    error(e, "expected a string, got " + std::string(type_name(e.value)));
    return std::nullopt;
  }
  if (e.value.Scalar().empty()) {
    error(e, "must not be empty");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<bool> reader::bool_value(const entry& e) {
  bool value = false;
  if (!e.value.IsScalar() || e.value.Tag() == "!" || !YAML::convert<bool>::decode(e.value, value)) {
    error(e, "expected true or false, got " +
                 (e.value.IsScalar() ? "'" + e.value.Scalar() + "'" : std::string(type_name(e.value))));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> reader::string_list(const entry& e) {
  if (!e.value.IsSequence()) {
    error(e, "expected a list, got " + std::string(type_name(e.value)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const entry item{e.mark(), e.value[i], e.path + "[" + std::to_string(i) + "]"};
    if (auto text = string_value(item)) {
      out.push_back(std::move(*text));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

nested_reader::~nested_reader() {
  struct relayed {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
  };
  for (auto& e : take_errors<relayed>()) {
    YAML::Mark mark = YAML::Mark::null_mark();
    if (e.line > 0) {
      mark = YAML::Mark();
      mark.line = e.line - 1;
      mark.column = e.column - 1;
    }
    outer_.error(mark, std::move(e.message));
  }
}

}  // namespace phigate::yaml

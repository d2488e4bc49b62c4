// Reading a YAML file with errors a person can act on: every problem is collected (not just the first) with
// its 1-based line and column, unknown keys are refused with a "did you mean" hint, and duplicate keys are
// reported. The gateway config and the policy file are both read through it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phigate::yaml {

/// One `key: value` of a mapping. Errors about the value point at it, or at the key when the value is empty
/// (yaml-cpp places an empty value at the start of the next line, which would confuse the reader).
struct entry {
  YAML::Mark key_mark;
  YAML::Node value;
  std::string path;  ///< dotted path for messages: "users.analyst.role"

  YAML::Mark mark() const { return value.IsNull() || value.Mark().is_null() ? key_mark : value.Mark(); }
};

/// "a scalar", "a quoted string", "a list", "a mapping" or "nothing", for "expected X, got Y" messages.
std::string_view type_name(const YAML::Node& node);

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string_view> closest_name(std::string_view word,
                                             const std::vector<std::string_view>& candidates);

/// Collects problems and reads typed values; loaders derive from it and add their own sections.
class reader {
 public:
  explicit reader(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& mark, std::string message);
  void error(const entry& e, std::string_view message) {
    error(e.mark(), e.path + ": " + std::string(message));
  }

  /// The problems found, in file order, as the loader's own error type (fields file, line, column, message).
  template <class Error>
  std::vector<Error> take_errors() {
    std::stable_sort(findings_.begin(), findings_.end(), [](const finding& a, const finding& b) {
      return std::pair{a.line, a.column} < std::pair{b.line, b.column};
    });
    std::vector<Error> out;
    for (auto& f : findings_) out.push_back({file_, f.line, f.column, std::move(f.message)});
    findings_.clear();
    return out;
  }

 protected:
  std::size_t error_count() const noexcept { return findings_.size(); }
  /// The pairs of a mapping by key, reporting non-mappings, odd keys, duplicates and (when `allowed` is
  /// given) unknown keys.
  std::map<std::string, entry> fields(const entry& map, const std::vector<std::string_view>* allowed);
  std::map<std::string, entry> known_fields(const entry& map, const std::vector<std::string_view>& allowed) {
    return fields(map, &allowed);
  }
  const entry* require(const std::map<std::string, entry>& fields, const entry& parent,
                       const std::string& key);
  std::optional<std::string> string_value(const entry& e);  ///< a non-empty scalar
  std::optional<std::vector<std::string>> string_list(const entry& e);
  std::optional<bool> bool_value(const entry& e);

  std::string file_;

 private:
  struct finding {
    int line;
    int column;
    std::string message;
  };
  std::vector<finding> findings_;
};

/// A reader for one section of another reader's file, so a section can be parsed in a file of its own: its
/// findings go to the outer reader, with their line and column, when it is destroyed.
class nested_reader : public reader {
 public:
  explicit nested_reader(reader& outer) : reader(""), outer_(outer) {}
  nested_reader(const nested_reader&) = delete;
  nested_reader& operator=(const nested_reader&) = delete;
  ~nested_reader();

 private:
  reader& outer_;
};

}  // namespace phigate::yaml

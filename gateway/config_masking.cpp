#include "gateway/config_masking.hpp"

#include <algorithm>

#include "gateway/config_helpers.hpp"

namespace phigate {
namespace {

using yaml::entry;

constexpr std::uint64_t max_refresh_seconds = 86'400;

class masking_columns_reader : public yaml::nested_reader {
 public:
  using yaml::nested_reader::nested_reader;
  void load(const std::map<std::string, entry>& f, masking_config& masking);

 private:
  void load_columns(const entry& e, masking_config& masking);
  template <class Enum>
  std::optional<Enum> choice(const entry& e, std::string_view first, Enum first_value,
                             std::string_view second, Enum second_value);
};

template <class Enum>
std::optional<Enum> masking_columns_reader::choice(const entry& e, std::string_view first, Enum first_value,
                                                   std::string_view second, Enum second_value) {
  const auto text = string_value(e);
  if (!text) return std::nullopt;
  if (*text == first) return first_value;
  if (*text == second) return second_value;
  error(e,
        "unknown value '" + *text + "' (expected " + std::string(first) + " or " + std::string(second) + ")");
  return std::nullopt;
}

void masking_columns_reader::load_columns(const entry& e, masking_config& masking) {
  for (const auto& [name, value] : fields(e, nullptr)) {
    auto rule = masking::parse_column_name(name);
    if (!rule) {
      error(value.key_mark, e.path + ": '" + name + "' must name a column as schema.table.column");
      continue;
    }
    const auto text = string_value(value);
    if (!text) continue;
    const auto kind = masking::parse_transform_kind(*text);
    if (!kind) {
      error(value, "unknown transform '" + *text +
                       "' (expected redact, partial, pseudonym, hash, null, safe_harbor_date or zip3)");
      continue;
    }
    rule->transform = *kind;
    masking.columns.push_back(std::move(*rule));
  }
  const bool keyed = std::any_of(masking.columns.begin(), masking.columns.end(), [](const auto& r) {
    return r.transform == masking::transform_kind::pseudonym || r.transform == masking::transform_kind::hash;
  });
  if (keyed && !masking.rules.key)
    error(e.key_mark, e.path + ": the pseudonym and hash transforms need a key: set key_env or key_file");
}

void masking_columns_reader::load(const std::map<std::string, entry>& f, masking_config& masking) {
  if (const auto it = f.find("columns"); it != f.end()) load_columns(it->second, masking);
  if (const auto it = f.find("derived_columns"); it != f.end()) {
    masking.derived_columns =
        choice(it->second, "mask", masking::derived_action::mask, "refuse", masking::derived_action::refuse)
            .value_or(masking.derived_columns);
  }
  if (const auto it = f.find("whole_row"); it != f.end()) {
    masking.whole_row = choice(it->second, "refuse", masking::whole_row_action::refuse, "scan",
                               masking::whole_row_action::scan)
                            .value_or(masking.whole_row);
  }
  if (const auto it = f.find("metadata_role"); it != f.end())
    masking.metadata_role = string_value(it->second).value_or("");
  if (const auto it = f.find("metadata_refresh_seconds"); it != f.end()) {
    const entry& e = it->second;
    if (const auto text = string_value(e)) {
      auto seconds = config_detail::parse_unsigned(*text, 1, max_refresh_seconds);
      if (const auto* p = std::get_if<config_detail::problem>(&seconds))
        error(e, p->message);
      else
        masking.metadata_refresh = std::chrono::seconds(std::get<std::uint64_t>(seconds));
    }
  }
}

}  // namespace

void load_masking_columns(yaml::reader& r, const std::map<std::string, yaml::entry>& fields,
                          masking_config& masking) {
  masking_columns_reader reader(r);
  reader.load(fields, masking);
}

}  // namespace phigate

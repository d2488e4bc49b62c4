// The column-rule keys of the `masking:` section (columns, derived_columns, whole_row, metadata_role,
// metadata_refresh_seconds), read into the masking_config the main loader is filling.
#pragma once

#include <map>
#include <string>

#include "gateway/config.hpp"
#include "policy/yaml_reader.hpp"

namespace phigate {

/// Reads the column-rule keys among `fields` (the masking section's keys). Problems go to `r`.
void load_masking_columns(yaml::reader& r, const std::map<std::string, yaml::entry>& fields,
                          masking_config& masking);

}  // namespace phigate

// The `capture:` section of the gateway config: which sessions phigate records to a capture file for
// `phigate replay`. Capture files hold every statement with its literals, so capturing is off unless the
// section is present, and files are written 0600.
//
//   capture:
//     enabled: true                  # default true when the section is present
//     file: captures/phigate.pgcap   # appended to, one segment per gateway run; or
//     dir: captures/                 # a new file per gateway run: phigate-<UTC time>-<pid>.pgcap
//     identities: [alice]            # people to capture; absent (with groups absent) = everyone
//     groups: [clinical]             # or everyone in any of these phigate groups
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace phigate {

class capture_writer;
struct session_identity;

namespace yaml {
class reader;
struct entry;
}  // namespace yaml

struct capture_config {
  bool enabled = true;
  /// Where records go: the file itself (`file:`) or a directory for one new file per run (`dir:`), resolved
  /// against the config file's directory.
  std::string path;
  bool path_is_dir = false;
  std::vector<std::string> identities;  ///< phigate user names; empty together with groups = everyone
  std::vector<std::string> groups;
  /// The writer for `path`, shared by every config snapshot naming the same destination (a reload keeps
  /// writing to the same file). Opens the file at the first captured message, never at load time.
  std::shared_ptr<capture_writer> writer;

  /// True when sessions of `who` are recorded.
  bool captures(const session_identity& who) const;
};

/// Reads the `capture:` section into `out`, reporting problems through `reader` (unknown keys, both or
/// neither of file and dir, wrong types).
void load_capture_section(yaml::reader& reader, const yaml::entry& section,
                          const std::filesystem::path& base_dir, capture_config& out);

}  // namespace phigate

// The `audit:` section of the gateway config: where the tamper-evident audit log is stored, the HMAC key that
// hides statement text and parameters, and the Ed25519 key that signs checkpoints.
//
//     audit:
//       store: audit.db                  # SQLite file, relative to the config file's directory
//       key_env: PHIGATE_AUDIT_KEY       # or key_file: audit-hmac.key (at least 16 bytes)
//       key_id: 2026-12                  # names the key in records, so a rotated key can be told apart
//       signing_key_file: audit-signing.pem   # openssl genpkey -algorithm ed25519 -out audit-signing.pem
//       checkpoint_file: audit.checkpoints    # default: <store>.checkpoints
//       checkpoint_interval_ms: 60000
//       commit_delay_ms: 50              # ordinary records gather this long per transaction (group commit)
//       sync_interval_ms: 200            # ... and reach stable storage within this; 0: synced at each commit
//       keep_literals: false             # true stores the exact statement text too (PHI!)
//
// Absent section → no audit log.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace phigate {

namespace yaml {
class reader;
struct entry;
}  // namespace yaml

struct audit_config {
  bool enabled = true;
  std::string store;     ///< resolved path of the SQLite file
  std::string hmac_key;  ///< from key_env / key_file; never logged
  std::string key_id = "default";
  std::string signing_key_file;  ///< "" = no signed checkpoints
  std::string checkpoint_file;   ///< "" = checkpoints only in the store
  std::chrono::milliseconds checkpoint_interval{60'000};
  std::chrono::milliseconds commit_delay{50};
  std::chrono::milliseconds sync_interval{200};
  bool keep_literals = false;
};

/// Reads the `audit:` section. Problems go to `r` with their place in the file; `base_dir` is the config
/// file's directory.
audit_config load_audit_config(yaml::reader& r, const yaml::entry& e, const std::filesystem::path& base_dir);

}  // namespace phigate

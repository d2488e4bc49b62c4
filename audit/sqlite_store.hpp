// The embedded audit store: one SQLite file in WAL mode. Each append is one transaction, so a crash (kill -9,
// power loss) leaves whole records only. The store also notices when its file is
// deleted or replaced underneath it, which SQLite alone would not: it would keep writing to the unlinked
// inode and every record would vanish with the last handle.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "audit/sqlite_handles.hpp"
#include "audit/sqlite_record_index.hpp"
#include "audit/store.hpp"

namespace phigate::audit {

class sqlite_store final : public store {
 public:
  enum class mode {
    write,      ///< create the file and tables if missing; the gateway's single writer
    read_only,  ///< the CLI: never creates or changes anything
  };

  /// Opens (or creates) the store. Throws std::runtime_error with the reason when it cannot be opened.
  sqlite_store(std::string path, mode m);

  std::string head(chain_head& out) override;
  std::string append(const std::vector<stored_record>& records, bool sync) override;
  std::string sync() override;
  std::string add_checkpoint(const checkpoint& c) override;
  std::string read(const record_filter& filter, std::vector<stored_record>& out) override;
  std::string checkpoints(std::vector<checkpoint>& out) override;
  std::string check_index(std::uint64_t& seq) override;
  std::string check() override;
  std::string reopen() override;
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  std::string open();
  std::string exec(const char* sql);
  std::string failure(const char* what) const;
  std::string set_sync(bool sync);

  std::string path_;
  mode mode_;
  sqlite_ptr db_;
  sqlite_stmt_ptr insert_;
  sqlite_record_index index_;
  bool synced_ = true;  ///< synchronous=FULL is in effect
  ino_t inode_ = 0;
  dev_t device_ = 0;
};

}  // namespace phigate::audit

// The embedded audit store: one SQLite file in WAL mode. Each append is one transaction, so a crash (kill -9,
// power loss with synchronous=FULL) leaves whole records only. The store also notices when its file is
// deleted or replaced underneath it, which SQLite alone would not: it would keep writing to the unlinked
// inode and every record would vanish with the last handle.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "audit/store.hpp"

namespace phigate::audit {

struct sqlite_deleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct sqlite_stmt_deleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using sqlite_ptr = std::unique_ptr<sqlite3, sqlite_deleter>;
using sqlite_stmt_ptr = std::unique_ptr<sqlite3_stmt, sqlite_stmt_deleter>;

class sqlite_store final : public store {
 public:
  enum class mode {
    write,      ///< create the file and tables if missing; the gateway's single writer
    read_only,  ///< the CLI: never creates or changes anything
  };

  /// Opens (or creates) the store. Throws std::runtime_error with the reason when it cannot be opened.
  sqlite_store(std::string path, mode m);

  std::string head(chain_head& out) override;
  std::string append(const std::vector<stored_record>& records) override;
  std::string add_checkpoint(const checkpoint& c) override;
  std::string read(const record_filter& filter, std::vector<stored_record>& out) override;
  std::string checkpoints(std::vector<checkpoint>& out) override;
  std::string check() override;
  std::string reopen() override;
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  std::string open();
  std::string exec(const char* sql);
  std::string failure(const char* what) const;

  std::string path_;
  mode mode_;
  sqlite_ptr db_;
  sqlite_stmt_ptr insert_;
  ino_t inode_ = 0;
  dev_t device_ = 0;
};

}  // namespace phigate::audit

#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "approvals/request.hpp"

namespace phigate::approvals::testing {

/// A path for an SQLite file in the temp directory, unique per process and per use; removes the database
/// and its WAL and shared-memory files when done.
class temp_db_path {
 public:
  temp_db_path() {
    static std::atomic<int> counter{0};
    path_ =
        (std::filesystem::temp_directory_path() /
         ("phigate-approvals-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db"))
            .string();
    remove_all();
  }
  temp_db_path(const temp_db_path&) = delete;
  temp_db_path& operator=(const temp_db_path&) = delete;
  ~temp_db_path() { remove_all(); }

  [[nodiscard]] const std::string& str() const noexcept { return path_; }

 private:
  void remove_all() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
  }

  std::string path_;
};

/// A held COPY by bob, approvable by the "approvers" group, quorum 1, one minute to decide.
inline request sample_draft() {
  request r;
  r.requester = "bob";
  r.requester_groups = {"clinical"};
  r.database = "clinic";
  r.upstream_role = "clinic_reader";
  r.client_address = "127.0.0.1:50312";
  r.application_name = "psql";
  r.session_id = 42;
  r.rule_id = "exports-held";
  r.kind = "export";
  r.reason = "COPY to the client is held for approval";
  r.kind_reasons = {"export: COPY ... TO STDOUT"};
  r.statement = "COPY patients TO STDOUT";
  r.normalized = "COPY patients TO STDOUT";
  r.tables = {"public.patients"};
  r.digest = std::string(64, 'a');
  r.rules.groups = {"approvers"};
  r.rules.quorum = 1;
  r.rules.timeout = std::chrono::seconds(60);
  return r;
}

}  // namespace phigate::approvals::testing

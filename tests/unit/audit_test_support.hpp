// Shared by the audit unit tests: a scratch directory, fixed Ed25519 test keys, a log over a real SQLite
// store, and raw SQL on the store file (the way someone tampering with it would edit it).
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "audit/crypto.hpp"
#include "audit/sqlite_store.hpp"

namespace audit_test {

namespace fs = std::filesystem;
namespace audit = phigate::audit;

/// Made by `openssl genpkey -algorithm ed25519`; for tests only.
inline constexpr std::string_view signing_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIG/Jzyd3CkKCH3g40ELtMyGLhq0I9NJk+BmXNq2RBGLZ\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr std::string_view other_signing_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIMgsZGoDoa09JeC4aCLmeDfcYcFWokXXu+GeDgQ1I705\n"
    "-----END PRIVATE KEY-----\n";

inline std::shared_ptr<const audit::signing_key> test_signer(std::string_view pem = signing_pem) {
  std::string problem;
  auto key = audit::signing_key::from_pem(pem, problem);
  return std::make_shared<const audit::signing_key>(std::move(*key));
}

inline audit::verify_key test_verifier(std::string_view pem = signing_pem) {
  std::string problem;
  return *audit::verify_key::from_pem(pem, problem);
}

/// A fresh directory removed with everything in it at scope exit.
class scratch_dir {
 public:
  scratch_dir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("phigate_audit_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~scratch_dir() { fs::remove_all(path_); }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::unique_ptr<audit::sqlite_store> writer_store(const std::string& path) {
  return std::make_unique<audit::sqlite_store>(path, audit::sqlite_store::mode::write);
}

/// An event of `kind` about `person`.
inline audit::event make_event(audit::event_kind kind, std::string person, std::uint64_t session = 1) {
  audit::event e;
  e.kind = kind;
  e.session = session;
  audit::actor who;
  who.person = std::move(person);
  who.groups = {"clinical"};
  who.client_address = "127.0.0.1:5000";
  who.database = "clinic";
  e.who = std::make_shared<const audit::actor>(std::move(who));
  return e;
}

/// A `statement` event: an allowed read's decision and its outcome (`rows` rows) in one record.
inline audit::event make_statement_event(std::string person, std::uint64_t session, std::uint64_t rows) {
  auto e = make_event(audit::event_kind::statement, std::move(person), session);
  e.statement = audit::statement_info{"SELECT * FROM patients WHERE id = $1", std::string(64, 'a'), "", "k1",
                                      std::nullopt};
  e.decision = audit::decision_info{"allow", "clinical-read", "", {"read"}, {"patients"}, ""};
  audit::outcome_info outcome;
  outcome.rows = rows;
  outcome.command = "SELECT";
  outcome.masked = {{"SSN", rows}};
  e.outcome = std::move(outcome);
  return e;
}

/// Runs SQL on the store file with a separate connection, as an attacker with file access would.
inline void tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string text = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("tamper SQL failed: " + text);
}

}  // namespace audit_test

// verify against every kind of edit to the store: a flipped byte, a deleted, reordered or inserted record, a
// truncated tail (below and above the last checkpoint), a rewritten chain, a bad checkpoint signature, an
// edited export index.
#include <catch2/catch.hpp>

#include "audit/verifier.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;
using audit_test::make_event;
using audit_test::tamper;

namespace {

/// What someone who cuts records off would run next to hide it from the export index.
constexpr const char* rebuild_index =
    "DELETE FROM audit_seconds; DELETE FROM audit_person_seconds;"
    "INSERT INTO audit_seconds SELECT time_us / 1000000, min(seq), max(seq) FROM audit_records GROUP BY 1;"
    "INSERT INTO audit_person_seconds SELECT person, time_us / 1000000, min(seq), max(seq) FROM "
    "audit_records "
    "GROUP BY 1, 2;";

/// A store with `records` records and one signed checkpoint covering the first `checkpointed`.
struct sample_log {
  audit_test::scratch_dir dir;
  std::string path = dir.file("audit.db");
  std::vector<checkpoint> shipped;
  verify_key key = audit_test::test_verifier();

  explicit sample_log(int records = 10, int checkpointed = 8) {
    log_options options;
    options.signer = audit_test::test_signer();
    options.checkpoint_file = dir.file("audit.checkpoints");
    options.checkpoint_interval = std::chrono::hours(1);
    {
      audit_log log(audit_test::writer_store(path), options);
      for (int i = 1; i <= checkpointed; ++i) log.append(make_event(event_kind::decision, "alice", i));
    }  // closing signs a checkpoint at `checkpointed`
    {
      audit_log log(audit_test::writer_store(path), {});
      for (int i = checkpointed + 1; i <= records; ++i) log.append(make_event(event_kind::outcome, "bob", i));
    }
    REQUIRE(read_checkpoint_file(dir.file("audit.checkpoints"), shipped).empty());
  }

  verify_report verify(bool with_file = true) {
    sqlite_store reader(path, sqlite_store::mode::read_only);
    verify_options options;
    options.key = &key;
    if (with_file) options.external = shipped;
    return verify_log(reader, options);
  }
};

}  // namespace

TEST_CASE("an untouched log verifies, with the records after the checkpoint named as unverified tail",
          "[audit][verify]") {
  sample_log log;
  const auto report = log.verify();
  CHECK(report.ok());
  CHECK(report.records == 10);
  CHECK(report.verified_through == 8);
  REQUIRE(report.notes.size() == 1);
  CHECK(report.notes[0].find("unverified tail: records 9..10") != std::string::npos);
}

TEST_CASE("a flipped byte in a record is reported at that record", "[audit][verify]") {
  sample_log log;
  tamper(log.path, "UPDATE audit_records SET body = replace(body, 'alice', 'alicf') WHERE seq = 4");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 4);
  CHECK(report.problem->what.find("altered") != std::string::npos);
}

TEST_CASE("an edited index column is reported even when the body is intact", "[audit][verify]") {
  sample_log log;
  tamper(log.path, "UPDATE audit_records SET person = 'mallory' WHERE seq = 6");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 6);
}

TEST_CASE("a deleted record is reported where the gap starts", "[audit][verify]") {
  sample_log log;
  tamper(log.path, "DELETE FROM audit_records WHERE seq = 5");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 5);
  CHECK(report.problem->what.find("missing") != std::string::npos);
}

TEST_CASE("two swapped records are reported at the first of them", "[audit][verify]") {
  sample_log log;
  tamper(log.path,
         "UPDATE audit_records SET seq = -3 WHERE seq = 3; UPDATE audit_records SET seq = 3 WHERE seq = 4;"
         "UPDATE audit_records SET seq = 4 WHERE seq = -3;");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 3);
  CHECK(report.problem->what.find("out of place") != std::string::npos);
}

TEST_CASE("an inserted record is reported where it breaks the chain", "[audit][verify]") {
  sample_log log;
  // Shift records 6.. up by one and copy record 2 into the hole, with a hash that matches its new body.
  tamper(
      log.path,
      "UPDATE audit_records SET seq = -seq WHERE seq >= 6; UPDATE audit_records SET seq = 1 - seq WHERE seq "
      "< 0;"
      "INSERT INTO audit_records SELECT 6, time_us, kind, person, replace(body, '\"seq\":2,', '\"seq\":6,'), "
      "hash FROM audit_records WHERE seq = 2;");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 6);
}

TEST_CASE("a tail cut below the last checkpoint is truncation", "[audit][verify]") {
  sample_log log;
  tamper(log.path, std::string("DELETE FROM audit_records WHERE seq >= 7; DELETE FROM audit_checkpoints;") +
                       rebuild_index);
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 7);
  CHECK(report.problem->what.find("truncated") != std::string::npos);
  // Without the shipped checkpoint file the deletion of the stored checkpoints hides it: ship the file.
  CHECK(log.verify(false).ok());
}

TEST_CASE("a tail cut after the last checkpoint, with the export index rebuilt, is an unverified tail",
          "[audit][verify]") {
  sample_log log;
  tamper(log.path, std::string("DELETE FROM audit_records WHERE seq >= 10;") + rebuild_index);
  const auto report = log.verify();
  CHECK(report.ok());
  CHECK(report.last_seq == 9);
  REQUIRE_FALSE(report.notes.empty());
  CHECK(report.notes.back().find("unverified tail: records 9..9") != std::string::npos);
}

TEST_CASE("a tail cut after the last checkpoint is truncation while the export index still lists it",
          "[audit][verify]") {
  sample_log log;
  tamper(log.path, "DELETE FROM audit_records WHERE seq >= 10");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 10);
  CHECK(report.problem->what.find("truncated") != std::string::npos);
  CHECK(report.problem->what.find("up to 10 but the log ends at record 9") != std::string::npos);
}

TEST_CASE("an edited export index is reported, with the first record it would hide", "[audit][verify]") {
  sample_log log;
  tamper(log.path, "UPDATE audit_person_seconds SET first_seq = first_seq + 1 WHERE person = 'bob'");
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 9);
  CHECK(report.problem->what.find("export index") != std::string::npos);
}

TEST_CASE("a chain recomputed after an edit still fails against the signed checkpoint", "[audit][verify]") {
  sample_log log(3, 3);
  // Rewrite record 3 and give it a matching hash: the chain alone cannot tell, the checkpoint can.
  tamper(log.path,
         "UPDATE audit_records SET body = replace(body, 'alice', 'carol'), person = 'carol' WHERE seq = 3");
  {
    sqlite_store reader(log.path, sqlite_store::mode::read_only);
    std::vector<stored_record> records;
    REQUIRE(reader.read({}, records).empty());
    tamper(log.path, "UPDATE audit_records SET hash = '" + sha256_hex(records[2].body) + "' WHERE seq = 3");
  }
  const auto report = log.verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 3);
  CHECK(report.problem->what.find("checkpoint") != std::string::npos);
}

TEST_CASE("a checkpoint with a bad signature is reported", "[audit][verify]") {
  sample_log log;
  auto forged = log.shipped;
  forged[0].signature[10] = forged[0].signature[10] == '0' ? '1' : '0';
  sqlite_store reader(log.path, sqlite_store::mode::read_only);
  verify_options options{&log.key, forged};
  const auto report = verify_log(reader, options);
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 8);
  CHECK(report.problem->what.find("invalid signature") != std::string::npos);
  const auto other = audit_test::test_verifier(audit_test::other_signing_pem);
  options = {&other, log.shipped};
  CHECK_FALSE(verify_log(reader, options).ok());
}

TEST_CASE(
    "statement records (a decision and its outcome in one) verify, and an edit to either half is caught",
    "[audit][verify]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  {
    audit_log log(audit_test::writer_store(path), {});
    for (std::uint64_t i = 1; i <= 4; ++i) log.append(audit_test::make_statement_event("alice", i, 3));
  }
  const auto verify = [&] {
    sqlite_store reader(path, sqlite_store::mode::read_only);
    return verify_log(reader, {});
  };
  REQUIRE(verify().ok());
  CHECK(verify().records == 4);
  tamper(path, "UPDATE audit_records SET body = replace(body, '\"rows\":3,', '\"rows\":0,') WHERE seq = 3");
  auto report = verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 3);
  CHECK(report.problem->what.find("altered") != std::string::npos);
  tamper(path, "UPDATE audit_records SET body = replace(body, '\"rows\":0,', '\"rows\":3,') WHERE seq = 3");
  REQUIRE(verify().ok());  // the original bytes again
  tamper(path,
         "UPDATE audit_records SET body = replace(body, '\"verdict\":\"allow\"', '\"verdict\":\"deny\"') "
         "WHERE seq = 2");
  report = verify();
  REQUIRE(report.problem);
  CHECK(report.problem->seq == 2);
}

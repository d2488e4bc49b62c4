// The SQLite store: filtered reads through the per-second export index find exactly what a scan of every
// record finds (records out of time order, many transactions, paging), a store written before the index
// gets it on its next open for writing, and ordinary commits are synced within the sync interval while
// durable ones are synced at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <random>
#include <thread>

#include "audit/verifier.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;
using audit_test::make_event;

namespace {

const std::vector<std::string> people = {"alice", "bob", "carol"};
// 2026-12-05T00:00:00Z
constexpr std::int64_t base_us = 1'796'428'800'000'000;

// `count` events over `seconds` seconds in random time order (as capture times of sessions on several
// threads can be), in transactions of random size.
void write_log(const std::string& path, int count, int seconds, unsigned seed) {
  std::mt19937 rng(seed);
  audit_log log(audit_test::writer_store(path), {});
  for (int i = 0; i < count; ++i) {
    auto e = make_event(event_kind::connection, people[rng() % people.size()]);
    e.time = std::chrono::system_clock::time_point(
        std::chrono::microseconds(base_us + static_cast<std::int64_t>(rng() % (seconds * 1'000'000ULL))));
    log.append(std::move(e));
    if (rng() % 40 == 0) log.flush();
  }
}

bool matches(const stored_record& r, const record_filter& f) {
  return r.seq > f.after_seq && (!f.since_us || r.time_us >= *f.since_us) &&
         (!f.until_us || r.time_us < *f.until_us) && (!f.person || r.person == *f.person);
}

std::vector<std::uint64_t> seqs(const std::vector<stored_record>& records) {
  std::vector<std::uint64_t> out;
  for (const auto& r : records) out.push_back(r.seq);
  return out;
}

// Reads with `filter` and compares with the records a plain scan keeps.
void check_filter(store& s, const std::vector<stored_record>& all, const record_filter& filter) {
  std::vector<stored_record> got;
  REQUIRE(s.read(filter, got).empty());
  std::vector<std::uint64_t> want;
  for (const auto& r : all)
    if (matches(r, filter) && (filter.limit == 0 || want.size() < filter.limit)) want.push_back(r.seq);
  CHECK(seqs(got) == want);
}

void check_random_filters(store& s, unsigned seed) {
  std::vector<stored_record> all;
  REQUIRE(s.read({}, all).empty());
  REQUIRE(all.size() > 100);
  std::mt19937 rng(seed);
  for (int i = 0; i < 200; ++i) {
    record_filter f;
    if (rng() % 2) f.since_us = base_us + static_cast<std::int64_t>(rng() % 12'000'000) - 1'000'000;
    if (rng() % 2) f.until_us = base_us + static_cast<std::int64_t>(rng() % 12'000'000);
    if (rng() % 2) f.person = rng() % 5 == 0 ? "nobody" : people[rng() % people.size()];
    if (rng() % 3 == 0) f.after_seq = rng() % all.size();
    if (rng() % 3 == 0) f.limit = 1 + rng() % 50;
    check_filter(s, all, f);
  }
}

// Counts what the log asks of its store.
class counting_store final : public store {
 public:
  explicit counting_store(const std::string& path) : inner_(path, sqlite_store::mode::write) {}
  std::string head(chain_head& out) override { return inner_.head(out); }
  std::string append(const std::vector<stored_record>& records, bool sync) override {
    std::lock_guard lock(mutex_);
    (sync ? synced_appends : unsynced_appends) += 1;
    return inner_.append(records, sync);
  }
  std::string sync() override {
    std::lock_guard lock(mutex_);
    ++syncs;
    return inner_.sync();
  }
  std::string add_checkpoint(const checkpoint& c) override { return inner_.add_checkpoint(c); }
  std::string read(const record_filter& f, std::vector<stored_record>& out) override {
    return inner_.read(f, out);
  }
  std::string checkpoints(std::vector<checkpoint>& out) override { return inner_.checkpoints(out); }
  std::string check_index(std::uint64_t& seq) override { return inner_.check_index(seq); }
  std::string check() override { return inner_.check(); }
  std::string reopen() override { return inner_.reopen(); }
  std::string describe() const override { return inner_.describe(); }

  struct counts {
    int synced_appends, unsynced_appends, syncs;
  };
  counts snapshot() {
    std::lock_guard lock(mutex_);
    return {synced_appends, unsynced_appends, syncs};
  }

 private:
  sqlite_store inner_;
  std::mutex mutex_;
  int synced_appends = 0;
  int unsynced_appends = 0;
  int syncs = 0;
};

}  // namespace

TEST_CASE("filtered reads through the export index find what a full scan finds", "[audit][store]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  write_log(path, 600, 10, 7);
  sqlite_store reader(path, sqlite_store::mode::read_only);
  check_random_filters(reader, 11);
  CHECK(verify_log(reader, {}).ok());
}

TEST_CASE(
    "a store written before the export index is read by scanning, and indexed on its next open for "
    "writing",
    "[audit][store]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  write_log(path, 300, 10, 3);
  // What such a store looked like: an index entry per record, no per-second tables.
  audit_test::tamper(path,
                     "DROP TABLE audit_seconds; DROP TABLE audit_person_seconds;"
                     "CREATE INDEX audit_records_time ON audit_records (time_us);"
                     "CREATE INDEX audit_records_person ON audit_records (person, seq);");
  {
    sqlite_store old(path, sqlite_store::mode::read_only);
    check_random_filters(old, 5);
  }
  { audit_log(audit_test::writer_store(path), {}).append(make_event(event_kind::gateway_start, "")); }
  sqlite_store reader(path, sqlite_store::mode::read_only);
  check_random_filters(reader, 6);
  const auto report = verify_log(reader, {});
  CHECK(report.ok());
  CHECK(report.records == 301);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'audit_records_%'", -1,
      &stmt, nullptr);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(sqlite3_column_int(stmt, 0) == 0);  // the per-record indexes are gone
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_CASE("ordinary commits are synced within the sync interval, durable ones at once", "[audit][store]") {
  audit_test::scratch_dir dir;
  auto owned = std::make_unique<counting_store>(dir.file("audit.db"));
  auto& counts = *owned;
  log_options options;
  options.commit_delay = std::chrono::milliseconds(1);
  options.sync_interval = std::chrono::milliseconds(1000);
  audit_log log(std::move(owned), options);

  log.append(make_event(event_kind::connection, "alice"));
  // Committed (visible to readers) without a sync...
  for (int i = 0; i < 100 && log.committed_seq() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(log.committed_seq() == 1);
  auto c = counts.snapshot();
  CHECK(c.unsynced_appends == 1);
  CHECK(c.synced_appends == 0);
  CHECK(c.syncs == 0);
  // ... and synced once the interval has passed, with nothing else to write.
  for (int i = 0; i < 600 && counts.snapshot().syncs == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(counts.snapshot().syncs == 1);

  REQUIRE(log.append_durable(make_event(event_kind::decision, "alice")));
  c = counts.snapshot();
  CHECK(c.synced_appends == 1);
  CHECK(c.syncs == 1);  // the durable commit needs no sync after it
  log.close();
  CHECK(counts.snapshot().syncs == 1);
}

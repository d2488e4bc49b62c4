// The writer: records are numbered and chained in append order, many threads' events land in one chain with
// each thread's order kept (group commit), durable appends return after their commit, checkpoints are
// signed, and a failing store turns the log unhealthy until a retry succeeds.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "audit/canonical_json.hpp"
#include "audit/verifier.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;
using audit_test::make_event;

namespace {

std::vector<stored_record> read_all(const std::string& path) {
  sqlite_store reader(path, sqlite_store::mode::read_only);
  std::vector<stored_record> out;
  REQUIRE(reader.read({}, out).empty());
  return out;
}

}  // namespace

TEST_CASE("records are numbered from 1 and each carries the previous record's hash", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  {
    audit_log log(audit_test::writer_store(path), {});
    for (int i = 0; i < 5; ++i) log.append(make_event(event_kind::connection, "p" + std::to_string(i)));
    log.flush();
    CHECK(log.committed_seq() == 5);
  }
  const auto records = read_all(path);
  REQUIRE(records.size() == 5);
  std::string prev(genesis_hash);
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].seq == i + 1);
    CHECK(records[i].person == "p" + std::to_string(i));
    CHECK(records[i].hash == sha256_hex(records[i].body));
    CHECK(records[i].body.find("\"prev\":\"" + prev + "\"") != std::string::npos);
    prev = records[i].hash;
  }
}

TEST_CASE("a reopened log continues the chain where it ended", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  { audit_log(audit_test::writer_store(path), {}).append(make_event(event_kind::gateway_start, "")); }
  {
    audit_log log(audit_test::writer_store(path), {});
    log.append(make_event(event_kind::gateway_stop, ""));
  }
  sqlite_store reader(path, sqlite_store::mode::read_only);
  const auto report = verify_log(reader, {});
  CHECK(report.ok());
  CHECK(report.records == 2);
}

TEST_CASE("group commit keeps every thread's order and loses nothing", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  constexpr int threads = 4, per_thread = 500;
  {
    audit_log log(audit_test::writer_store(path), {});
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&log, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto e =
              make_event(event_kind::outcome, "t" + std::to_string(t), static_cast<std::uint64_t>(i + 1));
          if (i % 100 == 99)
            CHECK(log.append_durable(std::move(e)));
          else
            log.append(std::move(e));
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  const auto records = read_all(path);
  REQUIRE(records.size() == threads * per_thread);
  std::map<std::string, std::uint64_t> last_session;
  for (const auto& r : records) {
    const auto pos = r.body.find("\"session\":");
    const auto session = std::stoull(r.body.substr(pos + 10));
    CHECK(session == last_session[r.person] + 1);
    last_session[r.person] = session;
  }
}

TEST_CASE("a durable append returns only once its record is committed", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  audit_log log(audit_test::writer_store(path), {});
  log.append(make_event(event_kind::connection, "a"));
  REQUIRE(log.append_durable(make_event(event_kind::decision, "a")));
  CHECK(read_all(path).size() == 2);
}

TEST_CASE("checkpoints are signed, stored and written to the checkpoint file", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  const auto file = dir.file("audit.checkpoints");
  {
    log_options options;
    options.signer = audit_test::test_signer();
    options.checkpoint_file = file;
    options.checkpoint_interval = std::chrono::milliseconds(20);
    audit_log log(audit_test::writer_store(path), options);
    log.append(make_event(event_kind::connection, "a"));
    log.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log.append(make_event(event_kind::connection, "b"));
  }  // close writes the final checkpoint
  std::vector<checkpoint> shipped;
  REQUIRE(read_checkpoint_file(file, shipped).empty());
  REQUIRE(shipped.size() == 2);
  CHECK(shipped[0].tree_size == 1);
  CHECK(shipped[1].tree_size == 2);
  sqlite_store reader(path, sqlite_store::mode::read_only);
  const auto key = audit_test::test_verifier();
  verify_options options{&key, shipped};
  const auto report = verify_log(reader, options);
  CHECK(report.ok());
  CHECK(report.verified_through == 2);
  CHECK(report.notes.empty());
}

TEST_CASE("a deleted store file makes the log unhealthy, and a retry recreates it and continues the chain",
          "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  std::vector<std::pair<log_notice, std::string>> notices;
  std::mutex m;
  log_options options;
  options.retry_interval = std::chrono::milliseconds(200);
  audit_log log(audit_test::writer_store(path), options, [&](log_notice n, const std::string& text) {
    std::lock_guard lock(m);
    notices.emplace_back(n, text);
  });
  REQUIRE(log.append_durable(make_event(event_kind::connection, "a")));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  CHECK_FALSE(log.append_durable(make_event(event_kind::decision, "a")));
  CHECK_FALSE(log.healthy());
  CHECK(log.unhealthy_reason().find("was deleted") != std::string::npos);
  // Refused at once while unhealthy: nobody waits on a store that is known to fail.
  CHECK_FALSE(log.append_durable(make_event(event_kind::decision, "a")));
  for (int i = 0; i < 50 && !log.healthy(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(log.healthy());
  log.flush();
  const auto records = read_all(path);
  REQUIRE(records.size() == 2);  // both queued decisions, numbered after the lost record
  CHECK(records.front().seq == 2);
  std::lock_guard lock(m);
  REQUIRE(notices.size() >= 2);
  CHECK(notices.front().first == log_notice::unhealthy);
  CHECK(notices.back().first == log_notice::recovered);
}

TEST_CASE("ordinary events gather for the commit delay, but a durable append or flush does not wait for it",
          "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  log_options options;
  options.commit_delay = std::chrono::milliseconds(60'000);
  audit_log log(audit_test::writer_store(path), options);
  log.append(make_event(event_kind::connection, "a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(log.committed_seq() == 0);  // still gathering
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(log.append_durable(make_event(event_kind::decision, "a")));
  CHECK(log.committed_seq() == 2);  // the earlier event went in the same transaction
  log.append(make_event(event_kind::outcome, "a"));
  log.flush();
  CHECK(log.committed_seq() == 3);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

namespace {

// Facts that stand for several events, as a session's batch of statements does.
class notes_event final : public pending_event {
 public:
  explicit notes_event(const std::vector<std::string>& notes) {
    for (const auto& note : notes) {
      events_.push_back(make_event(event_kind::connection, "a"));
      events_.back().detail = note;
    }
  }
  void items(std::vector<record_item>& out) override {
    for (const auto& e : events_) out.push_back(view_of(e));
  }

 private:
  std::vector<event> events_;
};

}  // namespace

TEST_CASE("one pending event may stand for several events or none, written in order", "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  {
    audit_log log(audit_test::writer_store(path), {});
    CHECK(log.append(std::make_unique<notes_event>(std::vector<std::string>{"first", "second"})));
    CHECK(log.append(std::make_unique<notes_event>(std::vector<std::string>{})));
    log.append(make_event(event_kind::connection, "b"));
    log.flush();
    CHECK(log.committed_seq() == 3);
    CHECK(log.append(std::make_unique<notes_event>(std::vector<std::string>{})));
    log.flush();  // a transaction with no records leaves the chain as it was
    CHECK(log.committed_seq() == 3);
    log.append(make_event(event_kind::connection, "c"));
  }
  const auto records = read_all(path);
  REQUIRE(records.size() == 4);
  CHECK(records[0].body.find("\"detail\":\"first\"") != std::string::npos);
  CHECK(records[1].body.find("\"detail\":\"second\"") != std::string::npos);
  CHECK(records[2].person == "b");
  CHECK(records[3].person == "c");
  sqlite_store reader(path, sqlite_store::mode::read_only);
  CHECK(verify_log(reader, {}).ok());
}

TEST_CASE("a new store is created with 16 KiB pages, and an existing store keeps its page size",
          "[audit][log]") {
  audit_test::scratch_dir dir;
  const auto page_size = [](const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    const int size = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return size;
  };
  const auto fresh = dir.file("fresh.db");
  { audit_log(audit_test::writer_store(fresh), {}).append(make_event(event_kind::gateway_start, "")); }
  CHECK(page_size(fresh) == 16384);
  const auto older = dir.file("older.db");
  audit_test::tamper(older, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t (x)");
  { audit_log(audit_test::writer_store(older), {}).append(make_event(event_kind::gateway_start, "")); }
  CHECK(page_size(older) == 4096);
  sqlite_store reader(older, sqlite_store::mode::read_only);
  CHECK(verify_log(reader, {}).ok());
}

// The capture file format: what the gateway's writer records reads back exactly (sessions, identities,
// message bytes, times), appended runs become separate segments, damaged files are refused with the byte
// offset, and files are private (0600).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "gateway/capture.hpp"
#include "gateway/replay_capture.hpp"
#include "gateway/replay_plan.hpp"
#include "protocol/postgres/messages.hpp"

namespace fs = std::filesystem;
using namespace phigate;

namespace {

std::string query_bytes(std::string_view sql) {
  std::string out;
  pg::query{sql}.encode(out);
  return out;
}

pg::frame frame_of(const std::string& bytes) {
  return *pg::split_frame(as_bytes(bytes), bytes.size());
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("phigate_replay_capture_test_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

replay::capture sample_capture() {
  replay::capture c;
  replay::session a;
  a.user = "alice";
  a.database = "clinic";
  a.application_name = "psql";
  a.start_us = 1'000'000;
  a.messages.push_back({1'000'100, query_bytes("SELECT 1")});
  a.messages.push_back({1'000'900, query_bytes("SELECT 'x' || 2")});
  replay::session b;
  b.user = "bob";
  b.database = "postgres";
  b.start_us = 1'000'050;
  std::string sync;
  pg::encode_empty(sync, pg::frontend_type::sync);
  b.messages.push_back({1'000'060, sync});
  c.sessions = {a, b};
  return c;
}

}  // namespace

TEST_CASE("a capture written by encode_capture reads back with every field and byte", "[replay]") {
  const auto original = sample_capture();
  const auto parsed = replay::parse_capture(replay::encode_capture(original));
  REQUIRE(std::holds_alternative<replay::capture>(parsed));
  const auto& c = std::get<replay::capture>(parsed);
  REQUIRE(c.sessions.size() == 2);
  CHECK(c.sessions[0].key == "1:1");
  CHECK(c.sessions[0].user == "alice");
  CHECK(c.sessions[0].database == "clinic");
  CHECK(c.sessions[0].application_name == "psql");
  CHECK(c.sessions[0].start_us == 1'000'000);
  REQUIRE(c.sessions[0].messages.size() == 2);
  CHECK(c.sessions[0].messages[1].time_us == 1'000'900);
  CHECK(c.sessions[0].messages[1].bytes == query_bytes("SELECT 'x' || 2"));
  CHECK(c.sessions[1].user == "bob");
  CHECK(c.sessions[1].messages[0].type() == pg::frontend_type::sync);
  CHECK(c.first_us() == 1'000'000);
  CHECK(c.message_count() == 3);
}

TEST_CASE("a capture file starts with the versioned header", "[replay]") {
  const auto bytes = replay::encode_capture(sample_capture());
  CHECK(bytes.starts_with("PHIGATE-CAPTURE 1\n"));
}

TEST_CASE("damaged or foreign capture files are refused with the offset where reading stopped", "[replay]") {
  SECTION("not a capture") {
    const auto r = replay::parse_capture("hello");
    REQUIRE(std::holds_alternative<replay::read_error>(r));
    CHECK(std::get<replay::read_error>(r).offset == 0);
  }
  SECTION("another version") {
    const auto r = replay::parse_capture("PHIGATE-CAPTURE 2\n");
    REQUIRE(std::holds_alternative<replay::read_error>(r));
    CHECK(std::get<replay::read_error>(r).message.find("version") != std::string::npos);
  }
  SECTION("cut at every offset inside a record") {
    std::string raw(capture_format::header);
    encode_session_start({7, 0, "alice", "clinic", "psql"}, raw);
    const std::size_t boundary = raw.size();
    encode_message_record(7, 5, query_bytes("SELECT 1"), raw);
    CHECK(std::holds_alternative<replay::capture>(replay::parse_capture(raw)));
    for (std::size_t cut = capture_format::header.size() + 1; cut < raw.size(); ++cut) {
      if (cut == boundary) continue;
      INFO("cut at " << cut);
      CHECK(std::holds_alternative<replay::read_error>(
          replay::parse_capture(std::string_view(raw).substr(0, cut))));
    }
  }
  SECTION("a message before its session start") {
    std::string raw(capture_format::header);
    encode_message_record(7, 0, query_bytes("SELECT 1"), raw);
    const auto r = replay::parse_capture(raw);
    REQUIRE(std::holds_alternative<replay::read_error>(r));
    CHECK(std::get<replay::read_error>(r).message.find("before its start") != std::string::npos);
  }
  SECTION("a message record that holds more than one message") {
    std::string raw(capture_format::header);
    encode_session_start({7, 0, "u", "d", ""}, raw);
    encode_message_record(7, 0, query_bytes("SELECT 1") + query_bytes("SELECT 2"), raw);
    CHECK(std::holds_alternative<replay::read_error>(replay::parse_capture(raw)));
  }
}

TEST_CASE("the gateway's capture writer records sessions to a 0600 file that replay reads", "[replay]") {
  const auto path = temp_file("writer.pgcap");
  fs::remove(path);
  session_identity alice{.user = "alice", .database = "clinic", .application_name = "psql"};
  session_identity bob{.user = "bob", .database = "postgres"};
  std::string terminate;
  pg::encode_empty(terminate, pg::frontend_type::terminate);
  {
    capture_writer writer(path.string(), false);
    const auto q1 = query_bytes("SELECT 1");
    const auto q2 = query_bytes("SELECT 2");
    writer.record(11, alice, frame_of(q1));
    writer.record(12, bob, frame_of(q2));
    writer.record(11, alice, frame_of(terminate));
    CHECK(writer.file_path() == path.string());
  }
  CHECK(mode_of(path) == 0600);
  const auto parsed = replay::parse_capture(read_all(path));
  REQUIRE(std::holds_alternative<replay::capture>(parsed));
  const auto& c = std::get<replay::capture>(parsed);
  REQUIRE(c.sessions.size() == 2);
  CHECK(c.sessions[0].key == "1:11");
  CHECK(c.sessions[0].user == "alice");
  CHECK(c.sessions[0].application_name == "psql");
  REQUIRE(c.sessions[0].messages.size() == 2);
  CHECK(c.sessions[0].messages[0].bytes == query_bytes("SELECT 1"));
  CHECK(c.sessions[0].messages[1].type() == pg::frontend_type::terminate);
  CHECK(c.sessions[1].database == "postgres");
  fs::remove(path);
}

TEST_CASE("a second gateway run appending to the same file starts its own segment", "[replay]") {
  const auto path = temp_file("append.pgcap");
  fs::remove(path);
  session_identity who{.user = "alice", .database = "clinic"};
  const auto q = query_bytes("SELECT 1");
  for (int run = 0; run < 2; ++run) {
    capture_writer writer(path.string(), false);
    writer.record(1, who, frame_of(q));  // every run numbers its sessions from 1
  }
  const auto parsed = replay::parse_capture(read_all(path));
  REQUIRE(std::holds_alternative<replay::capture>(parsed));
  const auto& c = std::get<replay::capture>(parsed);
  REQUIRE(c.sessions.size() == 2);
  CHECK(c.sessions[0].key == "1:1");
  CHECK(c.sessions[1].key == "2:1");
  fs::remove(path);
}

TEST_CASE("write_capture_file makes the file private even when it existed before", "[replay]") {
  const auto path = temp_file("import.pgcap");
  std::ofstream(path) << "old";
  fs::permissions(path, fs::perms::all);
  CHECK(replay::write_capture_file(path.string(), sample_capture()).empty());
  CHECK(mode_of(path) == 0600);
  CHECK(std::holds_alternative<replay::capture>(replay::parse_capture(read_all(path))));
  fs::remove(path);
}

TEST_CASE("a plan cuts sessions into round trips at Sync, Query and Terminate", "[replay]") {
  replay::capture c;
  replay::session s;
  s.start_us = 100;
  const auto add = [&](std::int64_t t, auto encode) {
    std::string bytes;
    encode(bytes);
    s.messages.push_back({t, bytes});
  };
  add(110, [](std::string& o) { pg::parse{"s1", "SELECT $1::int", {}}.encode(o); });
  add(110, [](std::string& o) { pg::bind{"", "s1", {}, {}, {}}.encode(o); });
  add(110, [](std::string& o) { pg::execute{"", 0}.encode(o); });
  add(110, [](std::string& o) { pg::encode_empty(o, pg::frontend_type::sync); });
  add(200, [](std::string& o) { pg::query{"COPY t FROM STDIN"}.encode(o); });
  add(210, [](std::string& o) { pg::copy_data{as_bytes("1\n")}.encode(o); });
  add(211, [](std::string& o) { pg::encode_empty(o, pg::frontend_type::copy_done); });
  add(300, [](std::string& o) { pg::encode_empty(o, pg::frontend_type::terminate); });
  c.sessions.push_back(s);
  const auto p = replay::make_plan(c);
  REQUIRE(p.sessions.size() == 1);
  const auto& steps = p.sessions[0].steps;
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].offset_us == 10);
  CHECK(steps[0].ready_expected == 1);
  REQUIRE(steps[0].statements.size() == 1);
  CHECK_FALSE(steps[0].statements[0].simple);
  CHECK(p.labels[steps[0].statements[0].label].kind == "read");
  CHECK(steps[1].statements.at(0).simple);
  CHECK_FALSE(steps[1].copy_in.empty());
  CHECK(steps[2].terminates);
  CHECK(p.statement_count == 2);
}

TEST_CASE("statements that differ only in literals share a fingerprint", "[replay]") {
  const auto a = replay::label_sql("SELECT * FROM patients WHERE id = 1");
  const auto b = replay::label_sql("SELECT * FROM patients WHERE id = 42");
  const auto c = replay::label_sql("UPDATE patients SET zip = '1' WHERE id = 1");
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.kind == "read");
  CHECK(c.kind == "write");
  CHECK(a.fingerprint != c.fingerprint);
  CHECK(a.text.find("$1") != std::string::npos);
}

TEST_CASE("a plan gives texts that differ only in literals one label", "[replay]") {
  replay::capture c;
  replay::session s;
  s.messages.push_back({0, query_bytes("SELECT * FROM patients WHERE id = 1")});
  s.messages.push_back({0, query_bytes("SELECT * FROM patients WHERE id = 2")});
  s.messages.push_back({0, query_bytes("SELECT 1")});
  c.sessions.push_back(s);
  const auto p = replay::make_plan(c);
  REQUIRE(p.labels.size() == 2);
  const auto& steps = p.sessions[0].steps;
  CHECK(steps[0].statements[0].label == steps[1].statements[0].label);
  CHECK(steps[0].statements[0].label != steps[2].statements[0].label);
}

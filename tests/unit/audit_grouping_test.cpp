// `statements` records: which events the writer groups (consecutive allowed statements of one session,
// within the span and item limits, never across another record of that session), how a group encodes
// (each item's sections as in a record of its own, with what items repeat written once in `common`), and
// how export shows it (one JSON line, one CSV row per item with the common parts put back, items filtered
// by time).
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "audit/canonical_json.hpp"
#include "audit/exporter.hpp"
#include "audit/grouping.hpp"
#include "audit/verifier.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;
using audit_test::make_event;
using audit_test::make_statement_event;

namespace {

using clock_type = std::chrono::system_clock;
// 2026-12-05T00:00:00Z
const clock_type::time_point t0{std::chrono::seconds(1'796'428'800)};

event at(event e, std::chrono::milliseconds offset) {
  e.time = t0 + offset;
  return e;
}

event allowed(std::string person, std::uint64_t session, int ms) {
  return at(make_statement_event(std::move(person), session, 1), std::chrono::milliseconds(ms));
}

event denied(std::string person, std::uint64_t session, int ms) {
  auto e = at(make_event(event_kind::decision, std::move(person), session), std::chrono::milliseconds(ms));
  e.decision = decision_info{"deny", "no-export", "exports are held", {"export"}, {"patients"}, "42501"};
  return e;
}

// Sizes of the groups group_records makes of `events`, and the events' indexes in each.
std::vector<std::vector<std::size_t>> shape(const std::vector<event>& events, grouping_limits limits = {}) {
  std::vector<record_item> views;
  for (const auto& e : events) views.push_back(view_of(e));
  std::vector<std::vector<std::size_t>> out;
  for (const auto& group : group_records(views, limits)) {
    out.emplace_back();
    for (const record_item* e : group) out.back().push_back(static_cast<std::size_t>(e - views.data()));
  }
  return out;
}

std::string encode_group(const std::vector<const event*>& events, std::uint64_t seq) {
  std::vector<record_item> views;
  for (const event* e : events) views.push_back(view_of(*e));
  std::vector<const record_item*> items;
  for (const auto& v : views) items.push_back(&v);
  return encode_group_body(items, seq, genesis_hash);
}

using shape_t = std::vector<std::vector<std::size_t>>;

}  // namespace

TEST_CASE("consecutive allowed statements of a session are grouped, other sessions' records between them",
          "[audit][grouping]") {
  const std::vector<event> events = {allowed("alice", 1, 0), allowed("bob", 2, 1),
                                     allowed("alice", 1, 2), make_event(event_kind::gateway_start, "", 0),
                                     allowed("bob", 2, 3),   allowed("alice", 1, 4)};
  CHECK(shape(events) == shape_t{{0, 2, 5}, {1, 4}, {3}});
}

TEST_CASE("any other record of the session ends its group, so the session's order is kept",
          "[audit][grouping]") {
  auto approval = at(make_event(event_kind::approval, "alice", 1), std::chrono::milliseconds(3));
  approval.approval = approval_info{"r1", "requested", {}, "", ""};
  const std::vector<event> events = {
      allowed("alice", 1, 0), allowed("alice", 1, 1), denied("alice", 1, 2), allowed("alice", 1, 3), approval,
      allowed("alice", 1, 5), allowed("alice", 1, 6)};
  CHECK(shape(events) == shape_t{{0, 1}, {2}, {3}, {4}, {5, 6}});
}

TEST_CASE("a group ends at its time span, its item limit and a new actor", "[audit][grouping]") {
  std::vector<event> events = {allowed("alice", 1, 0), allowed("alice", 1, 900), allowed("alice", 1, 1'001),
                               allowed("alice", 1, 1'002)};
  CHECK(shape(events) == shape_t{{0, 1}, {2, 3}});
  CHECK(shape(events, {std::chrono::milliseconds(1'000), 3}) == shape_t{{0, 1}, {2, 3}});
  CHECK(shape(events, {std::chrono::milliseconds(5'000), 3}) == shape_t{{0, 1, 2}, {3}});
  events[1] = allowed("mallory", 1, 1);  // same session id, another person: never one record
  CHECK(shape(events, {std::chrono::milliseconds(5'000), 10}) == shape_t{{0}, {1}, {2, 3}});
}

TEST_CASE("only records about allowed statements are groupable", "[audit][grouping]") {
  CHECK(groupable(view_of(allowed("alice", 1, 0))));
  auto decision = make_event(event_kind::decision, "alice", 1);
  decision.decision = decision_info{"allow", "r", "", {"read"}, {}, ""};
  CHECK(groupable(view_of(decision)));
  decision.decision->verdict = "hold";
  CHECK_FALSE(groupable(view_of(decision)));
  CHECK(groupable(view_of(make_event(event_kind::outcome, "alice", 1))));
  CHECK_FALSE(groupable(view_of(make_event(event_kind::authentication, "alice", 1))));
  CHECK_FALSE(groupable(view_of(make_event(event_kind::outcome, "alice", 0))));  // no session
}

namespace {

// A CSV row without its seq, item and hash columns: what an item and the record it stands for share.
std::string row_fields(const std::string& line) {
  const auto second_comma = line.find(',', line.find(',') + 1);
  return line.substr(second_comma + 1, line.rfind(',') - second_comma - 1);
}

stored_record as_record(std::string body, const std::string& kind) {
  stored_record r;
  r.seq = 1;
  r.kind = kind;
  r.body = std::move(body);
  r.hash = sha256_hex(r.body);
  return r;
}

// Export's CSV row of each item of `body` equals that of the record it stands for, field by field.
void check_rows_match(const std::string& body, const std::vector<const event*>& items) {
  std::istringstream group_rows(to_csv_lines(as_record(body, "statements")));
  std::string line;
  for (const event* e : items) {
    REQUIRE(std::getline(group_rows, line));
    const std::string own = to_csv_lines(as_record(encode_record_body(*e, 1, genesis_hash), "statement"));
    CHECK(row_fields(line) == row_fields(own.substr(0, own.size() - 1)));
  }
}

}  // namespace

TEST_CASE("a group's items say what the records they stand for say, repeated parts once in common",
          "[audit][grouping]") {
  const auto first = allowed("alice", 7, 0);
  auto second = allowed("alice", 7, 2);
  second.outcome->masked = {{"SSN", 3}, {"odd \"label\"", 1}};
  second.statement->params_hmac = std::string(64, 'b');
  auto other = allowed("alice", 7, 3);  // another statement: its parts are its own
  other.statement->normalized = "SELECT 1";
  auto running = allowed("alice", 7, 4);  // decided, its outcome still to come: shares the part all the same
  running.kind = event_kind::decision;
  running.outcome.reset();
  const std::vector<const event*> items = {&first, &second, &other, &running};
  const std::string body = encode_group(items, 12);
  CHECK(body.rfind("{\"v\":1,\"seq\":12,\"prev\":\"" + std::string(genesis_hash) +
                       "\",\"time\":\"2026-12-05T00:00:00.000000Z\",\"kind\":\"statements\",\"session\":7,"
                       "\"who\":{\"person\":\"alice\"",
                   0) == 0);
  // The first two share their normalized text, key id and decision, and their text: written once, before
  // the items, which keep what is their own (the second's parameters).
  CHECK(body.find(",\"common\":[{\"statement\":{\"normalized\":\"" + first.statement->normalized +
                  "\",\"text_hmac\":\"" + first.statement->text_hmac + "\",\"key_id\":\"k1\"},") !=
        std::string::npos);
  CHECK(body.find("\"kind\":\"statement\",\"common\":0,\"outcome\":{\"rows\":1,\"duration_us\":") !=
        std::string::npos);
  // ...and the same command and SQLSTATE, once in the entry.
  CHECK(body.find("\"outcome\":{\"command\":\"SELECT\",\"sqlstate\":\"00000\"}}],\"items\":") !=
        std::string::npos);
  CHECK(body.find("\"kind\":\"decision\",\"common\":0}") != std::string::npos);  // and no outcome of its own
  CHECK(body.find("\"kind\":\"statement\",\"common\":0,\"statement\":{\"params_hmac\":\"bbbb") !=
        std::string::npos);
  CHECK(body.find("\"normalized\":\"SELECT 1\"") != std::string::npos);  // in its own item
  CHECK(body.find("\"common\":1") == std::string::npos);
  CHECK(body.substr(body.size() - 2) == "]}");
  check_rows_match(body, items);
}

TEST_CASE("items that share a common part but not their text keep their text's HMAC", "[audit][grouping]") {
  const auto first = allowed("alice", 7, 0);
  auto second = allowed("alice", 7, 2);  // the same statement with other literals
  second.statement->text_hmac = std::string(64, 'c');
  const std::vector<const event*> items = {&first, &second};
  const std::string body = encode_group(items, 3);
  CHECK(body.find(",\"common\":[{\"statement\":{\"normalized\":\"" + first.statement->normalized +
                  "\",\"key_id\":\"k1\"},") != std::string::npos);
  CHECK(body.find("\"common\":0,\"statement\":{\"text_hmac\":\"aaaa") != std::string::npos);
  CHECK(body.find("\"common\":0,\"statement\":{\"text_hmac\":\"cccc") != std::string::npos);
  check_rows_match(body, items);
}

TEST_CASE("items that share a common part but not their outcome's SQLSTATE keep their whole outcome",
          "[audit][grouping]") {
  const auto first = allowed("alice", 7, 0);
  auto second = allowed("alice", 7, 2);
  second.outcome->sqlstate = "57014";  // cancelled
  const std::vector<const event*> items = {&first, &second};
  const std::string body = encode_group(items, 3);
  CHECK(body.find("\"outcome\":{\"command\"") == std::string::npos);  // no outcome in the entry
  CHECK(body.find("\"sqlstate\":\"00000\"") != std::string::npos);
  CHECK(body.find("\"sqlstate\":\"57014\"") != std::string::npos);
  check_rows_match(body, items);
}

TEST_CASE(
    "the writer writes a session's statements of one transaction as one verified record, and export "
    "shows each item",
    "[audit][grouping]") {
  audit_test::scratch_dir dir;
  const auto path = dir.file("audit.db");
  {
    log_options options;
    options.commit_delay = std::chrono::minutes(1);  // one transaction, written at close
    audit_log log(audit_test::writer_store(path), options);
    log.append(make_event(event_kind::connection, "alice", 3));
    for (int i = 0; i < 5; ++i) log.append(allowed("alice", 3, 100 + i));
    log.append(allowed("alice", 3, 1'500));  // beyond the span: a record of its own
  }
  sqlite_store reader(path, sqlite_store::mode::read_only);
  std::vector<stored_record> records;
  REQUIRE(reader.read({}, records).empty());
  REQUIRE(records.size() == 3);
  CHECK(records[1].kind == "statements");
  CHECK(records[1].person == "alice");
  CHECK(records[2].kind == "statement");
  CHECK(verify_log(reader, {}).ok());

  std::ostringstream csv;
  REQUIRE(export_records(reader, {}, export_format::csv, csv).empty());
  std::istringstream lines(csv.str());
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  REQUIRE(rows.size() == 1 + 1 + 5 + 1);
  CHECK(rows[0].rfind("seq,item,time,kind,", 0) == 0);
  CHECK(rows[2].rfind("2,1,2026-12-05T00:00:00.100000Z,statement,3,alice,", 0) == 0);
  CHECK(rows[6].rfind("2,5,2026-12-05T00:00:00.104000Z,statement,3,alice,", 0) == 0);

  // A window that starts inside the group keeps the group's later items (CSV) and the whole record (JSON).
  record_filter from_third;
  from_third.since_us = to_unix_us(t0 + std::chrono::milliseconds(102));
  from_third.until_us = to_unix_us(t0 + std::chrono::milliseconds(1'000));
  std::ostringstream some;
  REQUIRE(export_records(reader, from_third, export_format::csv, some).empty());
  CHECK(some.str().find("\n2,3,") != std::string::npos);
  CHECK(some.str().find("\n2,2,") == std::string::npos);
  CHECK(some.str().find("\n3,") == std::string::npos);
  std::ostringstream jsonl;
  REQUIRE(export_records(reader, from_third, export_format::jsonl, jsonl).empty());
  const std::string whole = jsonl.str();
  CHECK(whole.find("\"kind\":\"statements\"") != std::string::npos);
  CHECK(std::count(whole.begin(), whole.end(), '\n') == 1);
}

// The recorder: a statement's decision and outcome records are built on the writer thread from what the
// session handed over, and say the same as if built on the spot (normalized text, one HMAC of the exact
// text for both, kinds, tables, the session's person); refusals are committed before the verdict returns;
// an outcome that arrives while its allow decision is still queued joins it in one `statement` record.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "audit/verifier.hpp"
#include "audit_test_support.hpp"
#include "gateway/analysis_cache.hpp"
#include "gateway/audit_recorder.hpp"
#include "policy/analyzer.hpp"

using namespace phigate;

namespace {

constexpr std::string_view sql = "SELECT name FROM patients WHERE id = 42";

session_identity alice() {
  session_identity who;
  who.user = "alice";
  who.groups = {"clinical"};
  who.database = "clinic";
  who.client_address = "127.0.0.1:5000";
  who.upstream_role = "reader";
  who.upstream_user = "clinic_reader";
  return who;
}

struct fixture {
  audit_test::scratch_dir dir;
  std::string path = dir.file("audit.db");
  std::shared_ptr<const audit::hmac_key> key = std::make_shared<const audit::hmac_key>("k1", "secret");

  std::unique_ptr<audit_recorder> recorder(bool keep_literals = false, audit::log_options options = {}) {
    auto log = std::make_unique<audit::audit_log>(audit_test::writer_store(path), std::move(options));
    return std::make_unique<audit_recorder>(std::move(log), key, keep_literals);
  }

  std::vector<boost::json::object> bodies() {
    audit::sqlite_store reader(path, audit::sqlite_store::mode::read_only);
    std::vector<audit::stored_record> records;
    REQUIRE(reader.read({}, records).empty());
    std::vector<boost::json::object> out;
    for (const auto& r : records) out.push_back(boost::json::parse(r.body).as_object());
    return out;
  }
};

std::shared_ptr<const policy::analysis> analyze(std::string_view text) {
  static const auto catalog_only = std::make_shared<const policy::policy_model>();
  return analysis_cache::for_this_thread().get(text, catalog_only);
}

std::string field(const boost::json::object& o, std::string_view section, std::string_view name) {
  const auto* s = o.if_contains(section);
  if (!s || !s->is_object() || !s->as_object().if_contains(name)) return "<missing>";
  const auto& v = s->as_object().at(name);
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

}  // namespace

TEST_CASE("a statement's decision and outcome records are built from one copy of its text",
          "[audit][recorder]") {
  fixture f;
  const auto who = alice();
  {
    auto recorder = f.recorder();
    const shared_statement_text text = std::make_shared<audit_statement_text>(sql);
    const auto actor = audit_recorder::make_actor(who);
    statement_slot slot;
    std::shared_ptr<statement_batch> batch;
    audit_recorder::set_current({7, &actor, &text, nullptr, &slot, &batch});
    const auto d = recorder->record_decision(who, {statement_request::protocol::simple, sql, nullptr, false},
                                             analyze(sql), nullptr, decision::allow());
    CHECK(d.what == decision::verdict::allow);
    recorder->log().flush();  // the decision is written before the outcome arrives: two records
    audit::outcome_info result;
    result.rows = 1;
    result.command = "SELECT";
    recorder->outcome(7, actor, text, slot, std::move(result), batch);
    audit_recorder::set_current_session(0);
    recorder->close();
  }
  const auto records = f.bodies();
  REQUIRE(records.size() == 2);
  const auto& decision = records[0];
  const auto& outcome = records[1];
  const auto hmac = f.key->digest_hex(sql);
  CHECK(field(decision, "decision", "verdict") == "allow");
  CHECK(field(decision, "statement", "normalized") == "SELECT name FROM patients WHERE id = $1");
  CHECK(field(decision, "statement", "text_hmac") == hmac);
  CHECK(field(decision, "statement", "key_id") == "k1");
  CHECK(field(decision, "statement", "text") == "<missing>");
  CHECK(decision.at("decision").as_object().at("kinds").as_array().at(0).as_string() == "read");
  CHECK(decision.at("decision").as_object().at("tables").as_array().at(0).as_string() == "patients");
  CHECK(decision.at("session").as_int64() == 7);
  CHECK(field(decision, "who", "person") == "alice");
  CHECK(field(decision, "who", "upstream_user") == "clinic_reader");
  CHECK(field(outcome, "statement", "text_hmac") == hmac);
  CHECK(field(outcome, "statement", "normalized") == "<missing>");
  CHECK(field(outcome, "outcome", "command") == "SELECT");
  CHECK(field(outcome, "who", "person") == "alice");
}

TEST_CASE("a decision about another person than the thread's session names that person",
          "[audit][recorder]") {
  fixture f;
  auto bob = alice();
  bob.user = "bob";
  {
    auto recorder = f.recorder(true);
    const auto actor = audit_recorder::make_actor(alice());
    audit_recorder::set_current({3, &actor});
    recorder->record_decision(bob, {statement_request::protocol::simple, sql, nullptr, false}, analyze(sql),
                              nullptr, decision::allow());
    audit_recorder::set_current_session(0);
    recorder->close();
  }
  const auto records = f.bodies();
  REQUIRE(records.size() == 1);
  CHECK(field(records[0], "who", "person") == "bob");
  CHECK(field(records[0], "statement", "text") == sql);  // keep_literals
}

TEST_CASE("a denial is committed before the recorder returns the verdict", "[audit][recorder]") {
  fixture f;
  auto recorder = f.recorder();
  const auto who = alice();
  const auto actor = audit_recorder::make_actor(who);
  audit_recorder::set_current({5, &actor});
  const auto d = recorder->record_decision(who, {statement_request::protocol::simple, sql, nullptr, false},
                                           analyze(sql), nullptr, decision::deny("42501", "no"));
  audit_recorder::set_current_session(0);
  CHECK(d.what == decision::verdict::deny);
  CHECK(recorder->log().committed_seq() == 1);
  const auto records = f.bodies();
  REQUIRE(records.size() == 1);
  CHECK(field(records[0], "decision", "verdict") == "deny");
  CHECK(field(records[0], "decision", "sqlstate") == "42501");
  CHECK(field(records[0], "statement", "text_hmac") == f.key->digest_hex(sql));
}

namespace {

// Keeps ordinary records queued until the recorder closes (or a flush), so what is folded is certain.
audit::log_options slow_commit() {
  audit::log_options options;
  options.commit_delay = std::chrono::milliseconds(60'000);
  return options;
}

audit::outcome_info one_row() {
  audit::outcome_info result;
  result.rows = 1;
  result.command = "SELECT";
  result.duration_us = 250;
  result.masked = {{"SSN", 1}};
  return result;
}

// What audit_session keeps for session 9: its actor and its open batch.
struct session_state {
  std::shared_ptr<const audit::actor> actor = audit_recorder::make_actor(alice());
  std::shared_ptr<statement_batch> batch;

  // The decide step for `text` as the session's current statement; `slot` learns where its decision is.
  decision decide(audit_recorder& recorder, const shared_statement_text& text, decision d,
                  statement_slot& slot) {
    audit_recorder::set_current({9, &actor, &text, nullptr, &slot, &batch});
    auto out = recorder.record_decision(alice(), {statement_request::protocol::simple, sql, nullptr, false},
                                        analyze(sql), nullptr, std::move(d));
    audit_recorder::set_current_session(0);
    return out;
  }
  void outcome(audit_recorder& recorder, const shared_statement_text& text, const statement_slot& slot) {
    recorder.outcome(9, actor, text, slot, one_row(), batch);
  }
};

}  // namespace

TEST_CASE("an outcome that arrives while its decision is queued makes one statement record with both",
          "[audit][recorder]") {
  fixture f;
  {
    auto recorder = f.recorder(false, slow_commit());
    auto text = std::make_shared<audit_statement_text>(sql);
    session_state session;
    statement_slot slot;
    session.decide(*recorder, text, decision::allow(), slot);
    session.outcome(*recorder, text, slot);
    recorder->close();
  }
  const auto records = f.bodies();
  REQUIRE(records.size() == 1);
  const auto& r = records[0];
  CHECK(r.at("kind").as_string() == "statement");
  CHECK(r.at("session").as_int64() == 9);
  CHECK(field(r, "who", "person") == "alice");
  CHECK(field(r, "statement", "normalized") == "SELECT name FROM patients WHERE id = $1");
  CHECK(field(r, "statement", "text_hmac") == f.key->digest_hex(sql));
  CHECK(field(r, "decision", "verdict") == "allow");
  CHECK(r.at("decision").as_object().at("tables").as_array().at(0).as_string() == "patients");
  CHECK(field(r, "outcome", "rows") == "1");
  CHECK(field(r, "outcome", "command") == "SELECT");
  CHECK(field(r, "outcome", "duration_us") == "250");
  CHECK(r.at("outcome").as_object().at("masked").as_object().at("SSN").as_int64() == 1);
  audit::sqlite_store reader(f.path, audit::sqlite_store::mode::read_only);
  CHECK(audit::verify_log(reader, {}).ok());
}

TEST_CASE("an outcome whose decision was already committed stays a record of its own", "[audit][recorder]") {
  fixture f;
  {
    auto recorder = f.recorder(false, slow_commit());
    auto text = std::make_shared<audit_statement_text>(sql);
    session_state session;
    statement_slot slot;
    session.decide(*recorder, text, decision::allow(), slot);
    recorder->log().flush();  // a long statement: the decision is on disk before the outcome
    CHECK(recorder->log().committed_seq() == 1);
    session.outcome(*recorder, text, slot);
    recorder->close();
  }
  const auto records = f.bodies();
  REQUIRE(records.size() == 2);
  CHECK(records[0].at("kind").as_string() == "decision");
  CHECK(records[0].if_contains("outcome") == nullptr);
  CHECK(records[1].at("kind").as_string() == "outcome");
  CHECK(field(records[1], "outcome", "rows") == "1");
  CHECK(field(records[1], "statement", "text_hmac") == field(records[0], "statement", "text_hmac"));
}

TEST_CASE("a statement's outcome never joins an earlier statement's decision or a refusal",
          "[audit][recorder]") {
  fixture f;
  {
    auto recorder = f.recorder(false, slow_commit());
    // One text object shared by the session's consecutive statements, as audit_session shares it.
    auto text = std::make_shared<audit_statement_text>(sql);
    session_state session;
    statement_slot first, second, refused;
    session.decide(*recorder, text, decision::allow(), first);
    session.decide(*recorder, text, decision::allow(), second);
    CHECK(first.batch == second.batch);
    CHECK(first.index != second.index);
    session.outcome(*recorder, text, second);
    session.outcome(*recorder, text, first);
    session.decide(*recorder, text, decision::deny("42501", "no"), refused);  // committed at once
    CHECK(refused.batch == nullptr);
    CHECK(session.batch == nullptr);  // the denial closed the batch: later statements start a new one
    session.outcome(*recorder, text, refused);
    recorder->close();
  }
  const auto records = f.bodies();
  REQUIRE(records.size() == 3);
  // The two allowed statements, written together (one session, consecutive), each with its own outcome.
  CHECK(records[0].at("kind").as_string() == "statements");
  const auto& items = records[0].at("items").as_array();
  REQUIRE(items.size() == 2);
  // Both allowed by the same rule: the decision is written once, in the record's common part.
  const auto& common = records[0].at("common").as_array();
  REQUIRE(common.size() == 1);
  CHECK(field(common.at(0).as_object(), "decision", "verdict") == "allow");
  for (const auto& item : items) {
    CHECK(item.as_object().at("kind").as_string() == "statement");
    CHECK(item.as_object().at("common").as_int64() == 0);
    CHECK(field(item.as_object(), "outcome", "rows") == "1");
  }
  CHECK(records[1].at("kind").as_string() == "decision");
  CHECK(field(records[1], "decision", "verdict") == "deny");
  CHECK(records[2].at("kind").as_string() == "outcome");  // the refusal ended the group
}

TEST_CASE("statements share the summary of their normalized text, whatever their analysis object",
          "[audit][recorder]") {
  const auto first = analyze("SELECT name FROM patients WHERE id = 42");
  const auto summary = summary_of(first);
  REQUIRE(summary);
  CHECK(summary->normalized == first->statements.front().normalized);
  CHECK(summary->tables == std::vector<std::string>{"patients"});
  CHECK(summary_of(first) == summary);  // a prepared statement's executions: one analysis object
  const auto other = analyze("SELECT name FROM visits WHERE patient_id = 7");
  const auto other_summary = summary_of(other);
  CHECK(other_summary != summary);
  CHECK(other_summary->tables == std::vector<std::string>{"visits"});
  // Other literals: another analysis object, the same normalized text and so the same summary.
  const auto again = analyze("SELECT name FROM patients WHERE id = 43");
  REQUIRE(again != first);
  CHECK(summary_of(again) == summary);
  CHECK(summary_of(first) == summary);
}

TEST_CASE("a summary does not keep its statement's analysis alive", "[audit][recorder]") {
  // A copy the analysis cache does not hold, like the fresh one a text with other literals gets.
  std::shared_ptr<const policy::analysis> analysis =
      std::make_shared<const policy::analysis>(*analyze("SELECT name FROM patients WHERE id = 42"));
  const std::weak_ptr<const policy::analysis> watched = analysis;
  const auto summary = summary_of(analysis);
  CHECK(summary_of(analysis) == summary);
  analysis.reset();
  CHECK(watched.expired());  // its reasons may quote the statement's literals
  CHECK(summary->tables == std::vector<std::string>{"patients"});
}

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "gateway/analysis_cache.hpp"
#include "gateway/policy_gate.hpp"
#include "policy/policy_loader.hpp"

using namespace phigate;

namespace {

std::shared_ptr<const policy::policy_model> make_policy(const std::string& yaml) {
  return std::make_shared<const policy::policy_model>(policy::parse_policy(yaml, "gate.yaml"));
}

const char* const clinical_policy =
    "rules:\n"
    "  - id: clinical-read\n"
    "    groups: [clinical]\n"
    "    kinds: [read, session]\n"
    "    action: allow\n"
    "  - id: exports-held\n"
    "    kinds: [export]\n"
    "    action: hold\n"
    "    approval: {groups: [approvers, security], quorum: 2}\n"
    "  - id: ops-tables\n"
    "    groups: [billing]\n"
    "    kinds: [read, session]\n"
    "    tables: [public.clinics]\n"
    "    action: allow\n";

session_identity person(std::string user, std::vector<std::string> groups) {
  session_identity who;
  who.user = std::move(user);
  who.groups = std::move(groups);
  who.database = "clinic";
  return who;
}

decision run(policy_gate& gate, const session_identity& who, std::string_view sql) {
  return gate.decide(who, {statement_request::protocol::simple, sql, nullptr});
}

}  // namespace

TEST_CASE("a denied statement gets 42501 and a message naming the reason and rule", "[policy_gate]") {
  const auto who = person("alice", {"clinical"});
  policy_gate gate(make_policy(clinical_policy), who);
  CHECK(run(gate, who, "SELECT 1").what == decision::verdict::allow);
  const auto d = run(gate, who, "DELETE FROM patients");
  CHECK(d.what == decision::verdict::deny);
  CHECK(d.sqlstate == "42501");
  CHECK(d.message ==
        "phigate: no rule allows write of public.patients for alice on clinic (write: DELETE FROM patients) "
        "(rule "
        "default-deny)");
}

TEST_CASE("a held statement comes back as a hold naming the rule, approvers and what it touches",
          "[policy_gate]") {
  const auto who = person("alice", {"clinical"});
  policy_gate gate(make_policy(clinical_policy), who);
  const auto d = run(gate, who, "COPY patients TO STDOUT");
  CHECK(d.what == decision::verdict::hold);
  REQUIRE(d.hold);
  CHECK(d.hold->rule_id == "exports-held");
  CHECK(d.hold->kind == "export");
  CHECK(d.hold->approver_groups == std::vector<std::string>{"approvers", "security"});
  CHECK(d.hold->quorum == 2);
  CHECK(d.hold->tables == std::vector<std::string>{"patients"});
  CHECK(d.hold->kind_reasons ==
        std::vector<std::string>{"read: COPY patients TO", "export: COPY ... TO STDOUT"});
  CHECK(d.hold->settings[0] == std::pair<std::string, std::string>{"search_path", "$user, public"});
  // Without an approvals store the session refuses it with this message.
  CHECK(d.message ==
        "phigate: statement requires approval (rule exports-held: export requires approval: export: COPY ... "
        "TO STDOUT; approvers: approvers, security, quorum 2); approvals are not configured on this gateway");
}

TEST_CASE("an approved statement runs, but a deny still refuses it", "[policy_gate]") {
  const auto who = person("alice", {"clinical"});
  policy_gate gate(make_policy(clinical_policy), who);
  statement_request approved{statement_request::protocol::simple, "COPY patients TO STDOUT", nullptr, true};
  CHECK(gate.decide(who, approved).what == decision::verdict::allow);
  approved.sql = "DELETE FROM patients";
  CHECK(gate.decide(who, approved).what == decision::verdict::deny);
}

TEST_CASE("the gate follows SET search_path in the statements it allows", "[policy_gate]") {
  const auto who = person("carol", {"billing"});
  policy_gate gate(make_policy(clinical_policy), who);
  CHECK(run(gate, who, "SELECT * FROM clinics").what == decision::verdict::allow);
  CHECK(run(gate, who, "SET search_path = ops, public").what == decision::verdict::allow);
  CHECK(gate.session().search_path == std::vector<std::string>{"ops", "public"});
  CHECK(run(gate, who, "SELECT * FROM clinics").what == decision::verdict::deny);
  CHECK(run(gate, who, "RESET search_path").what == decision::verdict::allow);
  CHECK(run(gate, who, "SELECT * FROM clinics").what == decision::verdict::allow);
}

TEST_CASE("a refused SET does not change the session's search_path", "[policy_gate]") {
  const auto who = person("carol", {"billing"});
  policy_gate gate(make_policy(clinical_policy), who);
  CHECK(run(gate, who, "SET search_path = ops; DELETE FROM clinics").what == decision::verdict::deny);
  CHECK(gate.session().search_path == std::vector<std::string>{"$user", "public"});
}

TEST_CASE("the analysis cache returns the same analysis for the same text and policy", "[policy_gate]") {
  analysis_cache cache(2);
  const auto first = make_policy(clinical_policy);
  const auto a = cache.get("SELECT 1", first);
  CHECK(cache.get("SELECT 1", first) == a);
  CHECK(cache.hits() == 1);
  CHECK(cache.get("SELECT  1", first) != a);  // keyed by exact text
  CHECK(cache.misses() == 2);
}

TEST_CASE("the analysis cache evicts the least recently used entry at capacity", "[policy_gate]") {
  analysis_cache cache(2);
  const auto p = make_policy(clinical_policy);
  // No literals: texts that differ only in literal values would also meet under their literal key.
  const auto one = cache.get("SELECT one", p);
  cache.get("SELECT two", p);
  CHECK(cache.get("SELECT one", p) == one);  // now most recent
  cache.get("SELECT three", p);              // evicts SELECT two
  CHECK(cache.size() == 2);
  CHECK(cache.get("SELECT one", p) == one);
  const auto misses = cache.misses();
  cache.get("SELECT two", p);
  CHECK(cache.misses() == misses + 1);
}

TEST_CASE("the analysis cache re-analyzes under a replaced policy's function catalog", "[policy_gate]") {
  analysis_cache cache;
  const auto plain = make_policy(clinical_policy);
  const auto extended = make_policy(std::string(clinical_policy) + "functions: {read_only: [score]}\n");
  CHECK(cache.get("SELECT score(1)", plain)->kinds.contains(policy::statement_kind::admin));
  CHECK_FALSE(cache.get("SELECT score(1)", extended)->kinds.contains(policy::statement_kind::admin));
}

TEST_CASE("long statements are analyzed without being cached", "[policy_gate]") {
  analysis_cache cache;
  const auto p = make_policy(clinical_policy);
  const std::string sql = "SELECT '" + std::string(analysis_cache::max_cached_sql_bytes, 'x') + "'";
  CHECK(cache.get(sql, p)->kinds.contains(policy::statement_kind::read));
  CHECK(cache.size() == 0);
}

TEST_CASE("policy errors become config errors with the policy file's line and column", "[policy_gate]") {
  const auto dir = std::filesystem::temp_directory_path() / "phigate_policy_gate_test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "policy.yaml").string();
  std::ofstream(path) << "rules:\n  - id: a\n    action: allow\n    kinds: [reed]\n";
  gateway_config config;
  config.policy_file = path;
  try {
    load_gateway_policy(config);
    FAIL("expected a config_exception");
  } catch (const config_exception& e) {
    REQUIRE(e.errors().size() == 1);
    CHECK(e.errors()[0].to_string() ==
          path +
              ":4:13: rules[0].kinds[0]: unknown kind 'reed' (expected read, write, "
              "ddl, export, privilege, admin, session or unknown)");
  }
  std::ofstream(path) << "rules:\n  - id: a\n    action: allow\n";
  CHECK(load_gateway_policy(config)->rules.size() == 1);
  CHECK(load_gateway_policy(gateway_config{}) == nullptr);
  std::filesystem::remove_all(dir);
}

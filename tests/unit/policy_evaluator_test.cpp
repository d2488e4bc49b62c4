#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/evaluator.hpp"
#include "policy/policy_loader.hpp"

using namespace phigate::policy;

namespace {

const std::filesystem::path golden_dir = std::filesystem::path(__FILE__).parent_path() / "golden";

struct decision_row {
  int line = 0;
  std::string statement;
  identity_facts who;
  std::string verdict;
  std::string rule;
  std::string kinds;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, separator)) {
    if (!trim(item).empty()) out.push_back(trim(item));
  }
  return out;
}

// "alice[clinical,billing]" → user alice in groups clinical and billing.
identity_facts parse_identity(const std::string& text, const std::string& database) {
  const auto open = text.find('[');
  identity_facts who;
  who.user = trim(text.substr(0, open));
  if (open != std::string::npos) who.groups = split(text.substr(open + 1, text.find(']') - open - 1), ',');
  who.database = database;
  return who;
}

// The statement may contain " | ", so the five other fields are taken from the right.
std::vector<decision_row> read_rows(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<decision_row> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::string rest = line;
    for (int i = 0; i < 5; ++i) {
      const auto at = rest.rfind(" | ");
      if (at == std::string::npos) break;
      fields.insert(fields.begin(), trim(rest.substr(at + 3)));
      rest = rest.substr(0, at);
    }
    if (fields.size() != 5) {
      rows.push_back({number, line, {}, "<malformed row>", "", ""});
      continue;
    }
    rows.push_back(
        {number, trim(rest), parse_identity(fields[0], fields[1]), fields[2], fields[3], fields[4]});
  }
  return rows;
}

std::shared_ptr<const policy_model> golden_policy() {
  static const auto model =
      std::make_shared<const policy_model>(load_policy((golden_dir / "policy_decisions.yaml").string()));
  return model;
}

std::set<std::string> kind_names(const std::string& text) {
  const auto items = split(text, ',');
  return {items.begin(), items.end()};
}

decision decide(std::string_view sql, identity_facts who, const session_facts& session = {}) {
  const evaluator eval(golden_policy());
  return eval.evaluate(analyze_sql(sql, eval.model().functions), who, session);
}

identity_facts person(std::string user, std::vector<std::string> groups, std::string database = "clinic") {
  return {std::move(user), std::move(groups), std::move(database)};
}

std::vector<policy_error> errors_of(const std::string& yaml) {
  try {
    parse_policy(yaml, "p.yaml");
  } catch (const policy_exception& e) {
    return e.errors();
  }
  return {};
}

}  // namespace

TEST_CASE("every golden statement gets the expected decision, rule and kinds", "[policy]") {
  const auto rows = read_rows(golden_dir / "policy_decisions.tsv");
  REQUIRE(rows.size() >= 150);
  const evaluator eval(golden_policy());
  int mismatches = 0;
  for (const auto& row : rows) {
    const analysis facts = analyze_sql(row.statement, eval.model().functions);
    const decision d = eval.evaluate(facts, row.who, {});
    const std::string verdict(to_string(d.verdict));
    const std::string rule = d.rule_id.empty() ? "-" : d.rule_id;
    const auto kinds = facts.kinds.empty() ? std::string("-") : facts.kinds.to_string();
    if (verdict == row.verdict && rule == row.rule && kind_names(kinds) == kind_names(row.kinds)) continue;
    ++mismatches;
    FAIL_CHECK("line " << row.line << ": " << row.statement << "\n  expected " << row.verdict << " by "
                       << row.rule << " (" << row.kinds << "), got " << verdict << " by " << rule << " ("
                       << kinds << ")\n  reason: " << d.reason);
  }
  INFO(rows.size() << " golden rows, " << mismatches << " mismatching");
  CHECK(mismatches == 0);
}

TEST_CASE("the golden table covers every export, privilege, admin, unknown and lexer-trap fact", "[policy]") {
  std::set<std::string> decided;
  for (const auto& row : read_rows(golden_dir / "policy_decisions.tsv")) decided.insert(row.statement);
  std::ifstream in(golden_dir / "policy_facts.tsv");
  std::string line;
  bool wanted_section = false;
  int missing = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# ---")) {
      wanted_section = line.find("export") != std::string::npos ||
                       line.find("privilege") != std::string::npos ||
                       line.find("admin") != std::string::npos || line.find("unknown") != std::string::npos ||
                       line.find("lexer") != std::string::npos || line.find("hidden") != std::string::npos;
      continue;
    }
    if (!wanted_section || trim(line).empty() || line.front() == '#') continue;
    std::string statement = line;
    for (int i = 0; i < 3; ++i) statement = statement.substr(0, statement.rfind(" | "));
    if (decided.contains(trim(statement))) continue;
    ++missing;
    FAIL_CHECK("no decision row for: " << statement);
  }
  CHECK(missing == 0);
}

TEST_CASE("a hold carries its approvers, quorum and timeout", "[policy]") {
  const auto d = decide("GRANT SELECT ON patients TO bob", person("dba1", {"dba"}));
  REQUIRE(d.verdict == rule_action::hold);
  CHECK(d.rule_id == "privilege-held");
  REQUIRE(d.approval);
  CHECK(d.approval->groups == std::vector<std::string>{"security"});
  CHECK(d.approval->quorum == 2);
  CHECK(d.approval->timeout == std::chrono::minutes(15));
  const auto exported = decide("COPY patients TO STDOUT", person("alice", {"clinical"}));
  REQUIRE(exported.approval);
  CHECK(exported.rule_id == "exports-held");
  CHECK(exported.approval->timeout == std::chrono::minutes(15));
}

TEST_CASE("a deny names the kind and the analyzer's reason", "[policy]") {
  const auto d = decide("SELECT pg_terminate_backend(1)", person("alice", {"clinical"}));
  CHECK(d.verdict == rule_action::deny);
  CHECK(d.rule_id == "default-deny");
  CHECK(d.kind == statement_kind::admin);
  CHECK(d.reason.find("no rule allows admin for alice on clinic") != std::string::npos);
  CHECK(d.reason.find("pg_terminate_backend") != std::string::npos);
  const auto billing = decide("SELECT * FROM patients", person("carol", {"billing"}));
  CHECK(billing.rule_id == "billing-no-patients");
  CHECK(billing.reason.find("billing staff never see patient records") != std::string::npos);
}

TEST_CASE("an unqualified table resolves against the session's search_path", "[policy]") {
  const auto engineer = person("eng", {"engineering"});
  CHECK(decide("UPDATE clinics SET name = 'x'", engineer).verdict == rule_action::allow);
  session_facts moved;
  moved.search_path = {"clinic", "public"};
  // clinics could now be clinic.clinics, which the rule does not list.
  CHECK(decide("UPDATE clinics SET name = 'x'", engineer, moved).verdict == rule_action::deny);
  CHECK(decide("UPDATE public.clinics SET name = 'x'", engineer, moved).verdict == rule_action::allow);
  const auto carol = person("carol", {"billing"});
  session_facts clinic_only;
  clinic_only.search_path = {"clinic"};
  CHECK(decide("SELECT * FROM patients", carol, clinic_only).rule_id == "billing-no-patients");
  session_facts elsewhere;
  elsewhere.search_path = {"billing"};
  CHECK(decide("SELECT * FROM patients", carol, elsewhere).rule_id == "billing-read");
}

TEST_CASE("catalog relations resolve to pg_catalog whatever the search_path", "[policy]") {
  const auto engineer = person("eng", {"engineering"});
  CHECK(decide("SELECT oid FROM pg_namespace", engineer).verdict == rule_action::allow);
  CHECK(decide("SELECT oid FROM pg_secrets_lookalike", engineer).verdict == rule_action::deny);
  session_facts explicit_catalog;
  explicit_catalog.search_path = {"public", "pg_catalog"};
  // pg_catalog named later in the path: public.pg_namespace would win, and the rule does not list it.
  CHECK(decide("SELECT oid FROM pg_namespace", engineer, explicit_catalog).verdict == rule_action::deny);
}

TEST_CASE("session changes update search_path and role as the server would", "[policy]") {
  session_facts s;
  apply_session_changes(analyze_sql("SET search_path = clinic, 'public, \"Odd\"'"), s);
  CHECK(s.search_path == std::vector<std::string>{"clinic", "public", "Odd"});
  apply_session_changes(analyze_sql("RESET search_path"), s);
  CHECK(s.search_path == std::vector<std::string>{"$user", "public"});
  apply_session_changes(analyze_sql("SET LOCAL search_path TO clinic"), s);
  CHECK(s.search_path == std::vector<std::string>{"$user", "public", "clinic"});
  apply_session_changes(analyze_sql("SET search_path TO DEFAULT; SET ROLE admin"), s);
  CHECK(s.search_path == std::vector<std::string>{"$user", "public"});
  CHECK(s.role == "admin");
  apply_session_changes(analyze_sql("SET search_path = x; RESET ALL"), s);
  CHECK(s.search_path == std::vector<std::string>{"$user", "public"});
  CHECK(s.role == "admin");
  apply_session_changes(analyze_sql("DISCARD ALL"), s);
  CHECK(s.role.empty());
  apply_session_changes(analyze_sql("SELECT 'SET search_path = evil'"), s);
  CHECK(s.search_path == std::vector<std::string>{"$user", "public"});
}

TEST_CASE("the strictest decision of several statements wins", "[policy]") {
  const auto alice = person("alice", {"clinical"});
  CHECK(decide("SELECT 1; COPY patients TO STDOUT", alice).verdict == rule_action::hold);
  CHECK(decide("COPY patients TO STDOUT; SELECT pg_reload_conf()", alice).verdict == rule_action::deny);
  CHECK(decide("BEGIN; SELECT 1; COMMIT", alice).rule_id == "analyst-read-clinical");
}

TEST_CASE("unknown statements are allowed only by a rule naming kind unknown", "[policy]") {
  CHECK(decide("DO $$ BEGIN END $$", person("sre", {})).rule_id == "sre-unknown");
  CHECK(decide("DO $$ BEGIN END $$", person("dba1", {"dba"})).rule_id == "default-deny");
  const auto open = std::make_shared<const policy_model>(
      parse_policy("rules:\n  - id: everything\n    action: allow\n", "open.yaml"));
  const evaluator eval(open);
  const identity_facts anyone{"x", {}, "db"};
  CHECK(eval.evaluate(analyze_sql("DROP TABLE t"), anyone, {}).allowed());
  CHECK(eval.evaluate(analyze_sql("SELEC 1"), anyone, {}).rule_id == "default-deny");
}

TEST_CASE("the policy's read-only functions extend the catalog", "[policy]") {
  const auto alice = person("alice", {"clinical"});
  CHECK(decide("SELECT score(ssn) FROM patients", alice).allowed());
  CHECK(decide("SELECT audit.safe_fn(1)", alice).allowed());
  CHECK(decide("SELECT other.safe_fn(1)", alice).rule_id == "default-deny");
}

TEST_CASE("empty input is allowed without a rule", "[policy]") {
  const auto d = decide("-- nothing", person("nobody", {}));
  CHECK(d.allowed());
  CHECK(d.rule_id.empty());
}

TEST_CASE("policy file errors carry line and column", "[policy]") {
  const auto errors = errors_of(
      "rules:\n"
      "  - id: a\n"
      "    action: allow\n"
      "    tabels: [public.x]\n"
      "  - id: a\n"
      "    action: hold\n"
      "  - id: c\n"
      "    kinds: [read, wrtie]\n"
      "    tables: [patients]\n"
      "    action: permit\n"
      "  - action: allow\n"
      "    approval: {groups: [x]}\n");
  std::vector<std::string> text;
  for (const auto& e : errors) text.push_back(e.to_string());
  REQUIRE(text.size() == 7);
  CHECK(text[0] == "p.yaml:4:5: unknown key 'tabels' in rules[0] (did you mean 'tables'?)");
  CHECK(text[1] ==
        "p.yaml:6:13: rules[1].action: a hold needs an approval: { groups: [...], quorum: N, timeout: 15m }");
  CHECK(text[2] ==
        "p.yaml:8:19: rules[2].kinds[1]: unknown kind 'wrtie' (expected read, write, ddl, export, "
        "privilege, admin, session or unknown)");
  CHECK(text[3] ==
        "p.yaml:9:14: rules[2].tables[0]: table 'patients' must be written schema.table or schema.* "
        "(for example public.patients)");
  CHECK(text[4] == "p.yaml:10:13: rules[2].action: unknown action 'permit' (expected allow, deny or hold)");
  CHECK(text[5] == "p.yaml:11:5: rules[3]: missing required key 'id'");
  CHECK(text[6] == "p.yaml:12:5: rules[3].approval: only a rule with action hold takes an approval");
}

TEST_CASE("duplicate rule ids, bad approvals and a missing rules key are reported", "[policy]") {
  auto errors = errors_of(
      "rules:\n"
      "  - id: x\n"
      "    action: allow\n"
      "  - id: x\n"
      "    action: hold\n"
      "    approval: {groups: [], quorum: 0, timeout: 15 minutes}\n");
  std::vector<std::string> text;
  for (const auto& e : errors) text.push_back(e.to_string());
  REQUIRE(text.size() == 3);
  CHECK(text[0] == "p.yaml:6:24: rules[1].approval.groups: must name at least one group");
  CHECK(text[1] == "p.yaml:6:36: rules[1].approval.quorum: expected an integer from 1 to 100");
  CHECK(text[2] ==
        "p.yaml:6:48: rules[1].approval.timeout: expected a duration such as 90s, 15m, 2h or 1d (at "
        "most 7d), got '15 minutes'");
  errors = errors_of("rules:\n  - id: x\n    action: allow\n  - id: x\n    action: deny\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "p.yaml:4:5: rules[1]: duplicate rule id 'x' (first at line 2)");
  errors = errors_of("functions: {read_only: [f]}\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "p.yaml: missing required key 'rules'");
  errors = errors_of("rules: [\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 2);
}

TEST_CASE("an empty list in a rule is an error rather than a match for everyone", "[policy]") {
  const auto errors = errors_of("rules:\n  - id: x\n    groups: []\n    action: allow\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() ==
        "p.yaml:3:13: rules[0].groups: must not be empty (leave the key out to match any)");
}

TEST_CASE("a policy file that cannot be read is reported with its path", "[policy]") {
  try {
    load_policy("/nonexistent/policy.yaml");
    FAIL("expected a policy_exception");
  } catch (const policy_exception& e) {
    REQUIRE(e.errors().size() == 1);
    CHECK(e.errors()[0].to_string() == "/nonexistent/policy.yaml: cannot read: No such file or directory");
  }
}

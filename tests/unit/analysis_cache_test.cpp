#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/analysis_cache.hpp"
#include "policy/literal_key.hpp"
#include "policy/policy_loader.hpp"

using namespace phigate;

namespace {

std::shared_ptr<const policy::policy_model> make_policy() {
  return std::make_shared<const policy::policy_model>(policy::parse_policy(
      "rules:\n  - id: reads\n    kinds: [read]\n    action: allow\n", "analysis_cache_test.yaml"));
}

// The statements of tests/unit/golden/policy_facts.tsv: everything before the last three " | ".
std::vector<std::string> golden_statements() {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "golden" / "policy_facts.tsv");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::string rest = line;
    for (int i = 0; i < 3; ++i) {
      const auto at = rest.rfind(" | ");
      if (at == std::string::npos) break;
      rest = rest.substr(0, at);
    }
    if (rest != line) out.push_back(rest);
  }
  return out;
}

// `sql` with every literal replaced by another of the same class; `round` picks which.
std::string with_other_literals(const std::string& sql, const policy::literal_key& key, int round) {
  std::string out;
  std::size_t at = 0;
  for (const auto& literal : key.literals) {
    out += sql.substr(at, literal.offset - at);
    const std::string n = std::to_string(round);
    switch (literal.kind) {
      case policy::literal_class::integer:
        out += std::to_string(3 + 7 * round);
        break;
      case policy::literal_class::numeric:
        out += n + ".25";
        break;
      case policy::literal_class::string:
        out += "'v" + n + " it''s'";
        break;
    }
    at = literal.offset + literal.length;
  }
  return out + sql.substr(at);
}

void require_same(const policy::analysis& cached, const policy::analysis& fresh, const std::string& sql) {
  INFO(sql);
  CHECK(cached.kinds == fresh.kinds);
  CHECK(cached.ok() == fresh.ok());
  REQUIRE(cached.statements.size() == fresh.statements.size());
  for (std::size_t i = 0; i < fresh.statements.size(); ++i) {
    const auto& c = cached.statements[i];
    const auto& f = fresh.statements[i];
    CHECK(c.text == f.text);
    CHECK(c.normalized == f.normalized);
    CHECK(c.fingerprint == f.fingerprint);
    CHECK(c.reasons == f.reasons);
    CHECK(c.tables_read == f.tables_read);
    CHECK(c.tables_written == f.tables_written);
    CHECK(c.columns_read == f.columns_read);
    CHECK(c.columns_written == f.columns_written);
    CHECK(c.predicate_columns == f.predicate_columns);
    CHECK(c.functions == f.functions);
    CHECK(c.result_columns == f.result_columns);
    CHECK(c.literal_sensitive == f.literal_sensitive);
  }
}

}  // namespace

TEST_CASE("statements differing only in literals are analyzed once their literal key is trusted",
          "[analysis_cache]") {
  analysis_cache cache;
  const auto p = make_policy();
  cache.get("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;", p);
  cache.get("SELECT abalance FROM pgbench_accounts WHERE aid = 7;", p);
  CHECK(cache.literal_hits() == 0);  // two full analyses agreed: the key is trusted from now on
  const auto hit = cache.get("SELECT abalance FROM pgbench_accounts WHERE aid = 991;", p);
  CHECK(cache.literal_hits() == 1);
  CHECK(cache.misses() == 2);
  require_same(*hit, policy::analyze_sql("SELECT abalance FROM pgbench_accounts WHERE aid = 991;"), "-S");
  CHECK(hit->statements.at(0).normalized == "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
}

TEST_CASE("facts read from literal values never come from the literal key", "[analysis_cache]") {
  const auto p = make_policy();
  for (const char* sql : {
           "SELECT a, b FROM t ORDER BY 1",                      // output position
           "SELECT a, count(*) FROM t GROUP BY 1",               // output position
           "SELECT set_config('search_path', 'public', false)",  // session change by function
           "SELECT set_config('role', 'admin', false)",          // role change by function
           "SELECT 'patients'::regclass",                        // object named by a string
           "SELECT CAST('patients' AS regclass)",                //
           "SELECT regproc 'lower'",                             // function named by a string
           "SELECT nextval('patients_id_seq')",                  // sequence named by a string
           "SELECT pg_relation_size('patients')",                // implicit regclass argument
           "SELECT has_table_privilege('patients', 'select')",   //
           "SELECT * FROM t WHERE x = 'a'::varchar(10)",         // type modifier kept by normalize
           "SET search_path TO 'x'",                             // SET
           "SET ROLE 'admin'",                                   //
           "COPY t TO '/tmp/x'",                                 // COPY file name
           "EXPLAIN (ANALYZE 'off') SELECT 1",                   // option value
       }) {
    analysis_cache cache;
    const auto key = policy::make_literal_key(sql);
    REQUIRE(key);
    for (int round = 0; round < 4; ++round) {
      const std::string text = with_other_literals(sql, *key, round);
      require_same(*cache.get(text, p), policy::analyze_sql(text, p->functions), text);
    }
    INFO(sql);
    CHECK(cache.literal_hits() == 0);
  }
}

TEST_CASE("literal-sensitive statements are marked by the analyzer", "[analysis_cache]") {
  CHECK(policy::analyze_sql("SELECT a FROM t ORDER BY 1").statements.at(0).literal_sensitive);
  CHECK(policy::analyze_sql("SELECT nextval('s')").statements.at(0).literal_sensitive);
  CHECK(policy::analyze_sql("SELECT 'patients'::regclass").statements.at(0).literal_sensitive);
  CHECK(policy::analyze_sql("SET search_path TO 'x'").statements.at(0).literal_sensitive);
  CHECK_FALSE(
      policy::analyze_sql("SELECT a FROM t WHERE b = 'x' ORDER BY a").statements.at(0).literal_sensitive);
  CHECK_FALSE(policy::analyze_sql("SELECT lower('X'), a FROM t LIMIT 5").statements.at(0).literal_sensitive);
}

TEST_CASE("a literal key whose texts disagree is never trusted", "[analysis_cache]") {
  analysis_cache cache;
  const auto p = make_policy();
  // Same key, different output positions: the analyzer marks these, and the comparison would refuse them
  // too.
  cache.get("SELECT a, b FROM t ORDER BY 1", p);
  cache.get("SELECT a, b FROM t ORDER BY 2", p);
  const auto third = cache.get("SELECT a, b FROM t ORDER BY 3", p);
  CHECK(cache.literal_hits() == 0);
  CHECK(third->statements.at(0).text == "SELECT a, b FROM t ORDER BY 3");
}

TEST_CASE("cached facts equal fresh facts for every golden statement with other literals",
          "[analysis_cache]") {
  const auto p = make_policy();
  analysis_cache cache;
  std::size_t with_literals = 0;
  std::size_t compared = 0;
  for (const auto& sql : golden_statements()) {
    const auto key = policy::make_literal_key(sql);
    if (!key || key->literals.empty()) continue;
    ++with_literals;
    // The original, then variants: the second text may make the key trusted, later ones hit it.
    require_same(*cache.get(sql, p), policy::analyze_sql(sql, p->functions), sql);
    for (int round = 1; round <= 3; ++round) {
      const std::string text = with_other_literals(sql, *key, round);
      require_same(*cache.get(text, p), policy::analyze_sql(text, p->functions), text);
      ++compared;
    }
  }
  INFO(with_literals << " golden statements with literals, " << cache.literal_hits() << " literal hits");
  CHECK(with_literals > 50);
  CHECK(compared == 3 * with_literals);
  CHECK(cache.literal_hits() > 20);
}

TEST_CASE("a replaced policy starts literal keys afresh", "[analysis_cache]") {
  analysis_cache cache;
  const auto first = make_policy();
  const auto second = make_policy();
  cache.get("SELECT a FROM t WHERE b = 1", first);
  cache.get("SELECT a FROM t WHERE b = 2", first);
  cache.get("SELECT a FROM t WHERE b = 3", second);
  CHECK(cache.literal_hits() == 0);
  cache.get("SELECT a FROM t WHERE b = 4", first);  // key now belongs to the second policy
  CHECK(cache.literal_hits() == 0);
}

// Importing pgbench-style scripts: parsing, expressions, variable substitution in each query mode, and the
// capture that comes out (deterministic for a seed, one session per client, Terminate at the end).
#include <catch2/catch.hpp>

#include "gateway/replay_pgbench.hpp"
#include "gateway/replay_plan.hpp"
#include "protocol/postgres/messages.hpp"

using namespace phigate;
using namespace phigate::replay;

namespace {

constexpr std::string_view select_only = R"(-- pgbench -S
\set aid random(1, 100000 * :scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
)";

std::string sql_of(const message& m) {
  auto f = pg::split_frame(as_bytes(m.bytes), m.bytes.size());
  if (m.type() == pg::frontend_type::query) return std::string(pg::query::decode(*f)->sql);
  if (m.type() == pg::frontend_type::parse) return std::string(pg::parse::decode(*f)->sql);
  return {};
}

capture import(std::string_view text, pgbench_options options) {
  auto script = parse_pgbench_script(text);
  REQUIRE(std::holds_alternative<pgbench_script>(script));
  auto c = generate_pgbench_capture(std::get<pgbench_script>(script), options);
  REQUIRE(std::holds_alternative<capture>(c));
  return std::get<capture>(c);
}

std::int64_t eval(std::string_view e, std::map<std::string, std::int64_t> vars = {}) {
  std::uint64_t rng = 1;
  auto v = evaluate_pgbench_expression(e, vars, rng);
  REQUIRE(std::holds_alternative<std::int64_t>(v));
  return std::get<std::int64_t>(v);
}

}  // namespace

TEST_CASE("pgbench expressions follow integer arithmetic with precedence and variables", "[replay]") {
  CHECK(eval("1 + 2 * 3") == 7);
  CHECK(eval("(1 + 2) * 3") == 9);
  CHECK(eval("-7 / 2") == -3);
  CHECK(eval("17 % 5") == 2);
  CHECK(eval("100000 * :scale", {{"scale", 3}}) == 300000);
  CHECK(eval("abs(-4) + least(3, 1, 2) + greatest(5, 9)") == 14);
}

TEST_CASE("random(lo, hi) stays in range and repeats for the same seed", "[replay]") {
  std::uint64_t a = 42, b = 42;
  for (int i = 0; i < 1000; ++i) {
    const auto x = std::get<std::int64_t>(evaluate_pgbench_expression("random(1, 10)", {}, a));
    CHECK(x >= 1);
    CHECK(x <= 10);
    CHECK(std::get<std::int64_t>(evaluate_pgbench_expression("random(1, 10)", {}, b)) == x);
  }
}

TEST_CASE("bad expressions say why", "[replay]") {
  std::uint64_t rng = 1;
  const auto error = [&](std::string_view e) {
    auto v = evaluate_pgbench_expression(e, {}, rng);
    REQUIRE(std::holds_alternative<std::string>(v));
    return std::get<std::string>(v);
  };
  CHECK(error("1 / 0") == "division by zero");
  CHECK(error(":missing + 1") == "undefined variable :missing");
  CHECK(error("random(5, 1)").find("empty range") != std::string::npos);
  CHECK(error("1 +") == "expression ends early");
  CHECK(error("nosuch(1)").find("unknown function") != std::string::npos);
}

TEST_CASE("scripts with unknown meta-commands or no SQL are refused with the line", "[replay]") {
  auto r = parse_pgbench_script("\\set a 1\n\\gset\nSELECT 1;\n");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).starts_with("line 2:"));
  CHECK(std::holds_alternative<std::string>(parse_pgbench_script("\\set a 1\n")));
}

TEST_CASE("multi-line SQL ends at a semicolon at the end of a line", "[replay]") {
  auto r = parse_pgbench_script("UPDATE t\n  SET a = 1\n  WHERE b = 2;\nSELECT 1;\n");
  REQUIRE(std::holds_alternative<pgbench_script>(r));
  const auto& commands = std::get<pgbench_script>(r).commands;
  REQUIRE(commands.size() == 2);
  CHECK(commands[0].text == "UPDATE t\n  SET a = 1\n  WHERE b = 2");
  CHECK(commands[1].line == 4);
}

TEST_CASE("simple mode substitutes values into the text, one Query per command", "[replay]") {
  const auto c = import(select_only, {.clients = 2, .transactions = 3, .seed = 7, .database = "bench"});
  REQUIRE(c.sessions.size() == 2);
  CHECK(c.sessions[0].database == "bench");
  const auto& m = c.sessions[0].messages;
  REQUIRE(m.size() == 4);  // three queries and Terminate
  CHECK(m[0].type() == pg::frontend_type::query);
  CHECK(sql_of(m[0]).starts_with("SELECT abalance FROM pgbench_accounts WHERE aid = "));
  CHECK(sql_of(m[0]).find(':') == std::string::npos);
  CHECK(m[3].type() == pg::frontend_type::terminate);
}

TEST_CASE("the same seed gives the same capture and another seed another one", "[replay]") {
  const auto a = import(select_only, {.transactions = 5, .seed = 1});
  const auto b = import(select_only, {.transactions = 5, .seed = 1});
  const auto c = import(select_only, {.transactions = 5, .seed = 2});
  CHECK(sql_of(a.sessions[0].messages[0]) == sql_of(b.sessions[0].messages[0]));
  CHECK(sql_of(a.sessions[0].messages[4]) == sql_of(b.sessions[0].messages[4]));
  std::string all_a, all_c;
  for (const auto& m : a.sessions[0].messages) all_a += m.bytes;
  for (const auto& m : c.sessions[0].messages) all_c += m.bytes;
  CHECK(all_a != all_c);
}

TEST_CASE("extended mode sends Parse, Bind, Describe, Execute, Sync with $n parameters", "[replay]") {
  const auto c =
      import("\\set x 5\nSELECT :x, :x + 1, ':x';\n", {.transactions = 2, .mode = query_mode::extended});
  const auto& m = c.sessions[0].messages;
  REQUIRE(m.size() == 11);
  CHECK(std::string{m[0].type(), m[1].type(), m[2].type(), m[3].type(), m[4].type()} == "PBDES");
  CHECK(sql_of(m[0]) == "SELECT $1, $1 + 1, ':x'");
  auto f = pg::split_frame(as_bytes(m[1].bytes), m[1].bytes.size());
  auto bind = pg::bind::decode(*f);
  REQUIRE(bind);
  REQUIRE(bind->params.size() == 1);
  CHECK(as_chars(*bind->params[0]) == "5");
  CHECK(m[5].type() == pg::frontend_type::parse);  // unnamed statement parsed again
}

TEST_CASE("prepared mode parses each command once per session under its own name", "[replay]") {
  const auto c = import(select_only, {.transactions = 3, .mode = query_mode::prepared});
  const auto& m = c.sessions[0].messages;
  int parses = 0;
  for (const auto& msg : m) parses += msg.type() == pg::frontend_type::parse;
  CHECK(parses == 1);
  CHECK(m.size() == 5 + 4 + 4 + 1);
  const auto p = make_plan(c);
  REQUIRE(p.sessions[0].steps.size() == 4);
  CHECK(p.statement_count == 3);
  CHECK(p.labels[p.sessions[0].steps[2].statements[0].label].kind == "read");
}

TEST_CASE("sleep advances the recorded clock for paced replays", "[replay]") {
  const auto c = import("SELECT 1;\n\\sleep 5 ms\n", {.transactions = 2});
  const auto& m = c.sessions[0].messages;
  REQUIRE(m.size() == 3);
  CHECK(m[0].time_us == 0);
  CHECK(m[1].time_us == 5000);
  CHECK(m[2].time_us == 10000);
}

// Turns a pgbench-style script into a capture, so a synthetic workload can be replayed without capturing
// first. Understood: `\set NAME EXPRESSION` (integers; + - * / %, parentheses, :variables, random(lo, hi),
// abs(x), least(...), greatest(...)), `\sleep N [us|ms|s]` (advances the recorded clock, which
// `--pace` honours), `--` comment lines, and SQL commands ending with ';' at the end of a line, where
// `:name` is replaced by the variable's value. Variables `scale` (default 1) and `client_id` (0-based session
// number) are predefined, as in pgbench.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/replay_capture.hpp"

namespace phigate::replay {

/// pgbench -M: how each SQL command is sent.
enum class query_mode {
  simple,    ///< Query with the values substituted into the text
  extended,  ///< unnamed Parse, Bind (values as text parameters), Describe, Execute, Sync every time
  prepared,  ///< named Parse once per session, then Bind, Describe, Execute, Sync
};

struct pgbench_options {
  unsigned clients = 1;        ///< sessions in the capture
  unsigned transactions = 10;  ///< script runs per session
  query_mode mode = query_mode::simple;
  std::uint64_t seed = 1;  ///< the same seed gives the same capture
  std::string user = "pgbench";
  std::string database = "postgres";
  std::map<std::string, std::int64_t> variables;  ///< -D NAME=VALUE, scale among them
};

/// One parsed script command.
struct pgbench_command {
  enum class kind { set, sleep, sql } what = kind::sql;
  std::string name;  ///< variable of \set
  std::string text;  ///< the expression of \set, the SQL, or the \sleep amount
  std::int64_t sleep_us_per_unit = 1'000'000;
  int line = 0;
};

struct pgbench_script {
  std::vector<pgbench_command> commands;
};

/// The script's commands, or "line N: why" for the first problem (unknown meta-command, unterminated SQL).
std::variant<pgbench_script, std::string> parse_pgbench_script(std::string_view text);

/// Evaluates one \set expression with the given variables; the value or why not.
std::variant<std::int64_t, std::string> evaluate_pgbench_expression(
    std::string_view expression, const std::map<std::string, std::int64_t>& vars,
    std::uint64_t& random_state);

/// Runs the script `transactions` times for each of `clients` sessions and records what pgbench would
/// send, or why it cannot (an expression error, an undefined variable).
std::variant<capture, std::string> generate_pgbench_capture(const pgbench_script& script,
                                                            const pgbench_options& options);

}  // namespace phigate::replay

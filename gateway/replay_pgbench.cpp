#include "gateway/replay_pgbench.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>

#include "protocol/postgres/messages.hpp"

namespace phigate::replay {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// splitmix64: small, fast and the same on every platform, so a seed always gives the same capture.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Recursive descent over pgbench's integer expressions.
class expression_parser {
 public:
  expression_parser(std::string_view text, const std::map<std::string, std::int64_t>& vars,
                    std::uint64_t& rng)
      : text_(text), vars_(vars), rng_(rng) {}

  std::variant<std::int64_t, std::string> evaluate() {
    const auto v = sum();
    skip_space();
    if (error_.empty() && pos_ != text_.size())
      error_ = "unexpected '" + std::string(text_.substr(pos_)) + "'";
    if (!error_.empty()) return error_;
    return v;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::int64_t fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return 0;
  }

  std::int64_t sum() {
    std::int64_t v = product();
    for (;;) {
      if (take('+'))
        v += product();
      else if (take('-'))
        v -= product();
      else
        return v;
    }
  }

  std::int64_t product() {
    std::int64_t v = unary();
    for (;;) {
      if (take('*')) {
        v *= unary();
      } else if (take('/')) {
        const std::int64_t d = unary();
        if (d == 0) return fail("division by zero");
        v /= d;
      } else if (take('%')) {
        const std::int64_t d = unary();
        if (d == 0) return fail("division by zero");
        v %= d;
      } else {
        return v;
      }
    }
  }

  std::int64_t unary() {
    if (take('-')) return -unary();
    if (take('+')) return unary();
    return primary();
  }

  std::int64_t primary() {
    skip_space();
    if (take('(')) {
      const auto v = sum();
      if (!take(')')) return fail("missing ')'");
      return v;
    }
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      const std::string name = word();
      const auto it = vars_.find(name);
      if (it == vars_.end()) return fail("undefined variable :" + name);
      return it->second;
    }
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v);
      if (ec != std::errc()) return fail("number out of range");
      pos_ = static_cast<std::size_t>(end - text_.data());
      return v;
    }
    const std::string name = word();
    if (name.empty())
      return fail(pos_ < text_.size() ? "unexpected '" + std::string(1, text_[pos_]) + "'"
                                      : "expression ends early");
    return call(name);
  }

  std::int64_t call(const std::string& name) {
    if (!take('(')) return fail("unknown name '" + name + "'");
    std::vector<std::int64_t> args;
    if (!take(')')) {
      do args.push_back(sum());
      while (take(','));
      if (!take(')')) return fail("missing ')' after the arguments of " + name);
    }
    if (name == "random" || name == "random_uniform") {
      if (args.size() != 2) return fail(name + " takes 2 arguments");
      if (args[0] > args[1]) return fail(name + ": empty range");
      const auto width = static_cast<std::uint64_t>(args[1] - args[0]) + 1;
      return args[0] + static_cast<std::int64_t>(width == 0 ? next_random(rng_) : next_random(rng_) % width);
    }
    if (name == "abs" && args.size() == 1) return args[0] < 0 ? -args[0] : args[0];
    if ((name == "least" || name == "greatest") && !args.empty())
      return name == "least" ? *std::min_element(args.begin(), args.end())
                             : *std::max_element(args.begin(), args.end());
    return fail("unknown function " + name + " with " + std::to_string(args.size()) + " argument(s)");
  }

  std::string word() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  const std::map<std::string, std::int64_t>& vars_;
  std::uint64_t& rng_;
  std::string error_;
};

// The SQL with :name replaced: by the value (simple) or by $n with the value as parameter n (extended).
struct bound_sql {
  std::string text;
  std::vector<std::string> params;
};

bound_sql substitute(std::string_view sql, const std::map<std::string, std::int64_t>& vars, bool as_params) {
  bound_sql out;
  std::map<std::string, std::size_t> numbers;
  bool quoted = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    const bool variable = !quoted && c == ':' && i + 1 < sql.size() && is_name_char(sql[i + 1]) &&
                          (i == 0 || sql[i - 1] != ':');
    if (!variable) {
      out.text.push_back(c);
      continue;
    }
    std::size_t end = i + 1;
    while (end < sql.size() && is_name_char(sql[end])) ++end;
    const std::string name(sql.substr(i + 1, end - i - 1));
    const auto it = vars.find(name);
    if (it == vars.end()) {  // pgbench leaves an unknown :name alone
      out.text.push_back(c);
      continue;
    }
    if (as_params) {
      auto [slot, added] = numbers.emplace(name, out.params.size() + 1);
      if (added) out.params.push_back(std::to_string(it->second));
      out.text += "$" + std::to_string(slot->second);
    } else {
      out.text += std::to_string(it->second);
    }
    i = end - 1;
  }
  return out;
}

std::optional<std::int64_t> sleep_unit_us(std::string_view unit) {
  if (unit.empty() || unit == "s") return 1'000'000;
  if (unit == "ms") return 1'000;
  if (unit == "us") return 1;
  return std::nullopt;
}

// Appends the messages pgbench sends for one SQL command in `mode`.
void send_sql(session& s, std::int64_t now_us, const pgbench_command& command, std::size_t index,
              query_mode mode, const std::map<std::string, std::int64_t>& vars, std::vector<bool>& prepared) {
  const auto add = [&](auto&& encode) {
    std::string bytes;
    encode(bytes);
    s.messages.push_back({now_us, std::move(bytes)});
  };
  const bound_sql b = substitute(command.text, vars, mode != query_mode::simple);
  if (mode == query_mode::simple) return add([&](std::string& o) { pg::query{b.text}.encode(o); });
  const std::string name = mode == query_mode::prepared ? "P_" + std::to_string(index) : "";
  if (mode == query_mode::extended || !prepared[index]) {
    add([&](std::string& o) { pg::parse{name, b.text, {}}.encode(o); });
    prepared[index] = true;
  }
  pg::bind bind;
  bind.statement = name;
  for (const auto& p : b.params) bind.params.emplace_back(as_bytes(p));
  add([&](std::string& o) { bind.encode(o); });
  add([&](std::string& o) { pg::describe{'P', ""}.encode(o); });
  add([&](std::string& o) { pg::execute{"", 0}.encode(o); });
  add([&](std::string& o) { pg::encode_empty(o, pg::frontend_type::sync); });
}

}  // namespace

std::variant<std::int64_t, std::string> evaluate_pgbench_expression(
    std::string_view expression, const std::map<std::string, std::int64_t>& vars,
    std::uint64_t& random_state) {
  return expression_parser(expression, vars, random_state).evaluate();
}

std::variant<pgbench_script, std::string> parse_pgbench_script(std::string_view text) {
  pgbench_script script;
  std::string pending_sql;
  int pending_line = 0;
  int line_number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_number;
    const std::string_view line = trim(raw);
    const auto where = "line " + std::to_string(line_number) + ": ";
    if (pending_sql.empty() && (line.empty() || line.starts_with("--"))) continue;
    if (pending_sql.empty() && line.starts_with('\\')) {
      const auto space = line.find_first_of(" \t");
      const auto meta = line.substr(1, space == std::string_view::npos ? line.size() : space - 1);
      const auto rest = space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));
      pgbench_command c;
      c.line = line_number;
      if (meta == "set") {
        const auto gap = rest.find_first_of(" \t");
        if (gap == std::string_view::npos) return where + "\\set needs a name and an expression";
        c.what = pgbench_command::kind::set;
        c.name = std::string(rest.substr(0, gap));
        c.text = std::string(trim(rest.substr(gap)));
      } else if (meta == "sleep") {
        const auto gap = rest.find_first_of(" \t");
        const auto unit = sleep_unit_us(gap == std::string_view::npos ? "" : trim(rest.substr(gap)));
        if (rest.empty() || !unit) return where + "\\sleep needs an amount and optionally us, ms or s";
        c.what = pgbench_command::kind::sleep;
        c.text = std::string(rest.substr(0, gap));
        c.sleep_us_per_unit = *unit;
      } else {
        return where + "unsupported meta-command \\" + std::string(meta) + " (\\set and \\sleep are)";
      }
      script.commands.push_back(std::move(c));
      continue;
    }
    if (pending_sql.empty()) pending_line = line_number;
    if (!pending_sql.empty()) pending_sql += '\n';
    pending_sql += raw;
    if (line.ends_with(';')) {
      std::string sql(trim(pending_sql));
      sql.pop_back();
      script.commands.push_back({pgbench_command::kind::sql, "", std::string(trim(sql)), 0, pending_line});
      pending_sql.clear();
    }
  }
  if (!pending_sql.empty()) {
    // pgbench also accepts a last command without ';' at the end of the file.
    script.commands.push_back(
        {pgbench_command::kind::sql, "", std::string(trim(pending_sql)), 0, pending_line});
  }
  if (std::none_of(script.commands.begin(), script.commands.end(),
                   [](const pgbench_command& c) { return c.what == pgbench_command::kind::sql; }))
    return std::string("the script has no SQL command");
  return script;
}

std::variant<capture, std::string> generate_pgbench_capture(const pgbench_script& script,
                                                            const pgbench_options& options) {
  capture out;
  for (unsigned client = 0; client < options.clients; ++client) {
    session s;
    s.id = client + 1;
    s.key = "1:" + std::to_string(s.id);
    s.user = options.user;
    s.database = options.database;
    s.application_name = "pgbench";
    std::map<std::string, std::int64_t> vars{{"scale", 1}};
    for (const auto& [k, v] : options.variables) vars[k] = v;
    vars["client_id"] = client;
    std::uint64_t rng = options.seed * 0x9e3779b97f4a7c15ull + client;
    std::vector<bool> prepared(script.commands.size(), false);
    std::int64_t now_us = 0;
    for (unsigned tx = 0; tx < options.transactions; ++tx) {
      for (std::size_t i = 0; i < script.commands.size(); ++i) {
        const auto& c = script.commands[i];
        const auto where = "line " + std::to_string(c.line) + ": ";
        if (c.what == pgbench_command::kind::sql) {
          send_sql(s, now_us, c, i, options.mode, vars, prepared);
          continue;
        }
        auto value = evaluate_pgbench_expression(c.text, vars, rng);
        if (auto* problem = std::get_if<std::string>(&value)) return where + *problem;
        if (c.what == pgbench_command::kind::set)
          vars[c.name] = std::get<std::int64_t>(value);
        else
          now_us += std::get<std::int64_t>(value) * c.sleep_us_per_unit;
      }
    }
    std::string bye;
    pg::encode_empty(bye, pg::frontend_type::terminate);
    s.messages.push_back({now_us, std::move(bye)});
    out.sessions.push_back(std::move(s));
  }
  return out;
}

}  // namespace phigate::replay

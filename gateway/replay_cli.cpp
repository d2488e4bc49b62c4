#include "gateway/replay_cli.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "gateway/replay_capture.hpp"
#include "gateway/replay_pgbench.hpp"
#include "gateway/replay_report.hpp"
#include "gateway/replay_runner.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::replay {

namespace {

constexpr std::chrono::milliseconds progress_interval{500};

// Shows one updating line on a terminal while a run goes on; silent otherwise.
class progress_line {
 public:
  progress_line(bool enabled, std::string label, live_progress& live) : live_(live) {
    if (!enabled) return;
    thread_ = std::thread([this, label = std::move(label)] {
      const auto started = std::chrono::steady_clock::now();
      while (!done_.load()) {
        std::this_thread::sleep_for(progress_interval);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const auto n = live_.statements.load();
        std::fprintf(stderr, "\r\x1b[K%s  %.1f s  %llu statements  %.0f/s  %llu errors  %llu sessions",
                     label.c_str(), s, static_cast<unsigned long long>(n),
                     s > 0 ? static_cast<double>(n) / s : 0.0,
                     static_cast<unsigned long long>(live_.errors.load()),
                     static_cast<unsigned long long>(live_.sessions.load()));
        std::fflush(stderr);
      }
      std::fprintf(stderr, "\r\x1b[K");
    });
  }
  ~progress_line() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  live_progress& live_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::string write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out ? "" : "cannot write " + path;
}

boost::json::object machine_json() {
  boost::json::object m;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  m["host"] = host;
  m["cpus"] = std::thread::hardware_concurrency();
  utsname u{};
  if (::uname(&u) == 0) m["system"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  double load[1] = {0};
  if (::getloadavg(load, 1) == 1) m["load_average_1min"] = load[0];
  return m;
}

std::string hex64(std::uint64_t v) {
  return fmt::format("{:016x}", v);
}

void append_results(std::string& out, const plan& p, const std::string& target_name,
                    const std::vector<statement_result>& results) {
  for (const auto& r : results) {
    boost::json::object o{{"target", target_name},
                          {"session", r.session},
                          {"step", r.step},
                          {"statement", p.labels.at(r.label).text},
                          {"tags", r.tags},
                          {"rows", r.rows},
                          {"digest", hex64(r.digest)},
                          {"sqlstate", r.sqlstate}};
    out += boost::json::serialize(o);
    out += '\n';
  }
}

std::string describe_round(const target_outcome& t, unsigned round, const run_result& r) {
  const auto s = r.measured.total().summary();
  const double rate =
      r.measured.measured_seconds > 0 ? static_cast<double>(s.count) / r.measured.measured_seconds : 0;
  std::string line = fmt::format(
      "round {} {}: {} statements in {:.2f} s, {:.0f}/s, p50 {:.3f} ms, p99 {:.3f} ms, "
      "{} errors, {} failed sessions",
      round, t.where.name, s.count, r.elapsed_s, rate, s.p50_ms, s.p99_ms,
      s.errors + r.measured.other_errors(), r.measured.sessions_failed);
  for (const auto& f : r.failures) line += "\n  " + f;
  return line;
}

}  // namespace

replay_command::replay_command(CLI::App& app) {
  replay_ =
      app.add_subcommand("replay", "Replay captured sessions against PostgreSQL or phigate and measure them");
  replay_->require_subcommand(1);

  run_ = replay_->add_subcommand("run", "Replay a capture against one target, or compare several");
  run_->add_option("capture", capture_path_,
                   "Capture file (from the gateway's capture: section or replay import)")
      ->required();
  run_->add_option(
          "--target,-t", targets_,
          "[NAME=]CONNINFO: libpq keywords (host port user password dbname sslmode) or a postgresql:// "
          "URI; repeat to compare targets (ratios are against the first)")
      ->required();
  run_->add_option("--connections,-c", connections_, "Concurrent connections")->check(CLI::Range(1u, 10000u));
  run_->add_option("--threads,-j", threads_, "Client threads; 0 = min(connections, CPUs)");
  run_->add_option("--pace", pace_,
                   "Play at the recorded pace times FACTOR (2 = twice as fast); default: as fast "
                   "as possible")
      ->check(CLI::PositiveNumber);
  run_->add_option("--warmup", warmup_s_,
                   "Seconds at the start of each run that are played but not measured");
  run_->add_option("--repeat", repeat_, "Passes over the capture per run")->check(CLI::Range(1u, 1000000u));
  run_->add_option("--duration", duration_s_, "Loop over the capture for this many seconds per run instead");
  run_->add_option("--rounds", rounds_, "Runs per target; targets are interleaved round by round")
      ->check(CLI::Range(1u, 1000u));
  run_->add_option("--json", json_path_, "Write every measurement as JSON");
  run_->add_option("--markdown", markdown_path_, "Write the printed tables to this file too");
  run_->add_option("--svg", svg_path_, "Write a chart of latency percentiles and throughput per target");
  run_->add_option("--title", title_, "Chart title");
  run_->add_option("--results", results_path_,
                   "Write each statement's command tags, row count, row digest and SQLSTATE as JSON lines");
  run_->add_flag("--quiet,-q", quiet_, "No progress line and no per-round lines");

  import_ = replay_->add_subcommand("import", "Make a capture from a pgbench-style script");
  import_->add_option("script", script_path_, "Script: \\set, \\sleep and SQL lines with :variables")
      ->required();
  import_->add_option("--output,-o", output_path_, "Capture file to write (mode 0600)")->required();
  import_->add_option("--clients", clients_, "Sessions")->check(CLI::Range(1u, 100000u));
  import_->add_option("--transactions", transactions_, "Script runs per session")
      ->check(CLI::Range(1u, 100000000u));
  import_->add_option("--protocol,-M", mode_, "simple, extended or prepared (as pgbench -M)")
      ->check(CLI::IsMember({"simple", "extended", "prepared"}));
  import_->add_option("--seed", seed_, "Random seed; the same seed gives the same capture");
  import_->add_option("--user", user_, "User recorded for every session");
  import_->add_option("--database", database_, "Database recorded for every session");
  import_->add_option("--define,-D", defines_, "NAME=VALUE integer variable (scale defaults to 1)");

  show_ =
      replay_->add_subcommand("show", "Print the sessions (and with --messages every message) of a capture");
  show_->add_option("capture", capture_path_, "Capture file")->required();
  show_->add_flag("--messages", show_messages_, "List every message with its time and SQL");
}

int replay_command::run() {
  if (run_->parsed()) return run_replay();
  if (import_->parsed()) return run_import();
  if (show_->parsed()) return run_show();
  return 2;
}

int replay_command::run_replay() {
  std::vector<target_outcome> outcomes;
  for (const auto& text : targets_) {
    auto t = parse_target(text);
    if (auto* problem = std::get_if<std::string>(&t)) {
      std::cerr << "phigate replay: --target: " << *problem << "\n";
      return 2;
    }
    target_outcome o;
    o.where = std::get<target>(std::move(t));
    outcomes.push_back(std::move(o));
    if (targets_.size() > 1 && outcomes.back().where.name == "target")
      outcomes.back().where.name = "target" + std::to_string(outcomes.size());
  }
  auto loaded = read_capture_file(capture_path_);
  if (auto* problem = std::get_if<read_error>(&loaded)) {
    std::cerr << "phigate replay: " << capture_path_ << ": " << problem->to_string() << "\n";
    return 2;
  }
  const plan p = make_plan(std::get<capture>(loaded));
  if (!quiet_)
    std::cerr << fmt::format("capture {}: {} sessions, {} statements, {} distinct statements\n",
                             capture_path_, p.sessions.size(), p.statement_count, p.labels.size());
  const std::string results = run_rounds(p, outcomes);
  const std::string tables =
      outcomes.size() == 1 ? markdown_summary(p, outcomes.front()) : markdown_comparison(p, outcomes);
  std::cout << tables;
  if (const std::string problem = write_outputs(p, outcomes, tables, results); !problem.empty()) {
    std::cerr << "phigate replay: " << problem << "\n";
    return 2;
  }
  for (const auto& o : outcomes)
    if (o.measured.sessions_failed > 0) return 1;
  return 0;
}

std::string replay_command::run_rounds(const plan& p, std::vector<target_outcome>& outcomes) {
  run_options options{connections_, threads_,    std::nullopt,          warmup_s_,
                      repeat_,      duration_s_, !results_path_.empty()};
  if (pace_ > 0) options.pace = pace_;
  const bool show_progress = !quiet_ && ::isatty(STDERR_FILENO);
  std::string results;
  for (unsigned round = 0; round < rounds_; ++round) {
    // The order rotates each round, so no target always runs first or right after the heaviest one.
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
      auto& o = outcomes[(k + round) % outcomes.size()];
      live_progress live;
      run_result r;
      {
        progress_line line(show_progress, fmt::format("round {} {}", round + 1, o.where.name), live);
        r = replay::run(p, o.where, options, &live);
      }
      if (!quiet_) std::cerr << describe_round(o, round + 1, r) << "\n";
      if (!results_path_.empty()) append_results(results, p, o.where.name, r.results);
      o.measured.merge(r.measured);
      o.elapsed_s += r.elapsed_s;
      ++o.rounds;
      o.failures.insert(o.failures.end(), r.failures.begin(), r.failures.end());
    }
  }
  return results;
}

std::string replay_command::write_outputs(const plan& p, const std::vector<target_outcome>& outcomes,
                                          const std::string& tables, const std::string& results) {
  std::string problem;
  if (!markdown_path_.empty()) problem = write_text_file(markdown_path_, tables);
  if (problem.empty() && !svg_path_.empty())
    problem = write_text_file(
        svg_path_, svg_chart(outcomes, title_.empty() ? "phigate replay: " + capture_path_ : title_));
  if (problem.empty() && !results_path_.empty()) problem = write_text_file(results_path_, results);
  if (problem.empty() && !json_path_.empty()) {
    boost::json::object run_info{{"tool", "phigate replay"},      {"capture", capture_path_},
                                 {"sessions", p.sessions.size()}, {"statements_per_pass", p.statement_count},
                                 {"connections", connections_},   {"rounds", rounds_},
                                 {"warmup_s", warmup_s_},         {"repeat", repeat_},
                                 {"duration_s", duration_s_},     {"pace", pace_},
                                 {"machine", machine_json()}};
    problem = write_text_file(json_path_,
                              boost::json::serialize(json_report(p, outcomes, std::move(run_info))) + "\n");
  }
  return problem;
}

int replay_command::run_import() {
  std::ifstream in(script_path_, std::ios::binary);
  if (!in) {
    std::cerr << "phigate replay import: cannot read " << script_path_ << "\n";
    return 2;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  auto script = parse_pgbench_script(text);
  if (auto* problem = std::get_if<std::string>(&script)) {
    std::cerr << script_path_ << ": " << *problem << "\n";
    return 2;
  }
  pgbench_options options;
  options.clients = clients_;
  options.transactions = transactions_;
  options.mode = mode_ == "extended"   ? query_mode::extended
                 : mode_ == "prepared" ? query_mode::prepared
                                       : query_mode::simple;
  options.seed = seed_;
  options.user = user_;
  options.database = database_;
  for (const auto& d : defines_) {
    const auto eq = d.find('=');
    char* end = nullptr;
    const long long value = eq == std::string::npos ? 0 : std::strtoll(d.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || eq == 0 || end == d.c_str() + eq + 1 || *end != '\0') {
      std::cerr << "phigate replay import: -D " << d << ": expected NAME=INTEGER\n";
      return 2;
    }
    options.variables[d.substr(0, eq)] = value;
  }
  auto made = generate_pgbench_capture(std::get<pgbench_script>(script), options);
  if (auto* problem = std::get_if<std::string>(&made)) {
    std::cerr << script_path_ << ": " << *problem << "\n";
    return 2;
  }
  const auto& c = std::get<capture>(made);
  if (auto problem = write_capture_file(output_path_, c); !problem.empty()) {
    std::cerr << "phigate replay import: " << problem << "\n";
    return 2;
  }
  std::cerr << fmt::format("{}: {} sessions, {} messages\n", output_path_, c.sessions.size(),
                           c.message_count());
  return 0;
}

int replay_command::run_show() {
  auto loaded = read_capture_file(capture_path_);
  if (auto* problem = std::get_if<read_error>(&loaded)) {
    std::cerr << capture_path_ << ": " << problem->to_string() << "\n";
    return 2;
  }
  const auto& c = std::get<capture>(loaded);
  const plan p = make_plan(c);
  for (std::size_t i = 0; i < c.sessions.size(); ++i) {
    const auto& s = c.sessions[i];
    std::size_t statements = 0;
    for (const auto& st : p.sessions[i].steps) statements += st.statements.size();
    std::cout << fmt::format(
        "session {} user={} database={} application={} messages={} round_trips={} "
        "statements={}\n",
        s.key, s.user, s.database, s.application_name, s.messages.size(), p.sessions[i].steps.size(),
        statements);
    if (!show_messages_) continue;
    for (const auto& m : s.messages) {
      std::string detail;
      auto f = pg::split_frame(as_bytes(m.bytes), m.bytes.size());
      if (f && m.type() == pg::frontend_type::query) {
        if (auto q = pg::query::decode(*f)) detail = std::string(q->sql);
      } else if (f && m.type() == pg::frontend_type::parse) {
        if (auto q = pg::parse::decode(*f)) detail = "[" + std::string(q->name) + "] " + std::string(q->sql);
      }
      std::cout << fmt::format("  +{:.3f} ms {} {}\n", static_cast<double>(m.time_us - s.start_us) / 1000.0,
                               m.type(), detail);
    }
  }
  return 0;
}

}  // namespace phigate::replay

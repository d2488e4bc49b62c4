// What the audit log costs per statement, split into the sessions' share and the writer's, without sockets
// or a server: session threads feed the gateway's audit path (audit_session, audit_recorder, a real SQLite
// store in a scratch directory) the messages of pgbench -S, once with the audit log off and once on, and
// the CPU time each side spends is read from the thread clocks and /proc. The difference between the two
// session runs is what the sessions pay for auditing; the writer thread's CPU is the rest. pgbench-compare
// gives the end-to-end ratio; this one says where the time goes.
//
// Each thread paces itself to a statement rate like pgbench's through the gateway, so the writer's batches
// (and records) have the size they have in production rather than the size of a tight loop's.
//
// usage: audit_bench [prepared|simple] [statements per thread] [threads] [sessions per thread]
//                    [statements per second per thread]   (defaults: prepared 100000 2 4 8000)
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/sqlite_store.hpp"
#include "gateway/analysis_cache.hpp"
#include "gateway/audit_recorder.hpp"
#include "gateway/audit_session.hpp"
#include "policy/decision.hpp"

namespace {

using namespace phigate;
namespace fs = std::filesystem;

constexpr std::string_view prepared_sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

pg::frame frame_of(const std::string& bytes) {
  return *pg::split_frame(as_bytes(bytes), bytes.size());
}

session_identity dba(int session) {
  session_identity who;
  who.user = "dba";
  who.groups = {"dba"};
  who.database = "clinic";
  who.application_name = "pgbench";
  who.client_address = "127.0.0.1:" + std::to_string(40000 + session);
  who.upstream_role = "clinic_owner";
  who.upstream_user = "clinic_owner";
  return who;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// CPU time of the process's thread named `name` (the audit writer), from /proc.
double named_thread_cpu_us(const std::string& name) {
  const double tick_us = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto after = text.substr(text.rfind(')') + 2);
    std::istringstream fields(after);
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt: fields 3..13
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) * tick_us;
  }
  return 0;
}

struct session_sim {
  audit_session audit;
  pg_response_queue responses;
  session_identity who;
  identity_rewriter rewriter;
};

struct messages {
  std::string bind, execute, sync, bind_complete, data_row, command_complete, ready;
};

messages make_messages() {
  messages m;
  const std::string value = "12345";
  pg::bind{"", "P0", {}, {as_bytes(value)}, {}}.encode(m.bind);
  pg::execute{"", 0}.encode(m.execute);
  pg::encode_empty(m.sync, pg::frontend_type::sync);
  pg::encode_empty(m.bind_complete, pg::backend_type::bind_complete);
  pg::data_row{{as_bytes(value)}}.encode(m.data_row);
  pg::command_complete{"SELECT 1"}.encode(m.command_complete);
  pg::ready_for_query{'I'}.encode(m.ready);
  return m;
}

struct run_config {
  bool prepared = true;
  long statements = 100'000;
  int threads = 2;
  int sessions = 4;
  long rate = 8'000;
};

// The client's messages of one statement, as the session hands them to audit_session (and, for a Bind, keeps
// the portal); returns the statement's text.
std::string_view client_side(const run_config& cfg, session_sim& sim, const messages& m, long i,
                             std::string& query) {
  if (cfg.prepared) {
    const auto f = frame_of(m.bind);
    sim.audit.on_client_message(f, sim.responses);
    const auto bind = *pg::bind::decode(f);
    sim.responses.portals[""] = {"P0", std::string(prepared_sql), {}, nullptr, sim.audit.params_of(bind)};
    sim.audit.on_client_message(frame_of(m.execute), sim.responses);
    return prepared_sql;
  }
  query.clear();
  pg::query{"SELECT abalance FROM pgbench_accounts WHERE aid = " + std::to_string(i % 100000) + ";"}.encode(
      query);
  const auto f = frame_of(query);
  sim.audit.on_client_message(f, sim.responses);
  return pg::query::decode(f)->sql;
}

// One session thread: `statements` statements round-robin over its sessions; returns its CPU µs.
double run_thread(const run_config& cfg, int thread, const std::shared_ptr<audit_recorder>& recorder) {
  const auto policy = std::make_shared<const policy::policy_model>();
  const policy::decision verdict{
      policy::rule_action::allow, "dba-work", "", policy::statement_kind::read, {}};
  const auto via = cfg.prepared ? statement_request::protocol::extended : statement_request::protocol::simple;
  const messages m = make_messages();
  std::vector<std::unique_ptr<session_sim>> sessions;
  for (int s = 0; s < cfg.sessions; ++s) {
    auto sim = std::make_unique<session_sim>();
    sim->who = dba(thread * 100 + s);
    sim->audit.connected(recorder, static_cast<std::uint64_t>(thread * 100 + s + 1), sim->who);
    sim->responses.statements["P0"] = {std::string(prepared_sql), nullptr, false};
    sessions.push_back(std::move(sim));
  }
  std::string query;
  const double start = thread_cpu_us();
  const auto began = std::chrono::steady_clock::now();
  for (long i = 0; i < cfg.statements; ++i) {
    if (i % 32 == 0)
      std::this_thread::sleep_until(began + std::chrono::microseconds(i * 1'000'000 / cfg.rate));
    auto& sim = *sessions[static_cast<std::size_t>(i % cfg.sessions)];
    const auto sql = client_side(cfg, sim, m, i, query);
    const auto analysis = analysis_cache::for_this_thread().get(sql, policy);
    if (recorder)
      recorder->record_decision(sim.who, {via, sql, nullptr, false}, analysis, &verdict, decision::allow());
    if (cfg.prepared) sim.audit.on_client_message(frame_of(m.sync), sim.responses);
    for (const auto* reply : {&m.bind_complete, &m.data_row, &m.command_complete, &m.ready}) {
      if (!cfg.prepared && reply == &m.bind_complete) continue;
      sim.audit.on_server_message(frame_of(*reply), nullptr, sim.rewriter, sim.who);
    }
  }
  return thread_cpu_us() - start;
}

// Runs the session threads; returns their total CPU µs per statement.
double run_sessions(const run_config& cfg, const std::shared_ptr<audit_recorder>& recorder) {
  std::vector<double> cpu(static_cast<std::size_t>(cfg.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < cfg.threads; ++t)
    threads.emplace_back([&, t] { cpu[static_cast<std::size_t>(t)] = run_thread(cfg, t, recorder); });
  for (auto& t : threads) t.join();
  double total = 0;
  for (double c : cpu) total += c;
  return total / static_cast<double>(cfg.statements * cfg.threads);
}

}  // namespace

int main(int argc, char** argv) {
  run_config cfg;
  if (argc > 1) cfg.prepared = std::string(argv[1]) != "simple";
  if (argc > 2) cfg.statements = std::atol(argv[2]);
  if (argc > 3) cfg.threads = std::atoi(argv[3]);
  if (argc > 4) cfg.sessions = std::atoi(argv[4]);
  if (argc > 5) cfg.rate = std::max(1L, std::atol(argv[5]));
  const auto dir = fs::temp_directory_path() / ("phigate_audit_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  run_config warm_up = cfg;  // the analysis caches, the allocator
  warm_up.statements = std::max(1L, cfg.statements / 10);
  run_sessions(warm_up, nullptr);
  const double off = run_sessions(cfg, nullptr);

  auto log = std::make_unique<audit::audit_log>(
      std::make_unique<audit::sqlite_store>((dir / "audit.db").string(), audit::sqlite_store::mode::write),
      audit::log_options{});
  auto recorder = std::make_shared<audit_recorder>(
      std::move(log), std::make_shared<const audit::hmac_key>("bench", "bench-secret"), false);
  const double on = run_sessions(cfg, recorder);
  recorder->log().flush();
  const double writer =
      named_thread_cpu_us("phigate-audit") / static_cast<double>(cfg.statements * cfg.threads);
  recorder->close();
  fs::remove_all(dir);

  std::printf("audit_bench %s: %ld statements x %d threads at %ld/s, %d sessions each\n",
              cfg.prepared ? "prepared" : "simple", cfg.statements, cfg.threads, cfg.rate, cfg.sessions);
  std::printf("  session CPU per statement: %.2f us without audit, %.2f us with (+%.2f us)\n", off, on,
              on - off);
  std::printf("  writer CPU per statement:  %.2f us\n", writer);
  std::printf("  audit CPU per statement:   %.2f us\n", on - off + writer);
  return 0;
}

#include "gateway/replay_runner.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace phigate::replay {

namespace {

using clock = std::chrono::steady_clock;
constexpr std::size_t max_failures_kept = 10;

// Shared by every worker of one run.
struct run_state {
  const plan& p;
  const target& t;
  const run_options& options;
  live_progress* progress;
  clock::time_point started;
  clock::time_point warmup_end;
  clock::time_point deadline;        // max() without a duration
  std::uint64_t total_sessions = 0;  // 0 = until the deadline
  std::atomic<std::uint64_t> next{0};
  std::mutex failures_mutex;
  std::map<std::string, std::uint64_t> failures;

  void fail(const std::string& why) {
    std::lock_guard lock(failures_mutex);
    if (failures.size() < max_failures_kept || failures.contains(why)) ++failures[why];
  }
  bool past_deadline() const { return clock::now() >= deadline; }
  clock::duration scaled(std::int64_t recorded_us) const {
    const double us = static_cast<double>(recorded_us) / *options.pace;
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double, std::micro>(us));
  }
};

// One thread's share: its own io_context, TLS context and counters, merged after the run.
struct lane {
  asio::io_context io{1};
  asio::ssl::context tls{asio::ssl::context::tls_client};
  stats measured;
  std::vector<statement_result> results;
  lane() { tls.set_verify_mode(asio::ssl::verify_none); }
};

asio::awaitable<void> sleep_until(clock::time_point when) {
  if (clock::now() >= when) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<void> play_session(run_state& st, lane& l, const session_plan& sp) {
  connection c(l.io.get_executor(), l.tls);
  const std::string database = st.t.database.empty() ? sp.database : st.t.database;
  if (auto problem = co_await c.open(st.t, database); !problem.empty()) {
    st.fail(problem);
    ++l.measured.sessions_failed;
    co_await c.close(false);
    co_return;
  }
  const auto begun = clock::now();
  bool terminated = false;
  bool broken = false;
  for (std::size_t i = 0; i < sp.steps.size() && !terminated; ++i) {
    const step& s = sp.steps[i];
    if (st.options.pace) co_await sleep_until(begun + st.scaled(s.offset_us));
    if (st.past_deadline()) break;
    const bool measure = clock::now() >= st.warmup_end;
    const auto errors_before = l.measured.total().errors() + l.measured.other_errors();
    auto problem = co_await c.play(s, sp.key, static_cast<std::uint32_t>(i), measure, l.measured,
                                   st.options.keep_results ? &l.results : nullptr);
    if (st.progress) {
      st.progress->statements += s.statements.size();
      st.progress->errors += l.measured.total().errors() + l.measured.other_errors() - errors_before;
    }
    if (!problem.empty()) {
      st.fail("session " + sp.key + ": " + problem);
      broken = true;
      break;
    }
    terminated = s.terminates;
  }
  co_await c.close(!terminated && !broken);
  if (broken)
    ++l.measured.sessions_failed;
  else
    ++l.measured.sessions_completed;
}

asio::awaitable<void> worker(run_state& st, lane& l) {
  const std::uint64_t count = st.p.sessions.size();
  for (;;) {
    const std::uint64_t n = st.next++;
    if (st.total_sessions != 0 && n >= st.total_sessions) break;
    if (st.past_deadline()) break;
    const std::uint64_t pass = n / count;
    const session_plan& sp = st.p.sessions[n % count];
    // At the recorded pace, a session starts when it started in the capture (each pass after the last).
    if (st.options.pace)
      co_await sleep_until(st.started +
                           st.scaled(static_cast<std::int64_t>(pass) * st.p.span_us + sp.start_offset_us));
    co_await play_session(st, l, sp);
    if (st.progress) ++st.progress->sessions;
  }
}

}  // namespace

run_result run(const plan& p, const target& t, const run_options& options, live_progress* progress) {
  run_result out;
  if (p.sessions.empty()) return out;
  const unsigned connections = std::max(1u, options.connections);
  unsigned threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::min(connections, std::thread::hardware_concurrency()));
  threads = std::min(threads, connections);

  run_state st{p, t, options, progress};
  st.started = clock::now();
  st.warmup_end = st.started + std::chrono::duration_cast<clock::duration>(
                                   std::chrono::duration<double>(std::max(0.0, options.warmup_s)));
  st.deadline = options.duration_s > 0 ? st.started + std::chrono::duration_cast<clock::duration>(
                                                          std::chrono::duration<double>(options.duration_s))
                                       : clock::time_point::max();
  st.total_sessions = options.duration_s > 0 ? 0 : p.sessions.size() * std::max(1u, options.repeat);

  std::vector<std::unique_ptr<lane>> lanes;
  for (unsigned i = 0; i < threads; ++i) lanes.push_back(std::make_unique<lane>());
  for (unsigned i = 0; i < connections; ++i) {
    lane& l = *lanes[i % threads];
    asio::co_spawn(l.io, worker(st, l), asio::detached);
  }
  std::vector<std::thread> running;
  for (auto& l : lanes) running.emplace_back([&io = l->io] { io.run(); });
  for (auto& th : running) th.join();
  const auto ended = clock::now();

  out.elapsed_s = std::chrono::duration<double>(ended - st.started).count();
  for (auto& l : lanes) {
    out.measured.merge(l->measured);
    out.results.insert(out.results.end(), std::make_move_iterator(l->results.begin()),
                       std::make_move_iterator(l->results.end()));
  }
  out.measured.measured_seconds =
      std::max(0.0, std::chrono::duration<double>(ended - std::max(st.started, st.warmup_end)).count());
  std::stable_sort(out.results.begin(), out.results.end(),
                   [](const statement_result& a, const statement_result& b) {
                     return std::pair{a.session, a.step} < std::pair{b.session, b.step};
                   });
  for (const auto& [why, n] : st.failures)
    out.failures.push_back(n > 1 ? why + " (" + std::to_string(n) + " times)" : why);
  return out;
}

}  // namespace phigate::replay

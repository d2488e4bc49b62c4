#include "gateway/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>

#include "approvals/sqlite_store.hpp"
#include "gateway/pg_session.hpp"
#include "protocol/postgres/auth.hpp"

namespace phigate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<gateway_context> ctx) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: say so, pause briefly, keep serving the sessions we have.
      spdlog::error("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    spawn_pg_session(std::move(socket), ctx);
  }
}

unsigned worker_count(const gateway_config& cfg) {
  if (cfg.workers > 0) return cfg.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

server::server(std::shared_ptr<gateway_context> ctx) : ctx_(std::move(ctx)) {}

void server::open_approvals() {
  const auto cfg = ctx_->snapshot()->config;
  // A random id per gateway process: requests filed by sessions of an earlier process can never be
  // released (their sessions are gone), so they are marked abandoned now.
  std::string instance;
  for (unsigned char b : pg::scram::random_bytes(8)) instance += fmt::format("{:02x}", b);
  auto service =
      std::make_shared<approvals::service>(approvals::open_sqlite_store(cfg->approvals.store), instance);
  if (const auto orphans = service->abandon_orphans(); orphans > 0)
    spdlog::warn("approvals: {} request(s) of an earlier gateway process marked abandoned", orphans);
  ctx_->set_approvals_hub(std::make_shared<approval_hub>(std::move(service)));
  spdlog::info("approvals: requests stored in {}", cfg->approvals.store);
}

void server::bind_listeners() {
  auto cfg = ctx_->snapshot()->config;
  const auto address = asio::ip::make_address(cfg->listen_postgres.host);
  port_ = cfg->listen_postgres.port;
  for (unsigned i = 0; i < worker_count(*cfg); ++i) {
    auto& io = *workers_.emplace_back(std::make_unique<asio::io_context>(1));
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    tcp::endpoint ep(address, port_);
    acceptor->open(ep.protocol());
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    acceptor->set_option(reuse_port(true));
    acceptor->bind(ep);  // throws system_error with the reason (address in use, permission)
    acceptor->listen(asio::socket_base::max_listen_connections);
    port_ = acceptor->local_endpoint().port();  // port 0: the first bind picks it, the others share it
    asio::co_spawn(io, accept_loop(*acceptor, ctx_), asio::detached);
    acceptors_.push_back(std::move(acceptor));
  }
}

void server::write_ready_file(const std::string& path) const {
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"postgres_port\": " << port_;
    if (const auto admin_port = admin_ ? admin_->port() : std::nullopt)
      out << ", \"admin_port\": " << *admin_port;
    out << ", \"pid\": " << ::getpid() << "}\n";
    if (!out) throw std::runtime_error("cannot write ready file " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

void server::reload() {
  auto current = ctx_->snapshot()->config;
  try {
    auto next = std::make_shared<gateway_config>(load_config(current->source_path));
    if (next->listen_postgres.host != current->listen_postgres.host ||
        (current->listen_postgres.port != 0 && next->listen_postgres.port != current->listen_postgres.port))
      spdlog::warn("reload: listen address changes take effect only after a restart");
    spdlog::set_level(spdlog::level::from_str(next->log_level));
    ctx_->replace_snapshot(make_snapshot(std::move(next)));
    spdlog::info("reload: configuration {} loaded; new sessions use it", current->source_path);
    if (auto* audit = ctx_->audit())
      audit->policy_reload(true, "configuration " + current->source_path + " loaded");
  } catch (const config_exception& e) {
    for (const auto& err : e.errors()) spdlog::error("reload: {}", err.to_string());
    spdlog::error("reload: keeping the last good configuration");
    if (auto* audit = ctx_->audit()) audit->policy_reload(false, e.what());
  } catch (const std::exception& e) {
    spdlog::error("reload: {}; keeping the last good configuration", e.what());
    if (auto* audit = ctx_->audit()) audit->policy_reload(false, e.what());
  }
}

int server::run(const std::string& ready_file) {
  open_approvals();
  bind_listeners();
  if (auto* audit = ctx_->audit()) audit->gateway_start(*ctx_->snapshot()->config);
  // Before the workers start: a bad admin address or certificate then fails the start cleanly.
  admin_ = admin_runtime::start(ctx_->approvals_hub() ? ctx_->approvals_hub()->shared_service() : nullptr,
                                ctx_->snapshot()->config);
  std::vector<std::thread> threads;
  for (auto& io : workers_) threads.emplace_back([&io] { io->run(); });
  spdlog::info("phigate listening for PostgreSQL clients on {}:{} with {} worker threads",
               ctx_->snapshot()->config->listen_postgres.host, port_, workers_.size());
  if (!ready_file.empty()) write_ready_file(ready_file);

  asio::io_context main_io;
  asio::signal_set signals(main_io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(error_code, int)> on_signal = [&](error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("signal {}: stopping", sig);
    // Cancel, then terminate: stop accepting first, then end every session with its io_context.
    for (std::size_t i = 0; i < workers_.size(); ++i)
      asio::post(*workers_[i], [a = acceptors_[i].get()] {
        error_code ignored;
        a->close(ignored);
      });
    for (auto& io : workers_) io->stop();
  };
  signals.async_wait(on_signal);
  std::thread signal_thread([&] { main_io.run(); });
  for (auto& t : threads) t.join();
  if (admin_) admin_->stop();
  if (auto* audit = ctx_->audit()) {
    audit->gateway_stop();
    audit->close();  // everything queued, then the final signed checkpoint
  }
  main_io.stop();
  signal_thread.join();
  spdlog::info("phigate stopped");
  return 0;
}

}  // namespace phigate

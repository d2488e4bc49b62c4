// The listening side: one io_context per worker thread, each with its own SO_REUSEPORT acceptor on the same
// address, so the kernel spreads connections and a session stays on the thread that accepted it. The main
// thread handles signals: SIGINT/SIGTERM stop, SIGHUP reloads the config (keeping the last good one).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/admin_runtime.hpp"
#include "gateway/gateway_context.hpp"

namespace phigate {

class server {
 public:
  explicit server(std::shared_ptr<gateway_context> ctx);

  /// Binds, writes `ready_file` (if not empty) once listening, serves until a stop signal. Returns the exit
  /// code for main. Throws std::runtime_error if the listen address cannot be bound.
  int run(const std::string& ready_file);

 private:
  /// Opens the approvals store named in the config and the hub sessions wait on.
  void open_approvals();
  void bind_listeners();
  void write_ready_file(const std::string& path) const;
  void reload();

  std::shared_ptr<gateway_context> ctx_;
  std::vector<std::unique_ptr<boost::asio::io_context>> workers_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  unsigned short port_ = 0;
  std::unique_ptr<admin_runtime> admin_;  ///< admin API and chat notifier; null when neither is configured
};

}  // namespace phigate

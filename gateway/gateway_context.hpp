// Everything a session needs from the gateway, shared by all sessions on all worker threads. The config is
// an immutable snapshot; a reload swaps the pointer, and running sessions keep the snapshot they started
// with.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/cancel_registry.hpp"
#include "gateway/config.hpp"
#include "gateway/seams.hpp"

namespace phigate {

/// One consistent set of settings: the config and the TLS contexts built from it.
struct gateway_snapshot {
  std::shared_ptr<const gateway_config> config;
  std::shared_ptr<boost::asio::ssl::context> client_tls;    ///< null when client TLS is off
  std::shared_ptr<boost::asio::ssl::context> upstream_tls;  ///< null when upstream tls is disable
};

/// Builds the TLS contexts for a config; throws std::runtime_error with a readable reason.
gateway_snapshot make_snapshot(std::shared_ptr<const gateway_config> config);

class gateway_context {
 public:
  explicit gateway_context(gateway_snapshot snapshot);

  std::shared_ptr<const gateway_snapshot> snapshot() const;
  void replace_snapshot(gateway_snapshot snapshot);

  cancel_registry& cancels() noexcept { return cancels_; }
  /// Secret for mock SCRAM verifiers of unknown users (random per process).
  const std::string& mock_secret() const noexcept { return mock_secret_; }
  std::uint64_t next_session_id() noexcept { return ++session_counter_; }

  std::unique_ptr<statement_gate> make_gate(const session_identity& who) const;
  std::unique_ptr<row_rewriter> make_rewriter(const session_identity& who) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const gateway_snapshot> snapshot_;
  cancel_registry cancels_;
  std::string mock_secret_;
  std::atomic<std::uint64_t> session_counter_{0};
};

}  // namespace phigate

// Everything a session needs from the gateway, shared by all sessions on all worker threads. The config is
// an immutable snapshot; a reload swaps the pointer, and running sessions keep the snapshot they started
// with.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/approval_hub.hpp"
#include "gateway/audit_recorder.hpp"
#include "gateway/cancel_registry.hpp"
#include "gateway/column_catalog.hpp"
#include "gateway/config.hpp"
#include "gateway/seams.hpp"
#include "masking/cell_masker.hpp"
#include "policy/policy_model.hpp"

namespace phigate {

/// One consistent set of settings: the config and the TLS contexts built from it.
struct gateway_snapshot {
  std::shared_ptr<const gateway_config> config;
  std::shared_ptr<boost::asio::ssl::context> client_tls;    ///< null when client TLS is off
  std::shared_ptr<boost::asio::ssl::context> upstream_tls;  ///< null when upstream tls is disable
  /// The compiled detectors and the masking rules (null when masking is absent or off). Compiling takes a
  /// noticeable fraction of a second, so it happens once per snapshot, never per session.
  std::shared_ptr<const masking::cell_masker> masker;
  /// Column rules resolved to table OIDs per database (null without column rules or a metadata role).
  std::shared_ptr<column_catalog> catalog;
  /// The loaded policy file (null when the config names none: every statement is allowed).
  std::shared_ptr<const policy::policy_model> policy;
  /// The gateway's audit log, the same in every snapshot (set by gateway_context; null when audit is off).
  std::shared_ptr<audit_recorder> audit;
};

/// Builds the TLS contexts and the masking detectors for a config; throws std::runtime_error with a readable
/// reason.
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

  /// Where held statements are filed and waited on; null when the gateway has no approvals store (held
  /// statements are then refused). Set once at start, before any session runs.
  void set_approvals_hub(std::shared_ptr<approval_hub> hub) { approvals_hub_ = std::move(hub); }
  approval_hub* approvals_hub() const noexcept { return approvals_hub_.get(); }

  /// The audit log, opened from the config's `audit:` section when the context is made and kept across
  /// reloads (a changed audit section takes effect after a restart); null when audit is off.
  audit_recorder* audit() const noexcept { return audit_.get(); }

  /// The decide and rewrite steps for one session, from the snapshot the session started with.
  static std::unique_ptr<statement_gate> make_gate(const gateway_snapshot& snap, const session_identity& who);
  static std::unique_ptr<row_rewriter> make_rewriter(const gateway_snapshot& snap,
                                                     const session_identity& who);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const gateway_snapshot> snapshot_;
  cancel_registry cancels_;
  std::shared_ptr<approval_hub> approvals_hub_;
  std::shared_ptr<audit_recorder> audit_;
  std::string mock_secret_;
  std::atomic<std::uint64_t> session_counter_{0};
};

}  // namespace phigate

// One PostgreSQL client session, read top to bottom in run(): startup (TLS negotiation, startup packet),
// authentication of the person, connection to the upstream as the person's role, then the query cycle in
// which every statement passes the decide step and every row the rewrite step. Each phase lives in its own
// file (pg_session_startup.cpp, pg_session_upstream.cpp, pg_session_relay.cpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/audit_session.hpp"
#include "gateway/frame_reader.hpp"
#include "gateway/gateway_context.hpp"
#include "gateway/pg_held_batch.hpp"
#include "gateway/pg_response_queue.hpp"
#include "gateway/seams.hpp"
#include "gateway/session_end.hpp"
#include "gateway/transport.hpp"

namespace phigate {

/// States a session passes through, for logs and tests.
enum class pg_session_state {
  startup,         ///< reading SSLRequest / GSSENCRequest / StartupMessage / CancelRequest
  authenticating,  ///< SCRAM exchange with the client
  connecting,      ///< opening and authenticating the upstream connection
  ready,           ///< query cycle
  closing,         ///< cleanup
};

class pg_session {
 public:
  pg_session(tcp::socket socket, std::shared_ptr<gateway_context> ctx);
  ~pg_session();

  /// Runs the whole session; never throws for anything the peers do.
  asio::awaitable<void> run();

 private:
  using maybe_end = std::optional<session_end>;

  asio::awaitable<session_end> run_phases();
  asio::awaitable<void> finish(session_end why);

  // Startup and authentication (pg_session_startup.cpp)
  asio::awaitable<maybe_end> negotiate_startup();
  asio::awaitable<maybe_end> handle_ssl_request(bool& tls_done);
  asio::awaitable<maybe_end> accept_startup_message(const pg::startup_message& m);
  asio::awaitable<void> forward_cancel(const pg::cancel_request& c);
  asio::awaitable<maybe_end> authenticate_client();
  asio::awaitable<decoded<pg::frame>> read_client_password_frame(maybe_end& end);

  // Upstream connection (pg_session_upstream.cpp)
  asio::awaitable<maybe_end> connect_upstream();
  asio::awaitable<maybe_end> open_upstream_socket();
  asio::awaitable<maybe_end> negotiate_upstream_tls();
  asio::awaitable<maybe_end> authenticate_upstream();
  asio::awaitable<maybe_end> answer_upstream_auth(const pg::authentication& auth,
                                                  std::optional<pg::scram::client_exchange>& scram);
  asio::awaitable<maybe_end> relay_upstream_startup();

  // Query cycle (pg_session_relay.cpp)
  asio::awaitable<session_end> relay();
  asio::awaitable<session_end> pump_client();
  asio::awaitable<session_end> pump_upstream();
  maybe_end on_client_message(const pg::frame& f, std::string& to_upstream);  // pg_session_frontend.cpp
  maybe_end on_query(const pg::frame& f, std::string& to_upstream);
  maybe_end on_parse(const pg::frame& f, std::string& to_upstream);
  maybe_end on_bind(const pg::frame& f, std::string& to_upstream);
  maybe_end on_describe(const pg::frame& f, std::string& to_upstream);
  maybe_end on_execute(const pg::frame& f, std::string& to_upstream);
  maybe_end on_server_message(const pg::frame& f, std::string& to_client);
  maybe_end on_server_ready(const pg::frame& f, std::string& to_client);
  maybe_end on_server_describe_answer(const pg::frame& f, std::string& to_client);
  maybe_end on_server_rows(const pg::frame& f, std::string& to_client);
  maybe_end on_server_copy_out(const pg::frame& f, std::string& to_client);
  maybe_end on_server_error(const pg::frame& f, std::string& to_client);
  session_end end_relay(session_end why, transport& other);
  void deny_into(const decision& d, std::string& to_upstream, bool extended);
  void forget_prepared(const decision& d);

  // Statements held for approval (pg_session_hold.cpp)
  struct hold_outcome;
  void start_hold(const pg::frame& f, decision d, bool extended, std::string_view portal_sql = {});
  maybe_end hold_frame(const pg::frame& f);
  asio::awaitable<maybe_end> resolve_hold(std::string& to_upstream);
  asio::awaitable<hold_outcome> await_decision(approval_hub& hub, const approvals::request& filed);
  approvals::request draft_request(const held_batch& held, std::string justification) const;
  /// Acts on a decided request: release the batch (approved and consumed) or refuse it.
  maybe_end settle_hold(const held_batch& held, approval_hub& hub, const approvals::request& r,
                        const std::string& digest, std::string& to_upstream);
  maybe_end release_held(const held_batch& held, std::string& to_upstream);
  /// Records one approval step in the audit log; false when it could not be recorded.
  bool audit_step(const approvals::request& r, std::string_view step, std::string_view reason);
  void refuse_held(const held_batch& held, std::string_view sqlstate, std::string message,
                   std::string& to_upstream);

  // Helpers
  /// Writes to the client; both pumps may call it (a held statement's notice goes out from the client
  /// pump), so writes are serialized and never interleave.
  asio::awaitable<bool> send_client(const std::string& bytes);
  /// Ends the session after telling the client why (FATAL ErrorResponse).
  asio::awaitable<session_end> refuse(session_end why, std::string_view sqlstate, std::string message);
  session_end protocol_violation(std::string detail);
  session_end frame_error(const decode_error& e, error_code io, bool from_client);
  void arm_watchdog(std::chrono::milliseconds after, session_end reason);
  void disarm_watchdog();
  const gateway_config& config() const { return *snapshot_->config; }

  std::shared_ptr<gateway_context> ctx_;
  std::shared_ptr<const gateway_snapshot> snapshot_;
  std::uint64_t id_;
  pg_session_state state_ = pg_session_state::startup;

  transport client_;
  frame_reader client_reader_;
  std::optional<transport> upstream_;
  frame_reader upstream_reader_;

  session_identity identity_;
  std::vector<std::pair<std::string, std::string>> client_params_;  ///< allowed startup parameters
  std::unique_ptr<statement_gate> gate_;
  std::unique_ptr<row_rewriter> rewriter_;
  audit_session audit_;  ///< this session in the audit log (connection, authentication, outcomes)
  pg_response_queue responses_;
  char transaction_status_ = 'I';
  bool discarding_until_sync_ = false;  ///< after a denial in the extended protocol, as the server would
  std::unique_ptr<held_batch> held_;    ///< messages held for approval, not yet sent upstream
  bool replaying_approved_ = false;     ///< releasing an approved batch: its holds are satisfied
  bool client_writing_ = false;
  asio::steady_timer client_write_idle_;  ///< cancelled when a client write ends, to wake the other pump

  std::optional<std::int32_t> client_key_pid_;  ///< our BackendKeyData, registered for cancels
  pg::backend_key_data upstream_key_;

  asio::steady_timer watchdog_;
  bool watchdog_armed_ = false;
  std::optional<session_end> watchdog_fired_;
  bool ending_ = false;          ///< the first pump to stop has recorded why; the other adds nothing
  std::string end_detail_;       ///< for the log line
  std::string fatal_to_client_;  ///< sent to the client during cleanup, if any
};

/// Starts a session on `socket` as a detached coroutine on the socket's executor.
void spawn_pg_session(tcp::socket socket, std::shared_ptr<gateway_context> ctx);

}  // namespace phigate

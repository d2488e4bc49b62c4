// One session's view of the audit log: it names the session in every record, and it times each statement
// from the moment the client's Query or Execute arrives until the server completes it, to record the
// statement's outcome (rows, SQLSTATE, masked cells, duration). The session files call it with one line at
// each point; with the audit log off every call returns at once. The session's actor is built once (at the
// startup packet and again once authenticated) and every record points at it; a statement's text is copied
// once, for its decision and outcome records.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/audit_recorder.hpp"
#include "gateway/pg_response_queue.hpp"
#include "gateway/ring_queue.hpp"
#include "gateway/seams.hpp"

namespace phigate {

class audit_session {
 public:
  /// The client sent its startup packet: binds the gateway's recorder (null: audit off) and this session's
  /// id, and records the connection.
  void connected(std::shared_ptr<audit_recorder> recorder, std::uint64_t session_id,
                 const session_identity& who);
  void authenticated(const session_identity& who, bool ok, std::string detail = {});

  /// Before the session handles a client message: starts a statement's clock (Query, Execute), marks a Sync,
  /// and names this session to the decide step's records.
  void on_client_message(const pg::frame& f, const pg_response_queue& responses);
  /// What a portal bound with `bind` keeps for the decision records of its Executes: the parameters as the
  /// audit log hashes them ("" with the audit log off).
  [[nodiscard]] std::string params_of(const pg::bind& bind) const;
  /// Before the session handles a server message: `front` is what the server is answering (or null).
  void on_server_message(const pg::frame& f, const expected_response* front, const row_rewriter& rewriter,
                         const session_identity& who);

  /// Statements whose outcome is still to come (for tests).
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }

 private:
  struct statement {
    enum class kind { query, execute, sync } what = kind::query;
    std::chrono::steady_clock::time_point started;  ///< Query and Execute: when the client sent it
    shared_statement_text sql;                      ///< null for Sync
    statement_slot slot;                            ///< where its allow decision is (see audit_context)
    audit::outcome_info result;
    bool refused = false;  ///< the decide step refused it: its decision record says so, no outcome follows

    /// Back to a default statement, releasing what it held (ring_queue reuses the slot).
    void clear() {
      what = kind::query;
      started = {};
      sql.reset();
      slot = {};
      if (!result.command.empty()) result.command.clear();
      if (result.sqlstate != "00000") result.sqlstate = "00000";
      result.rows = result.duration_us = 0;
      result.masked.clear();
      refused = false;
    }
  };

  void finish(statement& s, const row_rewriter& rewriter, const session_identity& who);
  /// The text of the session's previous statement when it is `sql` (a prepared statement executed again),
  /// else a new copy: one copy and one keyed hash per text rather than per statement.
  shared_statement_text text_of(std::string_view sql);
  void drop_until_sync();

  std::shared_ptr<audit_recorder> recorder_;
  std::uint64_t id_ = 0;
  std::shared_ptr<const audit::actor> actor_;
  const session_identity* identity_ = nullptr;  ///< what actor_ was built from, once authenticated
  shared_statement_text last_text_;
  std::shared_ptr<statement_batch> batch_;  ///< the session's open batch of allowed statements
  ring_queue<statement> pending_;
  std::map<std::string, std::uint64_t> masked_seen_;  ///< the rewriter's counts at the last outcome
};

}  // namespace phigate

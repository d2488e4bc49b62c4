// The gateway's side of the audit log: turns what the gateway knows (identities, statements, the decide
// step's verdicts, approval steps, outcomes) into audit events, keeps statement text out of them (normalized
// text plus a keyed HMAC), and says whether statements may run at all: while the log cannot record,
// the decide step refuses every statement with SQLSTATE 58030 (fail closed).
//
// A statement's records are built on the log's writer thread, not on the session's: the session hands over
// the facts it saw (its shared actor, the statement text, the verdict, the statement's kinds and a summary
// of its analysis shared by every statement with the same normalized text, the outcome counters) and the
// writer works out the HMACs and the lists. A session's allowed statements go into its open batch (see
// audit_facts.hpp); any other record of the session closes the batch first, so the session's records keep
// their order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "audit/crypto.hpp"
#include "gateway/audit_facts.hpp"
#include "gateway/config_audit.hpp"
#include "gateway/seams.hpp"

namespace phigate {

namespace policy {
struct analysis;
struct decision;
}  // namespace policy

struct gateway_config;

/// SQLSTATE of a statement refused because the audit log cannot record it: class 58 (system error),
/// io_error. Chosen over 53100 (disk_full) because a read-only or deleted store is not a full disk.
inline constexpr std::string_view audit_unavailable_sqlstate = "58030";
/// The rule id the audit trail gives such a refusal.
inline constexpr std::string_view audit_unavailable_rule = "audit-unavailable";

/// What the calling worker thread is handling a client message for (set by audit_session), so the decide
/// step's records name the session and share its actor and the statement's text without the gate knowing
/// them. The pointers are the session's own and valid while it handles that message.
struct audit_context {
  std::uint64_t session = 0;
  const std::shared_ptr<const audit::actor>* who = nullptr;
  const shared_statement_text* text = nullptr;  ///< the Query's or Execute's text; null for other messages
  /// The Execute's parameters as encode_params wrote them at Bind; null without (Query, Parse)
  const std::string* params = nullptr;
  /// Where the statement's allow decision lands, so its outcome can be folded into it (emptied for a
  /// refusal); null for other messages
  statement_slot* slot = nullptr;
  /// The session's open batch of allowed statements (see audit_facts.hpp); null: none is kept
  std::shared_ptr<statement_batch>* batch = nullptr;
  /// The session's identity *who was built from once it authenticated (which it never changes after), so
  /// that a decision about it takes *who without comparing them; null before
  const session_identity* identity = nullptr;
};

class audit_recorder {
 public:
  /// Opens the store named in the config and starts the writer. Throws std::runtime_error when the store or
  /// the signing key cannot be opened.
  explicit audit_recorder(const audit_config& config);
  /// Over an already opened log (tests, other stores).
  audit_recorder(std::unique_ptr<audit::audit_log> log, std::shared_ptr<const audit::hmac_key> key,
                 bool keep_literals);
  ~audit_recorder();

  /// False while the store fails; statements are then refused.
  [[nodiscard]] bool healthy() const noexcept { return log_->healthy(); }
  /// The decision every statement gets while the log is unhealthy; records the refusal too (it is written
  /// once the store recovers).
  decision refuse_unavailable(const session_identity& who, const statement_request& request);

  void gateway_start(const gateway_config& config);
  void gateway_stop();
  void policy_reload(bool ok, std::string detail);
  void connection(std::uint64_t session, const session_identity& who);
  void authentication(std::uint64_t session, const session_identity& who, bool ok, std::string detail);

  /// Records the decide step's verdict `d` for `request` (analysis and verdict from the policy, when there is
  /// one). Deny and hold are committed before this returns; if that fails the statement gets
  /// refuse_unavailable's decision instead of `d`.
  decision record_decision(const session_identity& who, const statement_request& request,
                           const std::shared_ptr<const policy::analysis>& analysis,
                           const policy::decision* verdict, decision d);

  /// One approval step (requested, approved, denied, expired, abandoned, consumed), committed before this
  /// returns. Plain strings so approvals/ need not be known here. False when it could not be committed: the
  /// caller must not act on the step (fail closed).
  bool approval_step(const session_identity& requester, std::uint64_t session, std::string_view request_id,
                     std::string_view step, const std::vector<std::string>& approvers,
                     std::string_view reason, std::string_view digest, std::string_view normalized);

  /// What a forwarded statement did; `sql` is its exact text (hashed, never stored unless keep_literals).
  /// When the batch that holds the statement's allow decision (`slot`, as record_decision left it) has not
  /// been taken for writing yet, the two become one record of kind `statement`; otherwise (a long
  /// statement) the outcome goes into the session's open batch `open` as a record of its own.
  void outcome(std::uint64_t session, const std::shared_ptr<const audit::actor>& who,
               shared_statement_text sql, const statement_slot& slot, audit::outcome_info&& result,
               std::shared_ptr<statement_batch>& open);

  /// A Bind's parameters as their keyed hash covers them: count, then per parameter its format and a
  /// length-prefixed value (-1 for NULL), so no two different parameter lists encode alike.
  static std::string encode_params(const pg::bind& bind);

  /// The actor of every record about `who`; a session builds it once.
  static std::shared_ptr<const audit::actor> make_actor(const session_identity& who);

  /// What the calling worker thread is handling a client message for (see audit_context).
  static void set_current(audit_context context) noexcept;
  /// Names only the session (its actor and text are built afresh): after a wait, during which other
  /// sessions ran on this thread.
  static void set_current_session(std::uint64_t session) noexcept;
  static std::uint64_t current_session() noexcept;

  audit::audit_log& log() noexcept { return *log_; }
  /// Writes everything queued and the final checkpoint.
  void close() { log_->close(); }

 private:
  audit::event make_event(audit::event_kind kind, std::uint64_t session, const session_identity* who) const;
  [[nodiscard]] audit_hashing hashing() const noexcept { return {key_.get(), keep_literals_}; }
  /// The decision's facts as the session saw them, besides its verdict; the writer builds the rest.
  /// `current_statement`: the request is the statement the calling thread's session is handling (see
  /// audit_context).
  static void fill_decision(statement_fact& fact, const statement_request& request, bool current_statement,
                            const std::shared_ptr<const policy::analysis>& analysis);
  /// Queues `fact` as a record of its own, after everything the calling thread's session batched so far;
  /// `durable`: waits for its commit. False when it was dropped or (durable) not committed.
  bool append_single(std::shared_ptr<const audit::actor> who, statement_fact fact, bool durable);

  std::unique_ptr<audit::audit_log> log_;
  std::shared_ptr<const audit::hmac_key> key_;
  bool keep_literals_ = false;
};

}  // namespace phigate

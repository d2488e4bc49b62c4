// What the gateway hands the audit log's writer thread about statements: the facts a session saw, from which
// the writer encodes the records (keyed hashes, the lists of kinds and tables) without building an event
// for each. A session's allowed statements
// go into one statement_batch that the session keeps filling, without the log's lock or an allocation per
// statement, until the writer takes the batch for its next transaction; an outcome that arrives while its
// statement's batch is still open is folded into the statement's fact (one `statement` record instead of a
// decision and an outcome). Refusals, and decisions the session is not handling itself, are single facts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "audit/crypto.hpp"
#include "policy/statement_kind.hpp"

namespace phigate {

namespace policy {
struct analysis;
}

/// The exact text of one statement, copied once and shared by its decision and outcome records (and by the
/// next statements of the session with the same text: a prepared statement's Executes); the writer thread
/// works out its keyed hash once for all of them.
struct audit_statement_text {
  explicit audit_statement_text(std::string_view text) : sql(text) {}
  const std::string sql;
  std::string text_hmac;  ///< writer thread only; "" until the text's first record is built
};
using shared_statement_text = std::shared_ptr<audit_statement_text>;

/// What a decision record takes from the analysis besides its kinds: the normalized text of every statement
/// and every relation read or written, as written.
struct statement_summary {
  std::string normalized;
  std::vector<std::string> tables;
};
using shared_summary = std::shared_ptr<const statement_summary>;

/// Session thread: the summary of `analysis` (not null), shared by every statement with the same normalized
/// text.
shared_summary summary_of(const std::shared_ptr<const policy::analysis>& analysis);

/// What the writer needs besides the facts: the HMAC key and whether statement text is kept. The recorder
/// owns the key and closes its log (building every queued record) before the key goes.
struct audit_hashing {
  const audit::hmac_key* key = nullptr;
  bool keep_literals = false;
};

/// The decide step's verdict on a statement: its record's decision section without the kinds and tables
/// (the writer takes those from the statement's summary).
struct fact_verdict {
  std::string_view verdict;  ///< "allow", "deny" or "hold" (a literal)
  std::string rule_id;
  std::string reason;
  std::string sqlstate;  ///< for a refusal: what the client was told
};

/// One statement as the session saw it: its decision (unless `decided` is false: an outcome whose decision
/// was recorded before) and, once known, its outcome.
struct statement_fact {
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  shared_statement_text text;
  bool decided = true;
  std::optional<std::string> params;  ///< encoded parameters, when the statement had any
  shared_summary summary;             ///< null without an analysis
  policy::kind_set kinds;
  fact_verdict verdict;
  std::optional<audit::outcome_info> outcome;
};

/// One session's allowed statements, queued once and filled until the writer takes them.
class statement_batch {
 public:
  static constexpr std::size_t max_facts = 1'000;  ///< as many as one `statements` record holds

  /// `expected`: about how many facts it will hold (the session's previous batch's size), so that adding
  /// them seldom moves the ones before.
  statement_batch(audit_hashing h, std::uint64_t session, std::shared_ptr<const audit::actor> who,
                  std::size_t expected = 0)
      : hashing_(h), session_(session), who_(std::move(who)) {
    facts_.reserve(std::min(max_facts, expected + expected / 2 + 16));
  }

  /// Session thread: adds a fact that `fill(statement_fact&)` writes in place (called only on success) and
  /// says where it is; false once the writer has taken the batch, it was closed, or it is full.
  template <class Fill>
  bool add(const Fill& fill, std::size_t& index) {
    std::lock_guard lock(mutex_);
    if (!open_ || facts_.size() >= max_facts) return false;
    index = facts_.size();
    fill(facts_.emplace_back());
    return true;
  }
  /// Session thread: folds the outcome of the fact at `index` into it (moved from only on success); false
  /// once the writer has taken the batch.
  bool complete(std::size_t index, audit::outcome_info& result);
  /// Session thread: no more facts (another record of the session must come after these).
  void close();
  /// How many facts it holds.
  [[nodiscard]] std::size_t size();
  /// Writer thread: closes the batch and appends views of its records (see audit::pending_event::items).
  void items(std::vector<audit::record_item>& out);
  /// The person every fact is about.
  [[nodiscard]] const std::shared_ptr<const audit::actor>& who() const noexcept { return who_; }

 private:
  std::mutex mutex_;
  bool open_ = true;
  audit_hashing hashing_;
  std::uint64_t session_;
  std::shared_ptr<const audit::actor> who_;
  std::vector<statement_fact> facts_;
  std::string hmacs_;  ///< writer thread: the facts' parameter HMACs, which their views point into
};

/// Where a statement's fact is, for its outcome.
struct statement_slot {
  std::shared_ptr<statement_batch> batch;
  std::size_t index = 0;
};

/// The log's handle on a batch the session still fills.
std::unique_ptr<audit::pending_event> queue_batch(std::shared_ptr<statement_batch> batch);
/// One fact (a decision of any verdict, or an outcome) as a record of its own.
std::unique_ptr<audit::pending_event> single_fact(audit_hashing h, std::uint64_t session,
                                                  std::shared_ptr<const audit::actor> who,
                                                  statement_fact fact);

}  // namespace phigate

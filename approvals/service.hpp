#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "approvals/request.hpp"
#include "approvals/store.hpp"

namespace phigate::approvals {

/// A person casting a vote, as authenticated by the admin API (token) or a chat integration.
struct approver {
  std::string identity;
  std::vector<std::string> groups;
};

/// What became of a vote.
enum class vote_result : std::uint8_t {
  recorded,       ///< counted; the request is still pending (quorum not yet reached)
  decided,        ///< counted and it decided the request (approved or denied)
  not_found,      ///< no request with that id
  not_pending,    ///< already decided, expired (possibly just now), abandoned or consumed
  self_approval,  ///< the approver is the requester: nobody votes on their own request
  not_eligible,   ///< the approver is in none of the groups the rule names (or has no identity)
  already_voted,  ///< this identity has voted on this request before
  conflict,       ///< another gateway changed the request at the same moment; try again
};

/// The result of vote(): the outcome, a sentence for humans, and the request as it now stands (absent only
/// for not_found).
struct vote_outcome {
  vote_result result = vote_result::not_found;
  std::string message;
  std::optional<approvals::request> request;
};

/// The approval state machine over a store. Enforces the rules — no self-approval (no exemption for
/// anyone), group eligibility, one vote per identity, any eligible deny denies, quorum of distinct approvers
/// approves, expiry, single-use consumption bound to the digest — so no caller (admin API, chat, TUI,
/// session) has to. Thread-safe: one mutex serializes read-modify-write within this instance; the store's
/// compare-and-set on seq protects against other instances sharing the store.
class service {
 public:
  using clock_fn = std::function<std::int64_t()>;  ///< unix epoch milliseconds
  using listener = std::function<void(const request&)>;

  /// gateway_instance: random id of this gateway process, stamped on every request it creates. now: the
  /// clock (default: the system clock), injectable for tests.
  explicit service(std::unique_ptr<store> s, std::string gateway_instance, clock_fn now = {});

  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Stores a new pending request from draft: fills id (random), state, seq, votes (none), created_ms,
  /// expires_ms (created + rules.timeout), decided_* (none) and gateway_instance. A quorum of 0 counts as
  /// 1. Throws store_error if the store fails.
  request create(request draft);

  /// Casts a vote. A pending request past its expiry is expired by this call (listeners hear of it) and
  /// the vote is refused as not_pending.
  vote_outcome vote(std::string_view id, const approver& who, bool approve, std::string reason);

  /// Releases an approved request exactly once: true only if it is approved, its digest equals digest and
  /// it has not expired; it is then consumed. An approved request found past its expiry becomes expired.
  bool consume(std::string_view id, std::string_view digest);

  /// pending/approved → abandoned with reason (the statement will never run); no effect on other states.
  void abandon(std::string_view id, std::string reason);

  /// Expires every pending request past its expiry; returns them as stored.
  std::vector<request> expire_due();

  /// At start-up: every pending or approved request of another gateway instance is abandoned with the
  /// reason "gateway restarted" (its session is gone with the old process). Returns how many.
  std::size_t abandon_orphans();

  std::optional<request> get(std::string_view id);
  std::vector<request> list(std::optional<request_state> state, std::size_t limit = 200);
  std::vector<request> changes_since(std::uint64_t seq, std::size_t limit = 200);
  std::uint64_t last_seq();

  /// Registers a listener called with the request after every change this service commits (create, vote,
  /// consume, abandon, expiry), outside the service lock, on the thread that made the change. Listeners
  /// must not throw; an exception from one is swallowed so it cannot undo a committed change.
  std::uint64_t subscribe(listener l);
  void unsubscribe(std::uint64_t token);

  [[nodiscard]] const std::string& gateway_instance() const noexcept { return gateway_instance_; }

 private:
  /// Moves r (as read from the store) to state to, recording when and why unless it is being consumed, and
  /// stores it with a compare-and-set on its seq; false when another instance changed it meanwhile.
  bool transition(request& r, request_state to, std::string reason, std::int64_t now);
  /// Applies a transition to id under the lock, retrying when another instance changed it meanwhile.
  /// Returns the stored request when the transition happened.
  std::optional<request> transition_if(std::string_view id, const std::function<bool(const request&)>& when,
                                       request_state to, const std::string& reason);
  void notify(const request& r);

  std::unique_ptr<store> store_;
  std::string gateway_instance_;
  clock_fn now_;
  std::mutex mutex_;  ///< serializes read-modify-write of requests in this instance

  std::mutex listeners_mutex_;
  std::vector<std::pair<std::uint64_t, listener>> listeners_;
  std::uint64_t next_token_ = 1;
};

/// A fresh request id: "r-" followed by 10 characters of lowercase base32 from OpenSSL's RAND_bytes.
std::string new_request_id();

/// The name of a vote_result: "recorded", "decided", "not_found", ...
std::string_view to_string(vote_result result) noexcept;

}  // namespace phigate::approvals

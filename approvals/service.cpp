#include "approvals/service.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <stdexcept>

namespace phigate::approvals {
namespace {

constexpr std::string_view id_alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t id_random_chars = 10;
// A request changed by another instance between our read and our write is re-read and re-judged; a few
// rounds are plenty since each round means someone else made progress.
constexpr int max_transition_attempts = 5;
constexpr std::string_view orphan_reason = "gateway restarted";

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A request expires at expires_ms: from that millisecond on it can no longer be approved or consumed.
bool is_past_expiry(const request& r, std::int64_t now) {
  return now >= r.expires_ms;
}

bool is_eligible(const approver& who, const approval_rules& rules) {
  if (who.identity.empty()) return false;
  if (rules.groups.empty()) return true;
  return std::any_of(who.groups.begin(), who.groups.end(), [&](const std::string& group) {
    return std::find(rules.groups.begin(), rules.groups.end(), group) != rules.groups.end();
  });
}

bool has_voted(const request& r, const std::string& identity) {
  return std::any_of(r.votes.begin(), r.votes.end(), [&](const vote& v) { return v.approver == identity; });
}

std::size_t approvals_count(const request& r) {
  return static_cast<std::size_t>(
      std::count_if(r.votes.begin(), r.votes.end(), [](const vote& v) { return v.approve; }));
}

// Digests are hex of a hash, but compare in constant time anyway: nothing about a mismatch should leak.
bool digest_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

vote_outcome outcome(vote_result result, std::string message, std::optional<request> r) {
  return vote_outcome{result, std::move(message), std::move(r)};
}

}  // namespace

std::string new_request_id() {
  std::array<unsigned char, id_random_chars> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed while generating an approval request id");
  }
  std::string id = "r-";
  // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform: no modulo bias.
  for (const auto byte : random) id.push_back(id_alphabet[byte & 0x1f]);
  return id;
}

std::string_view to_string(vote_result result) noexcept {
  constexpr std::array<std::string_view, 8> names = {"recorded",      "decided",       "not_found",
                                                     "not_pending",   "self_approval", "not_eligible",
                                                     "already_voted", "conflict"};
  return names[static_cast<std::size_t>(result)];
}

service::service(std::unique_ptr<store> s, std::string gateway_instance, clock_fn now)
    : store_(std::move(s)), gateway_instance_(std::move(gateway_instance)), now_(std::move(now)) {
  if (!store_) throw std::invalid_argument("approvals service needs a store");
  if (!now_) now_ = system_now_ms;
}

request service::create(request draft) {
  std::unique_lock lock(mutex_);
  const auto now = now_();
  draft.id = new_request_id();
  draft.state = request_state::pending;
  draft.seq = 0;
  draft.gateway_instance = gateway_instance_;
  draft.votes.clear();
  draft.rules.quorum = std::max(1U, draft.rules.quorum);
  draft.created_ms = now;
  draft.expires_ms = now + std::chrono::duration_cast<std::chrono::milliseconds>(draft.rules.timeout).count();
  draft.decided_ms = 0;
  draft.decided_reason.clear();
  store_->insert(draft);
  lock.unlock();
  notify(draft);
  return draft;
}

bool service::transition(request& r, request_state to, std::string reason, std::int64_t now) {
  const auto expected_seq = r.seq;
  r.state = to;
  // Consuming is not a decision: the request keeps the time and reason of its approval.
  if (to != request_state::consumed) {
    r.decided_ms = now;
    r.decided_reason = std::move(reason);
  }
  return store_->update(r, expected_seq);
}

std::optional<request> service::transition_if(std::string_view id,
                                              const std::function<bool(const request&)>& when,
                                              request_state to, const std::string& reason) {
  for (int attempt = 0; attempt < max_transition_attempts; ++attempt) {
    std::unique_lock lock(mutex_);
    auto r = store_->get(id);
    if (!r || !when(*r)) return std::nullopt;
    if (transition(*r, to, reason, now_())) {
      lock.unlock();
      notify(*r);
      return r;
    }
  }
  throw store_error("approval request " + std::string(id) + " keeps changing under concurrent updates");
}

vote_outcome service::vote(std::string_view id, const approver& who, bool approve, std::string reason) {
  std::unique_lock lock(mutex_);
  auto current = store_->get(id);
  if (!current)
    return outcome(vote_result::not_found, "no approval request " + std::string(id), std::nullopt);
  request r = std::move(*current);
  const auto now = now_();
  if (r.state == request_state::pending && is_past_expiry(r, now)) {
    // The sweeper has not run yet, but the deadline has passed: a late vote must not approve it.
    if (!transition(r, request_state::expired, "expired", now)) {
      return outcome(vote_result::conflict, "the request changed meanwhile; try again", store_->get(id));
    }
    lock.unlock();
    notify(r);
    return outcome(vote_result::not_pending, "the request has expired", std::move(r));
  }
  if (r.state != request_state::pending) {
    return outcome(vote_result::not_pending, "the request is " + std::string(to_string(r.state)),
                   std::move(r));
  }
  if (who.identity == r.requester) {
    return outcome(vote_result::self_approval, "nobody may vote on their own request", std::move(r));
  }
  if (!is_eligible(who, r.rules)) {
    return outcome(vote_result::not_eligible, "not in any of the approver groups of this request",
                   std::move(r));
  }
  if (has_voted(r, who.identity)) {
    return outcome(vote_result::already_voted, who.identity + " has already voted on this request",
                   std::move(r));
  }
  const auto expected_seq = r.seq;
  r.votes.push_back(approvals::vote{who.identity, approve, reason, now});
  bool decided = true;
  if (!approve) {
    r.state = request_state::denied;
    r.decided_reason = reason.empty() ? "denied by " + who.identity : reason;
    r.decided_ms = now;
  } else if (approvals_count(r) >= std::max(1U, r.rules.quorum)) {
    r.state = request_state::approved;
    r.decided_ms = now;
  } else {
    decided = false;
  }
  if (!store_->update(r, expected_seq)) {
    return outcome(vote_result::conflict, "the request changed meanwhile; try again", store_->get(id));
  }
  lock.unlock();
  notify(r);
  if (!decided)
    return outcome(vote_result::recorded, "vote recorded; waiting for more approvals", std::move(r));
  return outcome(vote_result::decided, "the request is " + std::string(to_string(r.state)), std::move(r));
}

bool service::consume(std::string_view id, std::string_view digest) {
  std::unique_lock lock(mutex_);
  auto r = store_->get(id);
  if (!r || r->state != request_state::approved) return false;
  const auto now = now_();
  if (is_past_expiry(*r, now)) {
    if (transition(*r, request_state::expired, "approval expired before use", now)) {
      lock.unlock();
      notify(*r);
    }
    return false;
  }
  // A different digest means a different statement, parameters, database, role, person or settings: the
  // approval stays unused (the session abandons it) rather than releasing anything else.
  if (!digest_equal(r->digest, digest)) return false;
  // Compare-and-set makes this single-use even across gateways sharing the store: only one update from
  // the approved seq can succeed.
  if (!transition(*r, request_state::consumed, "", now)) return false;
  lock.unlock();
  notify(*r);
  return true;
}

void service::abandon(std::string_view id, std::string reason) {
  transition_if(
      id, [](const request& r) { return is_open(r.state); }, request_state::abandoned, reason);
}

std::vector<request> service::expire_due() {
  std::vector<request> expired;
  const auto now = now_();
  for (const auto& candidate :
       store_->list(request_state::pending, std::numeric_limits<std::size_t>::max())) {
    if (!is_past_expiry(candidate, now)) continue;
    auto done = transition_if(
        candidate.id,
        [now](const request& r) { return r.state == request_state::pending && is_past_expiry(r, now); },
        request_state::expired, "expired");
    if (done) expired.push_back(std::move(*done));
  }
  return expired;
}

std::size_t service::abandon_orphans() {
  std::size_t count = 0;
  const auto is_orphan = [this](const request& r) {
    return is_open(r.state) && r.gateway_instance != gateway_instance_;
  };
  for (const auto state : {request_state::pending, request_state::approved}) {
    for (const auto& candidate : store_->list(state, std::numeric_limits<std::size_t>::max())) {
      if (!is_orphan(candidate)) continue;
      if (transition_if(candidate.id, is_orphan, request_state::abandoned, std::string(orphan_reason)))
        ++count;
    }
  }
  return count;
}

std::optional<request> service::get(std::string_view id) {
  return store_->get(id);
}

std::vector<request> service::list(std::optional<request_state> state, std::size_t limit) {
  return store_->list(state, limit);
}

std::vector<request> service::changes_since(std::uint64_t seq, std::size_t limit) {
  return store_->changes_since(seq, limit);
}

std::uint64_t service::last_seq() {
  return store_->last_seq();
}

std::uint64_t service::subscribe(listener l) {
  std::lock_guard lock(listeners_mutex_);
  const auto token = next_token_++;
  listeners_.emplace_back(token, std::move(l));
  return token;
}

void service::unsubscribe(std::uint64_t token) {
  std::lock_guard lock(listeners_mutex_);
  std::erase_if(listeners_, [token](const auto& entry) { return entry.first == token; });
}

void service::notify(const request& r) {
  std::vector<listener> targets;
  {
    std::lock_guard lock(listeners_mutex_);
    targets.reserve(listeners_.size());
    for (const auto& entry : listeners_) targets.push_back(entry.second);
  }
  for (const auto& l : targets) {
    try {
      l(r);
    } catch (...) {
      // The change is committed; a failing listener (a notifier that lost its network) must not make the
      // caller believe it was not.
    }
  }
}

}  // namespace phigate::approvals

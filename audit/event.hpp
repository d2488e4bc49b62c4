// The audit event model: one record per thing an auditor asks about (who connected, who authenticated, what
// was decided for each statement and why, each approval step, what each statement did). Every event names
// the person phigate authenticated, not only the shared database role. Statement text is never stored raw
// unless the configuration says so: the normalized statement plus a keyed HMAC of the exact text.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::audit {

/// What an event records.
enum class event_kind {
  gateway_start,   ///< the gateway began serving
  gateway_stop,    ///< the gateway stopped serving
  policy_reload,   ///< a configuration reload was tried (result: ok / failed)
  connection,      ///< a client sent its startup packet
  authentication,  ///< the person authenticated or failed to (result: ok / failed)
  decision,        ///< the decide step's verdict for one statement (allow / deny / hold)
  approval,        ///< one step of an approval request (requested, approved, denied, expired, ...)
  outcome,         ///< what a forwarded statement did (rows, masked cells, SQLSTATE, duration)
  /// An allowed statement's decision and outcome in one record: written instead of the two when the outcome
  /// arrived before the decision record was taken for writing (so it carries both sections)
  statement,
  /// Several consecutive records of one session about allowed statements (decision, outcome, statement),
  /// written as one record with an item each: see grouping.hpp
  statements,
};

inline constexpr int event_kind_count = 10;

/// "gateway_start", "decision", ...
std::string_view to_string(event_kind kind) noexcept;
std::optional<event_kind> event_kind_from_string(std::string_view name) noexcept;

/// Who an event is about. Empty fields are omitted from the record.
struct actor {
  std::string person;  ///< the user phigate authenticated (or the name a failed login claimed)
  std::vector<std::string> groups;
  std::string client_address;  ///< "ip:port"
  std::string application;     ///< application_name from the startup packet
  std::string database;
  std::string upstream_role;  ///< config key of the upstream role the person maps to
  std::string upstream_user;  ///< the database user behind that role
  bool operator==(const actor&) const = default;
};

/// The statement an event is about.
struct statement_info {
  std::string normalized;           ///< literals replaced by $n; "" when the statement could not be parsed
  std::string text_hmac;            ///< hex HMAC-SHA256 of the exact statement text under key_id
  std::string params_hmac;          ///< hex HMAC-SHA256 of the bound parameters; "" without parameters
  std::string key_id;               ///< which HMAC key
  std::optional<std::string> text;  ///< the exact text: only with `keep_literals: true`
};

/// The decide step's verdict.
struct decision_info {
  std::string verdict;  ///< "allow", "deny" or "hold"
  std::string rule_id;
  std::string reason;
  std::vector<std::string> kinds;   ///< statement kinds ("read", "export", ...)
  std::vector<std::string> tables;  ///< every relation read or written, as written
  std::string sqlstate;             ///< for deny: what the client was told
  bool operator==(const decision_info&) const = default;
};

/// One step of an approval request.
struct approval_info {
  std::string request_id;
  std::string step;  ///< requested, approved, denied, expired, abandoned, consumed
  std::vector<std::string> approvers;
  std::string reason;
  std::string digest;  ///< hex digest that binds the approval to one exact statement
};

/// What a forwarded statement did.
struct outcome_info {
  std::uint64_t rows = 0;                       ///< from CommandComplete (sum over a multi-statement query)
  std::string command;                          ///< command tag verb ("SELECT", "INSERT", ...)
  std::string sqlstate = "00000";               ///< the first error, or 00000
  std::uint64_t duration_us = 0;                ///< from forwarding to completion
  std::map<std::string, std::uint64_t> masked;  ///< masked cells per detector label
};

/// One audit event. `time` is when it happened; sequence numbers and hashes come with the record.
struct event {
  event_kind kind = event_kind::connection;
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::uint64_t session = 0;  ///< the gateway's session id; 0 for gateway-wide events
  /// Null for gateway-wide events. Shared: a session builds its actor once and every record points at it.
  std::shared_ptr<const actor> who;
  std::string result;  ///< authentication, policy_reload: "ok" / "failed"
  std::string detail;  ///< free text for humans (why authentication failed, which config was loaded)
  std::optional<statement_info> statement;
  std::optional<decision_info> decision;
  std::optional<approval_info> approval;
  std::optional<outcome_info> outcome;
};

}  // namespace phigate::audit

#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::approvals {

/// Where a held statement stands. pending → approved / denied / expired / abandoned; approved → consumed
/// (the statement ran), expired or abandoned. Every state but pending and approved is final.
enum class request_state : std::uint8_t {
  pending,    ///< waiting for votes
  approved,   ///< quorum reached; the session may run the statement once
  denied,     ///< an eligible approver said no
  expired,    ///< nobody decided before expires_ms (or the approval was not used in time)
  abandoned,  ///< the session went away, the client cancelled, or the owning gateway restarted
  consumed,   ///< the approved statement was released to the database; never usable again
};

/// "pending", "approved", "denied", "expired", "abandoned", "consumed".
std::string_view to_string(request_state state) noexcept;

/// Inverse of to_string; nullopt for any other text.
std::optional<request_state> parse_request_state(std::string_view text) noexcept;

/// True for pending and approved: the states a request can still leave.
[[nodiscard]] bool is_open(request_state state) noexcept;

/// One approver's verdict.
struct vote {
  std::string approver;  ///< identity of the approver
  bool approve = true;   ///< false: deny
  std::string reason;
  std::int64_t at_ms = 0;  ///< unix epoch milliseconds

  friend bool operator==(const vote&, const vote&) = default;
};

/// Who may decide and how many must agree; copied from the policy rule that held the statement.
struct approval_rules {
  std::vector<std::string> groups;  ///< approvers must be in one of these (empty = any identity with a token)
  unsigned quorum = 1;              ///< distinct approvers needed
  std::chrono::seconds timeout{900};

  friend bool operator==(const approval_rules&, const approval_rules&) = default;
};

/// One held statement (or batch) and everything an approver needs to decide on it.
struct request {
  std::string id;  ///< "r-" + 10 lowercase base32 chars, unique, hard to guess
  request_state state = request_state::pending;
  std::uint64_t seq = 0;  ///< store-wide change sequence number, bumped on every change
  // who and where
  std::string requester;
  std::vector<std::string> requester_groups;
  std::string database, upstream_role, client_address, application_name;
  std::string gateway_instance;  ///< random id of the gateway process that owns the session
  std::uint64_t session_id = 0;
  // what
  std::string rule_id, kind, reason;      ///< rule that held, the deciding kind ("export"...), why
  std::vector<std::string> kind_reasons;  ///< "export: COPY ... TO STDOUT", one per kind found
  std::string statement;                  ///< exact text (all statements of the held batch, joined by "\n")
  std::string normalized;                 ///< literals replaced ($1...)
  std::vector<std::string> parameters;    ///< rendered for display: "$1 = '...'" / "$2 = <binary, 8 bytes>"
  std::vector<std::string> tables, columns;  ///< schema.table, schema.table.column
  bool masking_lifted = false;               ///< approving lets this person see unmasked values
  std::string justification;                 ///< given by the requester ("" = none)
  std::string digest;                        ///< lowercase hex SHA-256 (see digest.hpp)
  approval_rules rules;
  std::vector<vote> votes;
  std::int64_t created_ms = 0, expires_ms = 0, decided_ms = 0;  ///< unix epoch milliseconds; 0 = not yet
  std::string decided_reason;  ///< denier's reason, "expired", "client cancelled", ...

  friend bool operator==(const request&, const request&) = default;
};

/// The request as the admin API and the CLI speak it (see the approvals contract). Times are ISO-8601 UTC
/// with milliseconds; decided_at is null while decided_ms is 0. gateway_instance and session_id are
/// internal and not part of this document.
boost::json::value to_json(const request& r);

/// Inverse of to_json. Fields missing from the document keep their defaults; a field of the wrong type, an
/// unknown state or verdict, or a malformed time yields nullopt. "id" and "state" are required. Also
/// accepts the internal "gateway_instance" and "session_id" when present.
std::optional<request> request_from_json(const boost::json::value& document);

/// "2026-12-04T19:01:02.123Z" for the given unix epoch milliseconds.
std::string format_utc_ms(std::int64_t epoch_ms);

/// Inverse of format_utc_ms: "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (fraction truncated to milliseconds);
/// nullopt for anything else.
std::optional<std::int64_t> parse_utc_ms(std::string_view text) noexcept;

}  // namespace phigate::approvals

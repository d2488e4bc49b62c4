// The two seams every statement and every row pass through. Policy (the decide step) and masking (the
// rewrite step) plug in here without reshaping the session.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/postgres/messages.hpp"

namespace phigate {

/// Who is on the other end of a session.
struct session_identity {
  std::string user;  ///< the person, as authenticated by phigate
  std::vector<std::string> groups;
  std::string upstream_role;  ///< config key of the upstream role
  std::string upstream_user;  ///< the database user it maps to
  std::string database;
  std::string application_name;
  std::string client_address;
};

/// One statement about to be forwarded.
struct statement_request {
  enum class protocol { simple, extended };
  protocol via = protocol::simple;
  std::string_view sql;            ///< Query text, or the text of the prepared statement behind the portal
  const pg::bind* bind = nullptr;  ///< parameters (extended protocol only)
  /// The statement runs under an approval consumed for exactly these bytes: what the policy holds is
  /// allowed, what it denies is still denied (a stricter policy wins).
  bool approved = false;
};

/// What a reviewer needs to judge a held statement, and what binds the approval to the session.
struct hold_details {
  std::string rule_id;
  std::string kind;                       ///< the kind that was held ("export", "ddl", ...)
  std::string reason;                     ///< why the rule held it
  std::vector<std::string> kind_reasons;  ///< "kind: reason" for every kind of every statement
  std::string normalized;                 ///< literals replaced; safe to show in chat
  std::vector<std::string> tables;        ///< schema.table read or written
  std::vector<std::string> columns;       ///< schema.table.column read or written
  std::vector<std::string> approver_groups;
  unsigned quorum = 1;
  std::chrono::seconds timeout{15 * 60};
  bool justification_required = false;
  /// Settings that change what the statement means (search_path, role), as the session has them now.
  std::vector<std::pair<std::string, std::string>> settings;
};

/// What the decide step says.
struct decision {
  enum class verdict { allow, deny, hold };
  verdict what = verdict::allow;
  std::string sqlstate;  ///< for deny: 42501 unless the rule says otherwise
  std::string message;   ///< for deny: names the rule and the reason; for hold: the refusal used when
                         ///< the statement cannot be held (no approvals store)
  std::shared_ptr<const hold_details> hold;  ///< set exactly for hold
  /// For allow: SQL-level PREPARE / DEALLOCATE / DISCARD ALL in the statement change what a protocol-level
  /// statement name means, so the session forgets these names (or all of them).
  bool forgets_all_statements = false;
  std::vector<std::string> forgets_statements;
  static decision allow() { return {}; }
  static decision deny(std::string sqlstate, std::string message) {
    return {verdict::deny, std::move(sqlstate), std::move(message), nullptr};
  }
  static decision held(std::string message, std::shared_ptr<const hold_details> details) {
    return {verdict::hold, "42501", std::move(message), std::move(details)};
  }
};

/// The decide step. One instance per session; may keep per-session state.
class statement_gate {
 public:
  virtual ~statement_gate() = default;
  virtual decision decide(const session_identity& who, const statement_request& request) = 0;
};

/// The rewrite step over everything the server sends that can carry data. One instance per session.
/// Each rewrite_* returns false to forward the original bytes untouched, or true after appending the
/// replacement message to `out`.
class row_rewriter {
 public:
  virtual ~row_rewriter() = default;
  /// A result set begins; rows that follow are described by `shape` (text or binary per column).
  virtual void on_row_description(const pg::row_description& shape) = 0;
  virtual bool rewrite_data_row(const pg::frame& row, std::string& out) = 0;
  /// A COPY TO STDOUT begins.
  virtual void on_copy_out(const pg::copy_response& shape) = 0;
  virtual bool rewrite_copy_data(const pg::frame& data, std::string& out) = 0;
  /// ErrorResponse, NoticeResponse and NotificationResponse can carry values too.
  virtual bool rewrite_message(const pg::frame& message, std::string& out) = 0;
  /// Masked values per detector label since the session began (for the audit log's outcomes); empty for a
  /// rewriter that masks nothing.
  virtual const std::map<std::string, std::uint64_t>& masked_counts() const {
    static const std::map<std::string, std::uint64_t> none;
    return none;
  }
};

/// Today's decide step: everything is allowed.
class allow_all_gate final : public statement_gate {
 public:
  decision decide(const session_identity&, const statement_request&) override { return decision::allow(); }
};

/// Today's rewrite step: nothing changes.
class identity_rewriter final : public row_rewriter {
 public:
  void on_row_description(const pg::row_description&) override {}
  bool rewrite_data_row(const pg::frame&, std::string&) override { return false; }
  void on_copy_out(const pg::copy_response&) override {}
  bool rewrite_copy_data(const pg::frame&, std::string&) override { return false; }
  bool rewrite_message(const pg::frame&, std::string&) override { return false; }
};

}  // namespace phigate

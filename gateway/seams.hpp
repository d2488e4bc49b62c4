// The two seams every statement and every row pass through. Policy (the decide step) and masking (the
// rewrite step) plug in here without reshaping the session.
#pragma once

#include <cstdint>
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
};

/// What the decide step says.
struct decision {
  enum class verdict { allow, deny };
  verdict what = verdict::allow;
  std::string sqlstate;  ///< for deny: 42501 unless the rule says otherwise
  std::string message;   ///< for deny: names the rule and the reason
  static decision allow() { return {}; }
  static decision deny(std::string sqlstate, std::string message) {
    return {verdict::deny, std::move(sqlstate), std::move(message)};
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

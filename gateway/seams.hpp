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

/// Result columns of an allowed statement that carry a masked column's values, found from its lineage by
/// the decide step, so the rewrite step masks them whole whatever their content (`ssn AS note`,
/// `substr(ssn, 1, 3)`, which no content scan recognizes). Outputs are named as PostgreSQL names them in
/// RowDescription; for several statements in one Query, every statement's outputs are listed.
struct lineage_plan {
  struct output {
    std::string name;
    std::size_t rule = 0;  ///< index into the masking config's column rules
    bool derived = false;  ///< an expression over the column (not the column itself)
  };
  std::vector<output> outputs;
  /// Every output name the statements have (a computed column named otherwise, in a statement with derived
  /// outputs, is masked whole: phigate could not tell which output it is).
  std::vector<std::string> names;
  /// Per field of a COPY TO STDOUT, in order: the output names (column hints for the content scan). Empty
  /// when unknown (a `*` over a relation whose columns phigate does not know).
  std::vector<std::string> copy_fields;
  /// `COPY table TO STDOUT` without a column list: the relations the table may be ("schema.table"), whose
  /// columns the rewrite step reads from the column catalog.
  std::vector<std::string> copy_star_tables;
  /// How a text COPY separates fields (from the COPY statement's options).
  bool copy_csv = false;
  char copy_delimiter = '\t';
  char copy_quote = '"';
  char copy_escape = '"';
  bool copy_header = false;

  [[nodiscard]] const output* find(std::string_view name) const {
    for (const auto& o : outputs) {
      if (o.name == name) return &o;
    }
    return nullptr;
  }
  [[nodiscard]] bool any_derived() const {
    for (const auto& o : outputs) {
      if (o.derived) return true;
    }
    return false;
  }
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
  /// For allow: outputs that carry masked columns' values (null when none, or masking does not apply).
  std::shared_ptr<const lineage_plan> plan;
  static decision allow() { return {}; }
  static decision deny(std::string sqlstate, std::string message) {
    decision d;
    d.what = verdict::deny;
    d.sqlstate = std::move(sqlstate);
    d.message = std::move(message);
    return d;
  }
  static decision held(std::string message, std::shared_ptr<const hold_details> details) {
    decision d;
    d.what = verdict::hold;
    d.sqlstate = "42501";
    d.message = std::move(message);
    d.hold = std::move(details);
    return d;
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
  /// The lineage plan of the statement whose results come next (null: none); called before
  /// on_row_description and on_copy_out.
  virtual void use_plan(std::shared_ptr<const lineage_plan> plan) {}
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

// Pairs what the server sends with what the client asked for. The extended protocol pipelines: a client may
// send Parse, Bind, Describe, Execute, Sync for several statements before reading anything, and the server
// answers strictly in order. Masking needs to know which RowDescription describes the DataRows of each
// Execute, and a denial needs its error to land in the right place, so the session keeps one entry per
// message that the server will answer, oldest first. Pure bookkeeping: no I/O.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "gateway/seams.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate {

/// The raw bytes of a RowDescription message (owned), or "the statement returns no rows".
struct result_shape {
  bool has_rows = false;
  std::string row_description;  ///< whole 'T' message when has_rows
};

/// The shape of one portal's rows as it becomes known. Shared by the portal, the Describe that asks for it
/// and every Execute of that binding, so a pipelined Bind/Describe/Execute learns its shape from the answer
/// to its own Describe even when the portal name is bound again further down the pipeline.
struct shape_slot {
  std::shared_ptr<const result_shape> shape;
  bool describe_pending = false;  ///< a Describe of this binding is on its way to the server
};

/// What the server owes for one forwarded client message.
struct expected_response {
  enum class kind {
    parse,               ///< ParseComplete
    bind,                ///< BindComplete
    close,               ///< CloseComplete
    describe_statement,  ///< ParameterDescription, then RowDescription or NoData
    describe_portal,     ///< RowDescription or NoData
    execute,             ///< rows, then CommandComplete / EmptyQueryResponse / PortalSuspended
    sync,                ///< ReadyForQuery
    simple_query,        ///< any number of results, then ReadyForQuery
  };
  explicit expected_response(kind k, std::string name_ = {}, char close_kind_ = 'S')
      : what(k), name(std::move(name_)), close_kind(close_kind_) {}

  kind what;
  std::string name;  ///< statement or portal name (parse, describe, close)
  char close_kind = 'S';
  bool injected = false;  ///< sent by phigate itself: the client never sees the answer
  std::string denial;     ///< non-empty: the server's error for this entry is replaced by these bytes
  std::shared_ptr<shape_slot> slot;  ///< describe_portal / execute: where the shape of the rows lands
  bool shape_announced = false;
  std::shared_ptr<const lineage_plan> plan;  ///< execute / simple_query: masked outputs by lineage
};

class pg_response_queue {
 public:
  void push(expected_response e) { queue_.push_back(std::move(e)); }
  bool empty() const noexcept { return queue_.empty(); }
  expected_response* front() { return queue_.empty() ? nullptr : &queue_.front(); }
  void pop_front() { queue_.pop_front(); }
  /// After an error in the extended protocol the server skips everything up to the next Sync.
  void drop_until_sync();
  std::size_t size() const noexcept { return queue_.size(); }

  // What the client has defined, as the session knows it. Statement text is kept for classification at
  // Execute; shapes for the rewrite step.
  struct statement_info {
    std::string sql;
    std::shared_ptr<const result_shape> shape;  ///< from Describe 'S' (formats all text/unknown)
    bool held = false;  ///< the policy holds it: binding it starts a hold (see pg_session_hold.cpp)
  };
  struct portal_info {
    std::string statement;
    std::string sql;
    std::vector<std::int16_t> result_formats;
    std::shared_ptr<shape_slot> slot;  ///< with the Bind's result formats applied, once known
    std::string audit_params;          ///< the Bind's parameters for the audit log ("" when it is off)
  };
  std::map<std::string, statement_info, std::less<>> statements;
  std::map<std::string, portal_info, std::less<>> portals;

 private:
  std::deque<expected_response> queue_;
};

/// A copy of `statement_shape` with the result formats from a Bind applied (0 entries: all text; 1: all that
/// format; N: per column), as the server would describe the portal.
std::shared_ptr<const result_shape> apply_result_formats(const result_shape& statement_shape,
                                                         const std::vector<std::int16_t>& formats);

}  // namespace phigate

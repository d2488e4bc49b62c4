// A capture compiled for replay: each session cut into round trips ("steps") that end where the client
// waited for the server (Sync, Query, Terminate), every statement labelled once, before the clock starts,
// with its kind and fingerprint from the policy analyzer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/replay_capture.hpp"

namespace phigate::replay {

/// What a statement is, for the per-kind and per-fingerprint tables.
struct statement_label {
  std::string kind;         ///< the analyzer's kinds ("read", "write", "read,export", "session", "unknown")
  std::string fingerprint;  ///< pg_query fingerprint (hex); statements differing only in literals share it
  std::string text;         ///< normalized text (literals as $n), shortened for tables
};

/// A statement expected in a step's answers.
struct planned_statement {
  std::uint32_t label = 0;  ///< index into plan::labels
  /// Sent as a Query: every statement of its text completes together at ReadyForQuery. Otherwise an Execute,
  /// complete at its CommandComplete, EmptyQueryResponse or PortalSuspended.
  bool simple = false;
};

/// One round trip: the messages sent together, then the answers up to the matching ReadyForQuery.
struct step {
  std::int64_t offset_us = 0;  ///< recorded time of its first message, from the session's start
  std::string bytes;           ///< the messages to send, back to back
  /// CopyData / CopyDone / CopyFail the client sent after the server asked for COPY FROM STDIN data; sent
  /// when CopyInResponse arrives.
  std::string copy_in;
  std::vector<planned_statement> statements;  ///< one per Execute, Query or FunctionCall, in order
  std::uint32_t ready_expected = 0;  ///< ReadyForQuery messages that end this step (Sync and Query count)
  bool terminates = false;           ///< ends with Terminate: close after sending
};

struct session_plan {
  std::string key;
  std::string user;
  std::string database;
  std::int64_t start_offset_us = 0;  ///< from the capture's first session start
  std::vector<step> steps;
};

struct plan {
  std::vector<session_plan> sessions;
  std::vector<statement_label> labels;
  std::size_t statement_count = 0;  ///< statements in one pass over every session
  std::int64_t span_us = 0;         ///< recorded time from the first session start to the last message
};

/// Cuts every session into steps and labels every statement text once.
plan make_plan(const capture& c);

/// The analyzer's label for one SQL text (exposed for tests).
statement_label label_sql(std::string_view sql);

}  // namespace phigate::replay

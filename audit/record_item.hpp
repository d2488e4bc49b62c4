// What the canonical encoder and the grouping read of one event: views into an event, or into whatever the
// writer thread holds it as. A session's batch of statements is encoded from its facts through these views,
// without an event (and its dozen strings) built and destroyed for each statement. A view is valid while
// what it points into lives: the writer keeps its pending events until their records are committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.hpp"

namespace phigate::audit {

struct statement_view {
  std::string_view normalized;
  std::string_view text_hmac;    ///< lowercase hex (written without escaping)
  std::string_view params_hmac;  ///< lowercase hex
  std::string_view key_id;
  const std::string* text = nullptr;  ///< the exact text, only with keep_literals
};

struct decision_view {
  std::string_view verdict;
  std::string_view rule_id;
  std::string_view reason;
  const std::vector<std::string>* kinds = nullptr;   ///< null: none
  const std::vector<std::string>* tables = nullptr;  ///< null: none
  std::string_view sqlstate;
};

/// a == b, without comparing bytes when both view the same characters (the items of one prepared
/// statement share their summary, key and text).
inline bool same_text(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.data() == b.data() || a == b);
}

/// Same verdict, rule, reason, kinds, tables and SQLSTATE.
bool operator==(const decision_view& a, const decision_view& b) noexcept;

struct record_item {
  event_kind kind = event_kind::connection;
  std::chrono::system_clock::time_point time;
  std::uint64_t session = 0;
  const actor* who = nullptr;
  std::string_view result;
  std::string_view detail;
  std::optional<statement_view> statement;
  std::optional<decision_view> decision;
  const approval_info* approval = nullptr;
  const outcome_info* outcome = nullptr;
};

/// The view of `e` (valid while `e` lives and is not changed).
record_item view_of(const event& e);

}  // namespace phigate::audit

// What `phigate review` shows, without the terminal: the requests known so far, the filter, which states are
// shown, and the selected row. The view draws it; the network side feeds it lists and change batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "approvals/request.hpp"

namespace phigate::approvals {

/// True when `filter` is empty or is a case-insensitive substring of the requester, kind, database, rule or
/// id of `r`.
bool matches_filter(const request& r, std::string_view filter);

class review_model {
 public:
  /// Replaces everything known with a full list (as from GET /api/v1/requests).
  void replace_all(std::vector<request> requests);

  /// Merges changed requests (as from GET /api/v1/changes): a request replaces the known one with the same
  /// id unless the known one is newer (higher seq); unknown ones are added.
  void apply_changes(const std::vector<request>& changed);

  /// Highest seq seen: where the next change poll starts.
  std::uint64_t last_seq() const noexcept { return last_seq_; }

  /// Requests to show, newest first: pending only (or every state when show_all), matching the filter.
  std::vector<const request*> visible() const;

  const std::string& filter() const noexcept { return filter_; }
  void set_filter(std::string filter);
  bool show_all() const noexcept { return show_all_; }
  void set_show_all(bool show_all);

  /// The selected visible request, or nullptr when nothing is visible. The selection follows the request
  /// (by id) across refreshes; when it disappears, the row at the same position is selected.
  const request* selected() const;
  std::size_t selected_index() const;
  /// Moves the selection by `delta` rows, clamped to the visible list.
  void move_selection(std::ptrdiff_t delta);
  void select_first();
  void select_last();

  /// A known request by id (any state), or nullptr.
  const request* find(std::string_view id) const;

 private:
  void sort();
  void keep_selection(std::size_t fallback_index);

  std::vector<request> requests_;  // newest first (created_ms, then id)
  std::uint64_t last_seq_ = 0;
  std::string filter_;
  bool show_all_ = false;
  std::string selected_id_;
};

}  // namespace phigate::approvals

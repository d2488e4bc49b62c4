#include "approvals/review_model.hpp"

#include <algorithm>
#include <cctype>

namespace phigate::approvals {
namespace {

bool contains_folded(std::string_view haystack, std::string_view needle) {
  auto folded_equal = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), folded_equal) !=
         haystack.end();
}

}  // namespace

bool matches_filter(const request& r, std::string_view filter) {
  if (filter.empty()) return true;
  for (std::string_view field :
       {std::string_view(r.requester), std::string_view(r.kind), std::string_view(r.database),
        std::string_view(r.rule_id), std::string_view(r.id)}) {
    if (contains_folded(field, filter)) return true;
  }
  return false;
}

void review_model::replace_all(std::vector<request> requests) {
  const std::size_t fallback = selected_index();
  requests_ = std::move(requests);
  for (const auto& r : requests_) last_seq_ = std::max(last_seq_, r.seq);
  sort();
  keep_selection(fallback);
}

void review_model::apply_changes(const std::vector<request>& changed) {
  const std::size_t fallback = selected_index();
  for (const auto& r : changed) {
    last_seq_ = std::max(last_seq_, r.seq);
    auto known =
        std::find_if(requests_.begin(), requests_.end(), [&r](const request& k) { return k.id == r.id; });
    if (known == requests_.end()) {
      requests_.push_back(r);
    } else if (known->seq <= r.seq) {
      *known = r;
    }
  }
  sort();
  keep_selection(fallback);
}

std::vector<const request*> review_model::visible() const {
  std::vector<const request*> out;
  for (const auto& r : requests_) {
    if ((show_all_ || r.state == request_state::pending) && matches_filter(r, filter_)) out.push_back(&r);
  }
  return out;
}

void review_model::set_filter(std::string filter) {
  const std::size_t fallback = selected_index();
  filter_ = std::move(filter);
  keep_selection(fallback);
}

void review_model::set_show_all(bool show_all) {
  const std::size_t fallback = selected_index();
  show_all_ = show_all;
  keep_selection(fallback);
}

const request* review_model::selected() const {
  auto rows = visible();
  if (rows.empty()) return nullptr;
  return rows[std::min(selected_index(), rows.size() - 1)];
}

std::size_t review_model::selected_index() const {
  auto rows = visible();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]->id == selected_id_) return i;
  }
  return 0;
}

void review_model::move_selection(std::ptrdiff_t delta) {
  auto rows = visible();
  if (rows.empty()) return;
  const auto last = static_cast<std::ptrdiff_t>(rows.size()) - 1;
  const auto target =
      std::clamp(static_cast<std::ptrdiff_t>(selected_index()) + delta, std::ptrdiff_t{0}, last);
  selected_id_ = rows[static_cast<std::size_t>(target)]->id;
}

void review_model::select_first() {
  auto rows = visible();
  if (!rows.empty()) selected_id_ = rows.front()->id;
}

void review_model::select_last() {
  auto rows = visible();
  if (!rows.empty()) selected_id_ = rows.back()->id;
}

const request* review_model::find(std::string_view id) const {
  auto it = std::find_if(requests_.begin(), requests_.end(), [id](const request& r) { return r.id == id; });
  return it == requests_.end() ? nullptr : &*it;
}

void review_model::sort() {
  std::stable_sort(requests_.begin(), requests_.end(), [](const request& a, const request& b) {
    if (a.created_ms != b.created_ms) return a.created_ms > b.created_ms;
    return a.id > b.id;
  });
}

void review_model::keep_selection(std::size_t fallback_index) {
  auto rows = visible();
  if (rows.empty()) return;  // keep the id: it may come back when the filter is cleared
  for (const auto* r : rows) {
    if (r->id == selected_id_) return;
  }
  selected_id_ = rows[std::min(fallback_index, rows.size() - 1)]->id;
}

}  // namespace phigate::approvals

#include "audit/grouping.hpp"

#include <unordered_map>

namespace phigate::audit {

namespace {

bool joins(const std::vector<const record_item*>& group, const record_item& e,
           const grouping_limits& limits) {
  const record_item& first = *group.front();
  return group.size() < limits.max_items && e.time >= first.time && e.time - first.time <= limits.max_span &&
         (first.who == e.who || *first.who == *e.who);
}

}  // namespace

bool groupable(const record_item& e) noexcept {
  if (e.session == 0 || !e.who || e.approval) return false;
  switch (e.kind) {
    case event_kind::statement:
    case event_kind::outcome:
      return true;
    case event_kind::decision:
      return e.decision && e.decision->verdict == "allow";
    default:
      return false;
  }
}

std::vector<std::vector<const record_item*>> group_records(const std::vector<record_item>& events,
                                                           grouping_limits limits) {
  std::vector<std::vector<const record_item*>> out;
  out.reserve(events.size());
  std::unordered_map<std::uint64_t, std::size_t> open;  // session -> its group in `out`
  for (const record_item& e : events) {
    if (!groupable(e)) {
      if (e.session != 0) open.erase(e.session);
      out.push_back({&e});
      continue;
    }
    if (auto it = open.find(e.session); it != open.end() && joins(out[it->second], e, limits)) {
      out[it->second].push_back(&e);
      continue;
    }
    open[e.session] = out.size();
    out.push_back({&e});
  }
  return out;
}

}  // namespace phigate::audit

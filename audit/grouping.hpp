// Which records of one transaction the writer writes as one `statements` record. Under load a session's
// allowed statements follow each other in the writer's queue a few hundred microseconds apart, and each
// record repeats who the session is, the chain fields and a row of the store: about half of a statement's
// bytes and a fixed cost per record. A group writes those once, with one item per statement (its time,
// kind and its statement, decision and outcome sections as a record of its own would have them, what
// several items repeat written once: see encode_group_body).
//
// Only records about allowed statements are grouped (kinds decision with verdict allow, outcome and
// statement), only consecutive ones of one session: any other record of that session (a denial, a hold,
// an approval step) ends the session's group, so a session's records keep their order in the chain.
// Records of other sessions may come between the items of a group; sessions are concurrent and the chain
// orders them only by when the writer took them. A group spans at most `max_span` of item time (export's
// time filter relies on that bound) and `max_items` items.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "audit/record_item.hpp"

namespace phigate::audit {

/// How far a `statements` record's items may lie after its own time (its first item's).
inline constexpr std::chrono::milliseconds max_group_span{1'000};

struct grouping_limits {
  std::chrono::milliseconds max_span = max_group_span;
  std::size_t max_items = 1'000;
};

/// Whether `e` may be an item of a `statements` record.
bool groupable(const record_item& e) noexcept;

/// The records to write for `events` (in order), each a list of events: one event is a record of its own,
/// several are one `statements` record. The lists are ordered by their first event.
std::vector<std::vector<const record_item*>> group_records(const std::vector<record_item>& events,
                                                           grouping_limits limits = {});

}  // namespace phigate::audit

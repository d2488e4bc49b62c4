#include "audit/event.hpp"

#include <array>

namespace phigate::audit {

namespace {

constexpr std::array<std::string_view, event_kind_count> kind_names = {
    "gateway_start", "gateway_stop", "policy_reload", "connection", "authentication",
    "decision",      "approval",     "outcome",       "statement",  "statements",
};

}  // namespace

std::string_view to_string(event_kind kind) noexcept {
  const auto index = static_cast<std::size_t>(kind);
  return index < kind_names.size() ? kind_names[index] : "unknown";
}

std::optional<event_kind> event_kind_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kind_names.size(); ++i)
    if (kind_names[i] == name) return static_cast<event_kind>(i);
  return std::nullopt;
}

}  // namespace phigate::audit

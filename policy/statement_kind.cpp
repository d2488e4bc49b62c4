#include "policy/statement_kind.hpp"

#include <array>
#include <bit>

namespace phigate::policy {
namespace {

constexpr std::array<std::string_view, statement_kind_count> kind_names = {
    "read", "write", "ddl", "export", "privilege", "admin", "session", "unknown"};

// Indexed by statement_kind; the order of the enum is not the order of severity, so it lives here.
constexpr std::array<int, statement_kind_count> kind_strictness = {0, 2, 3, 5, 6, 4, 1, 7};

}  // namespace

std::string_view to_string(statement_kind kind) noexcept {
  return kind_names[static_cast<std::size_t>(kind)];
}

std::optional<statement_kind> statement_kind_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kind_names.size(); ++i) {
    if (kind_names[i] == name) return static_cast<statement_kind>(i);
  }
  return std::nullopt;
}

int strictness(statement_kind kind) noexcept {
  return kind_strictness[static_cast<std::size_t>(kind)];
}

std::size_t kind_set::size() const noexcept {
  return static_cast<std::size_t>(std::popcount(bits_));
}

std::optional<statement_kind> kind_set::strictest() const noexcept {
  std::optional<statement_kind> best;
  for (std::size_t i = 0; i < statement_kind_count; ++i) {
    const auto kind = static_cast<statement_kind>(i);
    if (contains(kind) && (!best || strictness(kind) > strictness(*best))) best = kind;
  }
  return best;
}

std::string kind_set::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < statement_kind_count; ++i) {
    const auto kind = static_cast<statement_kind>(i);
    if (!contains(kind)) continue;
    if (!out.empty()) out += ',';
    out += kind_names[i];
  }
  return out;
}

}  // namespace phigate::policy

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/function_catalog.hpp"
#include "policy/statement_facts.hpp"
#include "policy/statement_kind.hpp"

namespace phigate::policy {

/// Why the input could not be analyzed.
struct analysis_error {
  std::string message;      ///< the parser's message ("syntax error at or near \"FRM\"") or ours
  int cursor_position = 0;  ///< 1-based byte offset libpg_query reports; 0 when not applicable
};

/// The facts of every statement in one simple-query string (or one extended-protocol Parse).
struct analysis {
  /// One entry per statement, in input order. On error: exactly one entry covering the whole input,
  /// with kind unknown and the error as its reason, so a caller that only looks at kinds still fails
  /// closed.
  std::vector<statement_facts> statements;
  /// Union of every statement's kinds; a decision takes the strictest (kinds.strictest()).
  kind_set kinds;
  std::optional<analysis_error> error;

  [[nodiscard]] bool ok() const noexcept { return !error; }
};

/// Analyzes PostgreSQL SQL text (PostgreSQL 15 grammar, via libpg_query): splits it into statements
/// with the real parser, and for each one records kinds with reasons, tables, columns, functions,
/// result-column lineage, normalized text and fingerprint. Pure and thread-safe (libpg_query keeps its
/// memory context per thread); never throws on bad SQL: parse errors come back in `error`.
/// An empty or comment-only input yields no statements and no error.
analysis analyze_sql(std::string_view sql);

/// Same, classifying functions with a catalog the policy has extended.
analysis analyze_sql(std::string_view sql, const function_catalog& functions);

}  // namespace phigate::policy

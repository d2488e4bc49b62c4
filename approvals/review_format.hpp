// Text for people reviewing approval requests: the request table of `phigate approvals list` and
// `phigate review`, the detail view, ages and countdowns. Pure functions of their arguments (the current time
// is passed in), so the terminal UI and the CLI print the same thing and tests need no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "approvals/request.hpp"

namespace phigate::approvals {

/// Columns of the request table, in display order.
enum class review_column { id, state, age, requester, kind, database, rule, expires };

/// "ID", "STATE", "AGE", "REQUESTER", "KIND", "DATABASE", "RULE", "EXPIRES IN".
std::string_view column_title(review_column column) noexcept;

/// Width of `text` on a terminal, counting one cell per UTF-8 code point (continuation bytes count zero).
std::size_t display_width(std::string_view text) noexcept;

/// `text` cut to at most `width` cells on a code point boundary; when cut, the last cell is '~' so a reader
/// sees that something is missing. Control characters (newline, tab, ESC...) become spaces first, so a
/// statement or a name can never move the cursor or inject terminal escapes.
std::string fit_text(std::string_view text, std::size_t width);

/// `text` padded with spaces (or cut by fit_text) to exactly `width` cells.
std::string pad_text(std::string_view text, std::size_t width);

/// Time since creation: "12s", "5m", "3h", "2d"; "0s" for a time in the future.
std::string age_text(std::int64_t created_ms, std::int64_t now_ms);

/// Time left until `expires_ms`: "59s", "14:59" (minutes:seconds under an hour), "1h05m", "2d03h";
/// "expired" once reached; "-" when there is no expiry (0).
std::string countdown_text(std::int64_t expires_ms, std::int64_t now_ms);

/// "2026-12-04 19:01:02 UTC"; "-" for 0.
std::string clock_text(std::int64_t epoch_ms);

/// The cells of one request, one per column in `columns` order. The expiry cell is the countdown for open
/// requests (pending, approved) and "-" for the others.
std::vector<std::string> table_cells(const request& r, const std::vector<review_column>& columns,
                                     std::int64_t now_ms);

/// The titles of `columns`.
std::vector<std::string> table_titles(const std::vector<review_column>& columns);

/// Column widths for a table of `rows` (each with one cell per column; the titles are usually the first row)
/// separated by one space, fitting `max_width` cells (0 = no limit). Each column gets the width of its widest
/// cell; when the total is too wide, the widest column gives up a cell at a time, never below its floor
/// (8 cells, or its widest cell if narrower). If even the floors do not fit, the rightmost columns are
/// dropped (width 0).
std::vector<std::size_t> fit_columns(const std::vector<std::vector<std::string>>& rows,
                                     std::size_t max_width);

/// One table line: each cell padded or cut to its width, separated by one space, trailing spaces removed.
/// Columns of width 0 are left out.
std::string format_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths);

/// The whole detail view of one request as lines of at most `width` cells (0 = no wrapping): header, who
/// and where, rule and classification reasons, masking, the full statement and its parameters, tables and
/// columns, approval rules and votes so far, times and the decision. Long values wrap with an indent.
std::vector<std::string> detail_lines(const request& r, std::int64_t now_ms, std::size_t width);

/// `text` split on newlines and wrapped to `width` cells (0 = no wrapping) at spaces where possible, each
/// line prefixed by `indent`.
std::vector<std::string> wrap_text(std::string_view text, std::size_t width, std::string_view indent);

}  // namespace phigate::approvals

// `phigate audit export` and `tail`: records as JSON lines (the canonical body with its hash added) or CSV
// (one column per field an auditor filters on), filtered by time and person. A `statements` record (several
// allowed statements of one session, see grouping.hpp) is one JSON line, kept whole when any of its items
// falls in the time window, and one CSV row per item in the window.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "audit/store.hpp"

namespace phigate::audit {

enum class export_format { jsonl, csv };

/// Half-open time bounds in microseconds since the Unix epoch; unset bounds do not filter.
struct time_window {
  std::optional<std::int64_t> since_us;
  std::optional<std::int64_t> until_us;
  [[nodiscard]] bool contains(std::int64_t time_us) const noexcept {
    return (!since_us || time_us >= *since_us) && (!until_us || time_us < *until_us);
  }
};

/// One JSON line: the record body with "hash" added as its last field.
std::string to_json_line(const stored_record& r);
/// Whether the record, or for a `statements` record any of its items, lies in `window`.
bool in_window(const stored_record& r, const time_window& window);
/// The CSV header line (with its line break).
std::string csv_header();
/// One CSV line per record, or per item in `window` of a `statements` record (with its line breaks); lists
/// are joined with ';', masked counts as "LABEL=n;...".
std::string to_csv_lines(const stored_record& r, const time_window& window = {});

/// Writes every record matching `filter` in sequence order. Returns "" or why the store could not be read.
std::string export_records(store& s, record_filter filter, export_format format, std::ostream& out);

}  // namespace phigate::audit

// `phigate audit export` and `tail`: records as JSON lines (the canonical body with its hash added) or CSV
// (one column per field an auditor filters on), filtered by time and person.
#pragma once

#include <ostream>
#include <string>

#include "audit/store.hpp"

namespace phigate::audit {

enum class export_format { jsonl, csv };

/// One JSON line: the record body with "hash" added as its last field.
std::string to_json_line(const stored_record& r);
/// The CSV header line (with its line break).
std::string csv_header();
/// One CSV line (with its line break); lists are joined with ';', masked counts as "LABEL=n;...".
std::string to_csv_line(const stored_record& r);

/// Writes every record matching `filter` in sequence order. Returns "" or why the store could not be read.
std::string export_records(store& s, record_filter filter, export_format format, std::ostream& out);

}  // namespace phigate::audit

// COPY TO STDOUT: text and CSV lines split into fields when the statement names its columns, binary tuples
// field by field. Part of pg_masking_rewriter (see its header for the rules).
#include "gateway/pg_masking_rewriter.hpp"

#include <utility>

namespace phigate {
namespace {

using masking::mask_options;
using masking::mask_result;

constexpr std::uint32_t oid_text = 25;

// "PGCOPY\n\377\r\n\0": the signature that opens a binary COPY stream (see the COPY reference page).
constexpr std::string_view binary_copy_signature{"PGCOPY\n\377\r\n\0", 11};

void append_i16(std::string& out, std::int16_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}

void append_i32(std::string& out, std::int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// "YYYY-MM-DD", alone or followed by a time: how PostgreSQL writes date and timestamp values.
bool looks_like_iso_date(std::string_view v) {
  const auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i) {
      if (i >= v.size() || v[i] < '0' || v[i] > '9') return false;
    }
    return true;
  };
  return v.size() >= 10 && digits(0, 4) && v[4] == '-' && digits(5, 2) && v[7] == '-' && digits(8, 2) &&
         (v.size() == 10 || v[10] == ' ' || v[10] == 'T');
}

/// One field of a text or CSV line: where it is, and for CSV whether it was quoted.
struct copy_field {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool quoted = false;
};

// Splits `line` (without its line break) at unescaped delimiters. Text format: a backslash escapes the next
// byte. CSV: a field that starts with the quote runs to the matching quote; inside it, the escape (or a
// doubled quote) protects the next quote. nullopt when a quote is not closed.
std::optional<std::vector<copy_field>> split_copy_line(std::string_view line, bool csv, char delimiter,
                                                       char quote, char escape) {
  std::vector<copy_field> fields;
  std::size_t i = 0;
  while (true) {
    copy_field f{i, i, false};
    if (csv && i < line.size() && line[i] == quote) {
      f.quoted = true;
      ++i;
      while (true) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == escape && i + 1 < line.size() && line[i + 1] == quote) {
          i += 2;
        } else if (line[i] == quote) {
          break;
        } else {
          ++i;
        }
      }
      f.begin = f.begin + 1;
      f.end = i++;
      if (i < line.size() && line[i] != delimiter) return std::nullopt;
    } else {
      while (i < line.size() && line[i] != delimiter)
        i += (!csv && line[i] == '\\' && i + 1 < line.size()) ? 2 : 1;
      f.end = i;
    }
    fields.push_back(f);
    if (i >= line.size()) return fields;
    ++i;  // the delimiter
  }
}

}  // namespace

void pg_masking_rewriter::on_copy_out(const pg::copy_response& shape) {
  copy_binary_ = shape.format == 1;
  copy_header_seen_ = false;
  copy_first_line_ = true;
  start_copy_fields();
  // A layout phigate cannot line up with the server's column count is not trusted: lines are scanned whole.
  if (copy_fields_.size() != shape.column_formats.size()) copy_fields_.clear();
}

void pg_masking_rewriter::start_copy_fields() {
  copy_fields_.clear();
  if (!plan_ || !config_) return;
  for (const auto& name : plan_->copy_fields) {
    const auto [rule, derived] = rule_named(name);
    copy_fields_.push_back({name, oid_text, 0, rule, derived});
  }
  if (!copy_fields_.empty() || plan_->copy_star_tables.empty() || !catalog_) return;
  // COPY table TO: the table's columns in order, from the catalog.
  const auto index = catalog_->index(database_);
  if (!index) return;
  for (const auto& table : plan_->copy_star_tables) {
    const auto* names = index->columns_of(table);
    if (!names) continue;
    for (const auto& name : *names) {
      const masking::column_rule* rule = nullptr;
      for (const auto& r : config_->columns) {
        if (r.schema + "." + r.table == table && r.column == name) rule = &r;
      }
      copy_fields_.push_back({name, oid_text, 0, rule});
    }
    return;
  }
}

bool pg_masking_rewriter::rewrite_copy_data(const pg::frame& data, std::string& out) {
  auto copy = pg::copy_data::decode(data);
  if (!copy) {
    pg::copy_data{}.encode(out);
    return true;
  }
  const std::string_view bytes = as_chars(copy->data);
  if (copy_binary_) return rewrite_binary_copy(bytes, out);
  const bool first = std::exchange(copy_first_line_, false);
  if (!copy_fields_.empty()) {
    if (first && plan_->copy_csv && plan_->copy_header) return false;  // the column names
    if (rewrite_text_copy(bytes, out)) return true;
  }
  // A text or CSV line, masked in place: no transform writes a delimiter, quote, backslash or newline.
  mask_options options;
  options.cell_may_be_null = false;
  mask_result result = scan(bytes, {}, options);
  if (!result.changed) return false;
  pg::copy_data{as_bytes(result.text)}.encode(out);
  return true;
}

bool pg_masking_rewriter::rewrite_binary_copy(std::string_view data, std::string& out) {
  // PostgreSQL sends each binary tuple (the first one after the header) in a CopyData of its own. A message
  // that does not hold whole tuples cannot be judged, so it is replaced by an empty one: the client reports
  // a broken stream, and nothing unscanned is forwarded.
  byte_reader in(as_bytes(data));
  std::string rebuilt;
  if (!copy_header_seen_) {
    const auto signature = as_chars(in.read_bytes(binary_copy_signature.size()));
    in.read_u32_be();
    const std::uint32_t extension = in.read_u32_be();
    in.read_bytes(extension);
    if (!in.ok() || signature != binary_copy_signature) {
      pg::copy_data{}.encode(out);
      return true;
    }
    rebuilt.append(data.substr(0, in.position()));
    copy_header_seen_ = true;
  }
  bool changed = false;
  while (in.ok() && !in.at_end()) {
    const std::int16_t fields = in.read_i16_be();
    const bool named = !copy_fields_.empty() && static_cast<std::size_t>(fields) == copy_fields_.size();
    append_i16(rebuilt, fields);
    if (fields == -1) break;  // trailer
    for (std::int16_t i = 0; i < fields && in.ok(); ++i) {
      const std::int32_t length = in.read_i32_be();
      if (length < 0) {
        append_i32(rebuilt, -1);
        continue;
      }
      const std::string_view field = as_chars(in.read_bytes(static_cast<std::size_t>(length)));
      if (!in.ok()) break;
      // Field types are not on the wire: a rule or any detection turns the field NULL, which every type
      // accepts.
      static const column unnamed{};
      const column& col = named ? copy_fields_[static_cast<std::size_t>(i)] : unnamed;
      if (mask_value(col, field, {}).changed) {
        append_i32(rebuilt, -1);
        changed = true;
      } else {
        append_i32(rebuilt, length);
        rebuilt.append(field);
      }
    }
  }
  if (!in.ok() || !in.at_end()) {
    pg::copy_data{}.encode(out);
    return true;
  }
  if (!changed) return false;
  pg::copy_data{as_bytes(rebuilt)}.encode(out);
  return true;
}

bool pg_masking_rewriter::rewrite_text_copy(std::string_view data, std::string& out) {
  std::string_view line = data;
  std::string_view ending;
  if (line.ends_with("\r\n"))
    ending = "\r\n";
  else if (line.ends_with("\n"))
    ending = "\n";
  line.remove_suffix(ending.size());
  const bool csv = plan_->copy_csv;
  const auto fields =
      split_copy_line(line, csv, plan_->copy_delimiter, plan_->copy_quote, plan_->copy_escape);
  if (!fields || fields->size() != copy_fields_.size()) return false;
  std::string rebuilt;
  bool changed = false;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const copy_field& f = (*fields)[i];
    const std::string_view value = line.substr(f.begin, f.end - f.begin);
    if ((!csv && value == "\\N") || (csv && !f.quoted && value.empty())) continue;  // NULL
    // Field types are not on the wire; a value written as an ISO date stays one.
    mask_options options;
    options.iso_date = looks_like_iso_date(value);
    mask_result result = mask_value(copy_fields_[i], value, options);
    if (!result.changed) continue;
    changed = true;
    // A null rule writes the format's NULL: \N in text, an unquoted empty field in CSV.
    const std::size_t from = f.quoted && result.null_cell ? f.begin - 1 : f.begin;
    const std::size_t to = f.quoted && result.null_cell ? f.end + 1 : f.end;
    rebuilt.append(line.substr(copied, from - copied));
    rebuilt += result.null_cell ? (csv ? "" : "\\N") : result.text;
    copied = to;
  }
  if (!changed) return false;
  rebuilt.append(line.substr(copied));
  rebuilt.append(ending);
  pg::copy_data{as_bytes(rebuilt)}.encode(out);
  return true;
}

}  // namespace phigate

#include "gateway/pg_masking_rewriter.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>

namespace phigate {
namespace {

using masking::mask_options;
using masking::mask_result;
using masking::transform_kind;

namespace oid {
constexpr std::uint32_t name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25, oid = 26, json = 114,
                        float4 = 700, float8 = 701, unknown = 705, bpchar = 1042, varchar = 1043, date = 1082,
                        timestamp = 1114, timestamptz = 1184, numeric = 1700, jsonb = 3802;
}

constexpr std::uint8_t jsonb_binary_version = 1;

bool is_text_like(std::uint32_t type) {
  switch (type) {
    case oid::text:
    case oid::varchar:
    case oid::bpchar:
    case oid::name:
    case oid::json:
    case oid::jsonb:
    case oid::unknown:
      return true;
    default:
      return false;
  }
}

// The value's bytes are its text: text format, or a text-like type, whose binary form is the same bytes
// (except jsonb's, which starts with a version byte).
bool holds_text(std::int16_t format, std::uint32_t type) {
  return format == 0 || (type != oid::jsonb && is_text_like(type));
}

// Bytes of a binary integer column, or 0 for other types.
std::size_t binary_integer_width(std::uint32_t type) {
  switch (type) {
    case oid::int2:
      return 2;
    case oid::int4:
    case oid::oid:
      return 4;
    case oid::int8:
      return 8;
    default:
      return 0;
  }
}

bool is_shape_checked(std::uint32_t type) {
  return type == oid::numeric || type == oid::float4 || type == oid::float8;
}

bool is_json(std::uint32_t type) {
  return type == oid::json || type == oid::jsonb;
}

// A replacement inside a JSON string stays JSON (transforms write no quote or backslash); one over a bare
// JSON number does not ("[SSN]"), and then the value is not JSON any more.
bool is_json_text(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

bool is_date_like(std::uint32_t type) {
  return type == oid::date || type == oid::timestamp || type == oid::timestamptz;
}

// True when `masked` has the same length as `original`, digits where it had digits, and every other byte
// unchanged: then a value of a numeric or ISO date type is still one.
bool same_shape(std::string_view original, std::string_view masked) {
  if (original.size() != masked.size()) return false;
  for (std::size_t i = 0; i < original.size(); ++i) {
    const bool digit = original[i] >= '0' && original[i] <= '9';
    const bool masked_digit = masked[i] >= '0' && masked[i] <= '9';
    if (digit != masked_digit || (!digit && original[i] != masked[i])) return false;
  }
  return true;
}

// The value of a decimal integer that fits a column of `type` (int2, int4, int8; oid is unsigned 32-bit).
std::optional<std::int64_t> fitting_integer(std::string_view text, std::uint32_t type) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  std::int64_t low = std::numeric_limits<std::int64_t>::min(),
               high = std::numeric_limits<std::int64_t>::max();
  if (type == oid::int2)
    low = std::numeric_limits<std::int16_t>::min(), high = std::numeric_limits<std::int16_t>::max();
  if (type == oid::int4)
    low = std::numeric_limits<std::int32_t>::min(), high = std::numeric_limits<std::int32_t>::max();
  if (type == oid::oid) low = 0, high = std::numeric_limits<std::uint32_t>::max();
  if (value < low || value > high) return std::nullopt;
  return value;
}

std::int64_t read_binary_integer(std::string_view bytes, std::uint32_t type) {
  std::uint64_t raw = 0;
  for (char c : bytes) raw = (raw << 8) | static_cast<unsigned char>(c);
  if (type == oid::oid) return static_cast<std::int64_t>(raw);
  const unsigned bits = static_cast<unsigned>(bytes.size() * 8);
  if (bits < 64 && (raw >> (bits - 1)) != 0) raw |= ~std::uint64_t{0} << bits;  // sign-extend
  return static_cast<std::int64_t>(raw);
}

std::string write_binary_integer(std::int64_t value, std::size_t width) {
  std::string out(width, '\0');
  auto raw = static_cast<std::uint64_t>(value);
  for (std::size_t i = width; i-- > 0; raw >>= 8) out[i] = static_cast<char>(raw & 0xFF);
  return out;
}

// The name a rule's masked values are counted under and redacted as ("[SSN]" for a column named ssn).
std::string rule_label(const masking::column_rule& rule) {
  std::string label = rule.column;
  for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return label;
}

}  // namespace

// A value computed from a masked column is masked whole: transforms that keep part of the value in clear
// (partial, safe_harbor_date, zip3) would leak what `substr(ssn, 1, 3)` picked out, so they become redact.
masking::transform_kind pg_masking_rewriter::rule_transform(const column& col) {
  const auto kind = col.rule->transform;
  const bool keeps_part = kind == transform_kind::partial || kind == transform_kind::safe_harbor_date ||
                          kind == transform_kind::zip3;
  return col.derived && keeps_part ? transform_kind::redact : kind;
}

pg_masking_rewriter::pg_masking_rewriter(std::shared_ptr<const masking::cell_masker> masker,
                                         std::shared_ptr<const masking_config> config,
                                         std::shared_ptr<column_catalog> catalog, std::string database)
    : masker_(std::move(masker)),
      config_(std::move(config)),
      catalog_(std::move(catalog)),
      database_(std::move(database)) {
  if (catalog_ && !config_->columns.empty()) catalog_->index(database_);  // start reading it now
}

void pg_masking_rewriter::on_row_description(const pg::row_description& shape) {
  columns_.clear();
  columns_.reserve(shape.fields.size());
  const bool rules = config_ && !config_->columns.empty();
  const auto index = rules && catalog_ ? catalog_->index(database_) : nullptr;
  for (const auto& field : shape.fields) {
    const auto [rule, derived] = rules ? rule_for(field, index.get()) : std::pair{nullptr, false};
    columns_.push_back({std::string(field.name), field.type_oid, field.format, rule, derived,
                        masking::column_words(field.name)});
  }
}

std::pair<const masking::column_rule*, bool> pg_masking_rewriter::rule_named(std::string_view output) const {
  const auto* o = plan_ ? plan_->find(output) : nullptr;
  if (!o) return {nullptr, false};
  return {&config_->columns.at(o->rule), o->derived};
}

std::pair<const masking::column_rule*, bool> pg_masking_rewriter::rule_for(const pg::field_description& field,
                                                                           const column_index* index) {
  const auto& rules = config_->columns;
  if (field.table_oid != 0) {
    if (index && !index->newer_than_index(field.table_oid)) {
      if (const auto rule = index->find(field.table_oid, field.column_attnum))
        return {&rules.at(*rule), false};
    } else {
      // The catalog has not been read yet, or the relation is newer than what it read: a column named like a
      // rule's column is masked (fail closed), and the catalog is read again.
      if (index && catalog_) catalog_->refresh(database_, std::chrono::milliseconds(0));
      for (const auto& rule : rules) {
        if (rule.column == field.name) return {&rule, false};
      }
    }
  }
  // The statement's lineage ties this output to a masked column (an alias, an expression over it).
  if (const auto named = rule_named(field.name); named.first) return named;
  // A computed column the analysis did not name, in a statement that computes from masked columns: phigate
  // cannot tell which output it is, so it is masked too.
  if (field.table_oid == 0 && plan_ && plan_->any_derived() &&
      std::find(plan_->names.begin(), plan_->names.end(), field.name) == plan_->names.end()) {
    for (const auto& o : plan_->outputs) {
      if (o.derived) return {&rules.at(o.rule), true};
    }
  }
  return {nullptr, false};
}

namespace {

// One scan context per worker thread: a session stays on its thread, so scans never run concurrently on it.
masking::scan_context& thread_context() {
  thread_local masking::scan_context context;
  return context;
}

}  // namespace

mask_options pg_masking_rewriter::text_options(const column& col) {
  mask_options options;
  options.iso_date = is_date_like(col.type_oid);
  return options;
}

mask_result pg_masking_rewriter::scan(std::string_view text, std::string_view hint,
                                      const mask_options& options) {
  mask_result result = masker_->mask(text, hint, thread_context(), options);
  if (result.changed) count(result);
  return result;
}

void pg_masking_rewriter::count(const mask_result& result) {
  for (const auto& [label, n] : result.counts) ++masked_counts_[label];
}

const pg_masking_rewriter::column& pg_masking_rewriter::column_at(std::size_t i) const {
  // Rows wider than their description are scanned as text of an unknown type: NULL on any detection.
  static const column undescribed{};
  return i < columns_.size() ? columns_[i] : undescribed;
}

void pg_masking_rewriter::scan_row(const pg::data_row& row) {
  batch_cells_.clear();
  batch_columns_.clear();
  scanned_.assign(row.columns.size(), false);
  for (std::size_t i = 0; i < row.columns.size(); ++i) {
    const column& col = column_at(i);
    // The cells mask_cell would content-scan as text: no rule, and the value's bytes are its text.
    if (!row.columns[i] || col.rule || !holds_text(col.format, col.type_oid)) continue;
    scanned_[i] = true;
    batch_cells_.push_back(as_chars(*row.columns[i]));
    batch_columns_.push_back(&col.words);
  }
  masker_->detectors().scan_batch(batch_cells_, batch_columns_, thread_context(), batch_);
}

pg_masking_rewriter::cell_outcome pg_masking_rewriter::mask_scanned(
    const column& col, std::string_view text, std::span<const masking::detection> found) {
  if (found.empty()) return {};  // the common case: nothing to rewrite
  mask_result result = masker_->apply(text, found, text_options(col));
  if (result.changed) count(result);
  return fit_to_type(col, text, std::move(result));
}

bool pg_masking_rewriter::rewrite_data_row(const pg::frame& row, std::string& out) {
  auto decoded = pg::data_row::decode(row);
  if (!decoded) {
    // Fail closed: a row phigate cannot read is sent as a row of NULLs, never as it came.
    pg::data_row nulls;
    nulls.columns.resize(columns_.size());
    nulls.encode(out);
    ++masked_counts_["UNREADABLE_ROW"];
    return true;
  }
  scan_row(*decoded);
  std::vector<std::string> storage;
  storage.reserve(decoded->columns.size());  // spans below point into these strings: no reallocation
  bool changed = false;
  for (std::size_t i = 0, scanned = 0; i < decoded->columns.size(); ++i) {
    auto& cell = decoded->columns[i];
    if (!cell) continue;
    const column& col = column_at(i);
    cell_outcome outcome = scanned_[i] ? mask_scanned(col, as_chars(*cell), batch_.of(scanned++))
                                       : mask_cell(col, as_chars(*cell));
    if (outcome.what == cell_outcome::kind::unchanged) continue;
    changed = true;
    if (outcome.what == cell_outcome::kind::null) {
      cell.reset();
    } else {
      storage.push_back(std::move(outcome.bytes));
      cell = as_bytes(storage.back());
    }
  }
  if (!changed) return false;
  decoded->encode(out);
  return true;
}

mask_result pg_masking_rewriter::mask_value(const column& col, std::string_view text,
                                            const mask_options& options) {
  if (!col.rule) return scan(text, col.name, options);
  mask_result result = masker_->mask_whole(text, rule_transform(col), rule_label(*col.rule), options);
  count(result);
  return result;
}

pg_masking_rewriter::cell_outcome pg_masking_rewriter::mask_cell(const column& col, std::string_view bytes) {
  if (holds_text(col.format, col.type_oid)) return mask_text_format(col, bytes);
  if (col.type_oid == oid::jsonb) {
    // Binary jsonb is a version byte followed by the JSON text.
    if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != jsonb_binary_version)
      return {cell_outcome::kind::null, {}};
    cell_outcome inner = mask_text_format({col.name, oid::json, 0}, bytes.substr(1));
    if (inner.what == cell_outcome::kind::replaced)
      inner.bytes.insert(0, 1, static_cast<char>(jsonb_binary_version));
    return inner;
  }
  if (binary_integer_width(col.type_oid) != 0) return mask_binary_integer(col, bytes);
  // A masked column of another type in binary: NULL, which every type accepts.
  if (col.rule) {
    count(masker_->mask_whole({}, rule_transform(col), rule_label(*col.rule)));
    return {cell_outcome::kind::null, {}};
  }
  // Any other binary value (date, numeric, uuid, bytea, enum and citext labels, whose OIDs vary per
  // database) is scanned as raw bytes: a fixed-width binary number almost never reads as an identifier, and
  // a value that does is sent as NULL, which every type accepts.
  if (scan(bytes, col.name, {}).changed) return {cell_outcome::kind::null, {}};
  return {};
}

pg_masking_rewriter::cell_outcome pg_masking_rewriter::mask_text_format(const column& col,
                                                                        std::string_view text) {
  return fit_to_type(col, text, mask_value(col, text, text_options(col)));
}

pg_masking_rewriter::cell_outcome pg_masking_rewriter::fit_to_type(const column& col, std::string_view text,
                                                                   mask_result result) {
  const bool text_like = is_text_like(col.type_oid);
  if (!result.changed) return {};
  if (result.null_cell) return {cell_outcome::kind::null, {}};
  if (is_json(col.type_oid) && !is_json_text(result.text)) return {cell_outcome::kind::null, {}};
  if (text_like) return {cell_outcome::kind::replaced, std::move(result.text)};
  if (binary_integer_width(col.type_oid) != 0) {
    // Leading zeros dropped so the text is what PostgreSQL itself would print for the value.
    if (const auto value = fitting_integer(result.text, col.type_oid))
      return {cell_outcome::kind::replaced, std::to_string(*value)};
    return {cell_outcome::kind::null, {}};
  }
  const bool keeps_type = (is_shape_checked(col.type_oid) && same_shape(text, result.text)) ||
                          (is_date_like(col.type_oid) && result.used_only(transform_kind::safe_harbor_date) &&
                           same_shape(text, result.text));
  if (keeps_type) return {cell_outcome::kind::replaced, std::move(result.text)};
  return {cell_outcome::kind::null, {}};
}

pg_masking_rewriter::cell_outcome pg_masking_rewriter::mask_binary_integer(const column& col,
                                                                           std::string_view bytes) {
  const std::size_t width = binary_integer_width(col.type_oid);
  if (bytes.size() != width) return {cell_outcome::kind::null, {}};
  const std::string decimal = std::to_string(read_binary_integer(bytes, col.type_oid));
  mask_result result = mask_value(col, decimal, {});
  if (!result.changed) return {};
  if (result.null_cell) return {cell_outcome::kind::null, {}};
  if (const auto value = fitting_integer(result.text, col.type_oid))
    return {cell_outcome::kind::replaced, write_binary_integer(*value, width)};
  return {cell_outcome::kind::null, {}};
}

bool pg_masking_rewriter::rewrite_message(const pg::frame& message, std::string& out) {
  mask_options options;
  options.cell_may_be_null = false;
  if (message.type == pg::backend_type::notification_response) {
    auto note = pg::notification_response::decode(message);
    if (!note) return true;  // dropped: a notification phigate cannot read is not forwarded
    mask_result result = scan(note->payload, {}, options);
    if (!result.changed) return false;
    note->payload = result.text;
    note->encode(out);
    return true;
  }
  auto error = pg::error_response::decode(message);
  if (!error) {
    pg::encode_error(out, "ERROR", "XX000", "phigate: unreadable message from the server withheld", {}, {},
                     message.type);
    return true;
  }
  std::vector<std::string> storage;
  storage.reserve(error->fields.size());
  bool changed = false;
  for (auto& field : error->fields) {
    // Message, detail, hint and context are where PostgreSQL quotes values ("invalid input syntax ... \"v\"",
    // "Key (ssn)=(...) already exists").
    if (field.code != 'M' && field.code != 'D' && field.code != 'H' && field.code != 'W') continue;
    mask_result result = scan(field.value, {}, options);
    if (!result.changed) continue;
    storage.push_back(std::move(result.text));
    field.value = storage.back();
    changed = true;
  }
  if (!changed) return false;
  error->encode(out, message.type);
  return true;
}

}  // namespace phigate

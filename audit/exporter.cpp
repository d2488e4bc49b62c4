#include "audit/exporter.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <string_view>
#include <vector>

#include "audit/canonical_json.hpp"
#include "audit/grouping.hpp"

namespace phigate::audit {

namespace {

constexpr std::size_t page_records = 5'000;

namespace json = boost::json;

std::string text_at(const json::object& o, std::initializer_list<const char*> path) {
  const json::object* at = &o;
  const json::value* v = nullptr;
  for (const char* key : path) {
    if (!at) return {};
    v = at->if_contains(key);
    if (!v) return {};
    at = v->is_object() ? &v->as_object() : nullptr;
  }
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_array()) {
    std::string out;
    for (const auto& item : v->as_array())
      if (item.is_string()) out += (out.empty() ? "" : ";") + std::string(item.as_string());
    return out;
  }
  if (v->is_object()) {
    std::string out;
    for (const auto& [label, count] : v->as_object())
      out += (out.empty() ? "" : ";") + std::string(label) + "=" +
             (count.is_uint64() ? std::to_string(count.as_uint64()) : json::serialize(count));
    return out;
  }
  return json::serialize(*v);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

struct csv_column {
  const char* name;
  std::initializer_list<const char*> path;
};

const std::array<csv_column, 28> csv_columns = {{
    {"seq", {"seq"}},
    {"item", {"item"}},
    {"time", {"time"}},
    {"kind", {"kind"}},
    {"session", {"session"}},
    {"person", {"who", "person"}},
    {"groups", {"who", "groups"}},
    {"client", {"who", "client"}},
    {"application", {"who", "application"}},
    {"database", {"who", "database"}},
    {"upstream_role", {"who", "upstream_role"}},
    {"result", {"result"}},
    {"verdict", {"decision", "verdict"}},
    {"rule", {"decision", "rule"}},
    {"kinds", {"decision", "kinds"}},
    {"tables", {"decision", "tables"}},
    {"normalized", {"statement", "normalized"}},
    {"text_hmac", {"statement", "text_hmac"}},
    {"params_hmac", {"statement", "params_hmac"}},
    {"approval_request", {"approval", "request"}},
    {"approval_step", {"approval", "step"}},
    {"approvers", {"approval", "approvers"}},
    {"rows", {"outcome", "rows"}},
    {"sqlstate", {"outcome", "sqlstate"}},
    {"duration_us", {"outcome", "duration_us"}},
    {"masked", {"outcome", "masked"}},
    {"detail", {"detail"}},
    {"hash", {}},
}};

}  // namespace

std::string to_json_line(const stored_record& r) {
  std::string out = r.body;
  if (!out.empty() && out.back() == '}') out.pop_back();
  out += ",\"hash\":\"" + r.hash + "\"}";
  return out;
}

std::string csv_header() {
  std::string out;
  for (const auto& c : csv_columns) out += (out.empty() ? "" : ",") + std::string(c.name);
  return out + "\n";
}

namespace {

json::object parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  return !ec && value.is_object() ? std::move(value.as_object()) : json::object();
}

std::int64_t time_of(const json::object& o) {
  const auto* v = o.if_contains("time");
  const auto us = v && v->is_string() ? parse_time_us(std::string_view(v->as_string())) : std::nullopt;
  return us.value_or(0);
}

const json::array* items_of(const stored_record& r, const json::object& o) {
  if (r.kind != to_string(event_kind::statements)) return nullptr;
  const auto* items = o.if_contains("items");
  return items && items->is_array() ? &items->as_array() : nullptr;
}

// An item of a `statements` record as a record of its own would have its sections: the fields its
// `common` entry holds put back (see encode_group_body).
json::object expand_item(const json::object& item, const json::object& record) {
  const auto* ref = item.if_contains("common");
  const auto* common = record.if_contains("common");
  if (!ref || !ref->is_int64() || !common || !common->is_array()) return item;
  const auto& entries = common->as_array();
  const auto index = ref->as_int64();
  if (index < 0 || static_cast<std::size_t>(index) >= entries.size() || !entries[index].is_object())
    return item;
  const auto& entry = entries[static_cast<std::size_t>(index)].as_object();
  json::object out = item;
  out.erase("common");
  // Each section: the entry's fields, then the item's own; the entry's outcome fields only complete an
  // outcome the item has (one whose outcome is still to come has none).
  for (const char* section : {"statement", "decision", "outcome"}) {
    const auto* shared = entry.if_contains(section);
    const auto* own = item.if_contains(section);
    if (!shared || !shared->is_object() || (std::string_view(section) == "outcome" && !own)) continue;
    json::object merged = shared->as_object();
    if (own && own->is_object())
      for (const auto& [key, value] : own->as_object()) merged[key] = value;
    out[section] = std::move(merged);
  }
  return out;
}

std::string csv_line(const stored_record& r, const json::object& o) {
  std::string out;
  bool first = true;
  for (const auto& c : csv_columns) {
    if (!first) out += ',';
    first = false;
    out += csv_field(c.path.size() == 0 ? r.hash : text_at(o, c.path));
  }
  return out + "\n";
}

}  // namespace

bool in_window(const stored_record& r, const time_window& window) {
  if (r.kind != to_string(event_kind::statements)) return window.contains(r.time_us);
  const auto o = parse_object(r.body);
  const auto* items = items_of(r, o);
  if (!items) return window.contains(r.time_us);
  for (const auto& item : *items)
    if (item.is_object() && window.contains(time_of(item.as_object()))) return true;
  return false;
}

std::string to_csv_lines(const stored_record& r, const time_window& window) {
  const auto o = parse_object(r.body);
  const auto* items = items_of(r, o);
  if (!items) return window.contains(r.time_us) ? csv_line(r, o) : std::string();
  // Each item as a record of its own: the record's fields, then the item's time, kind and sections.
  std::string out;
  json::object row = o;
  row.erase("items");
  row.erase("common");
  for (std::size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].is_object()) continue;
    const auto& item = (*items)[i].as_object();
    if (!window.contains(time_of(item))) continue;
    for (const char* section : {"statement", "decision", "outcome"}) row.erase(section);
    for (const auto& [key, value] : expand_item(item, o)) row[key] = value;
    row["item"] = i + 1;
    out += csv_line(r, row);
  }
  return out;
}

std::string export_records(store& s, record_filter filter, export_format format, std::ostream& out) {
  if (format == export_format::csv) out << csv_header();
  // A `statements` record carries its first item's time: one up to max_group_span older than `since` may
  // still hold items in the window. Read those too, and filter records and items here.
  const time_window window{filter.since_us, filter.until_us};
  if (filter.since_us)
    *filter.since_us -= std::chrono::duration_cast<std::chrono::microseconds>(max_group_span).count();
  const std::size_t wanted = filter.limit;
  std::size_t written = 0;
  for (;;) {
    filter.limit = page_records;
    std::vector<stored_record> page;
    if (auto problem = s.read(filter, page); !problem.empty()) return problem;
    for (const auto& r : page) {
      if (wanted != 0 && written >= wanted) break;
      const std::string text = format == export_format::csv ? to_csv_lines(r, window)
                               : in_window(r, window)       ? to_json_line(r) + "\n"
                                                            : std::string();
      if (text.empty()) continue;  // outside the window
      out << text;
      ++written;
    }
    if (page.size() < filter.limit || (wanted != 0 && written >= wanted)) break;
    filter.after_seq = page.back().seq;
  }
  out.flush();
  return {};
}

}  // namespace phigate::audit

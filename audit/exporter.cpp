#include "audit/exporter.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <vector>

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

const std::array<csv_column, 27> csv_columns = {{
    {"seq", {"seq"}},
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

std::string to_csv_line(const stored_record& r) {
  boost::system::error_code ec;
  const auto value = json::parse(r.body, ec);
  const json::object empty;
  const json::object& o = !ec && value.is_object() ? value.as_object() : empty;
  std::string out;
  bool first = true;
  for (const auto& c : csv_columns) {
    if (!first) out += ',';
    first = false;
    out += csv_field(c.path.size() == 0 ? r.hash : text_at(o, c.path));
  }
  return out + "\n";
}

std::string export_records(store& s, record_filter filter, export_format format, std::ostream& out) {
  if (format == export_format::csv) out << csv_header();
  const std::size_t wanted = filter.limit;
  std::size_t written = 0;
  for (;;) {
    filter.limit = wanted == 0 ? page_records : std::min(page_records, wanted - written);
    std::vector<stored_record> page;
    if (auto problem = s.read(filter, page); !problem.empty()) return problem;
    for (const auto& r : page)
      out << (format == export_format::csv ? to_csv_line(r) : to_json_line(r) + "\n");
    written += page.size();
    if (page.size() < filter.limit || (wanted != 0 && written >= wanted)) break;
    filter.after_seq = page.back().seq;
  }
  out.flush();
  return {};
}

}  // namespace phigate::audit

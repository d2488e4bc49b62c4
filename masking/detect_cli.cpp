#include "masking/detect_cli.hpp"

#include <boost/json.hpp>

#include <istream>
#include <ostream>
#include <string>

#include "masking/detector_set.hpp"

namespace phigate::masking {
namespace {

// Converts a byte offset into a code-point offset by counting UTF-8 lead bytes before it.
std::size_t code_points_before(std::string_view text, std::size_t byte_offset) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < byte_offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

boost::json::object error_line(std::string message) {
  boost::json::object line;
  line["entities"] = boost::json::array();
  line["error"] = std::move(message);
  return line;
}

// Scans one input line; returns the output object and whether the line was well formed.
std::pair<boost::json::object, bool> detect_line(const detector_set& set, scan_context& context,
                                                 std::string_view line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return {error_line("not a JSON object"), false};
  const boost::json::object& cell = v.get_object();
  const boost::json::value* text = cell.if_contains("text");
  const boost::json::value* column = cell.if_contains("column");
  if (!text || !text->is_string() || (column && !column->is_string() && !column->is_null())) {
    return {error_line("expected {\"column\": string, \"text\": string}"), false};
  }
  std::string_view t = text->get_string();
  std::string_view c =
      column && column->is_string() ? std::string_view(column->get_string()) : std::string_view();
  boost::json::array entities;
  for (const detection& d : set.scan(t, c, context)) {
    boost::json::object e;
    e["type"] = set.label(d);
    e["start"] = code_points_before(t, d.start);
    e["end"] = code_points_before(t, d.end);
    entities.push_back(std::move(e));
  }
  boost::json::object result;
  result["entities"] = std::move(entities);
  return {std::move(result), true};
}

}  // namespace

int run_detect(std::istream& in, std::ostream& out, const detector_config& cfg) {
  detector_set::compile_result compiled = detector_set::compile(cfg);
  if (!compiled.set) {
    boost::json::object e;
    e["error"] = compiled.error;
    out << boost::json::serialize(e) << '\n';
    return 2;
  }
  scan_context context;
  bool all_ok = true;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto [result, ok] = detect_line(*compiled.set, context, line);
    all_ok = all_ok && ok;
    out << boost::json::serialize(result) << '\n';
  }
  return all_ok ? 0 : 1;
}

}  // namespace phigate::masking

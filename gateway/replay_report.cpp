#include "gateway/replay_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

namespace phigate::replay {

namespace {

std::string ms(double v) {
  return fmt::format("{:.3f}", v);
}

std::string ratio(double a, double b) {
  return b > 0 ? fmt::format("{:.2f}", a / b) : "-";
}

std::string escape_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '`')
      out += '\'';
    else
      out += c;
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

boost::json::object summary_json(const latency_samples& s, double seconds) {
  const auto sum = s.summary();
  return {{"count", sum.count},
          {"errors", sum.errors},
          {"throughput_per_s", seconds > 0 ? static_cast<double>(sum.count) / seconds : 0.0},
          {"mean_ms", sum.mean_ms},
          {"p50_ms", sum.p50_ms},
          {"p95_ms", sum.p95_ms},
          {"p99_ms", sum.p99_ms},
          {"max_ms", sum.max_ms}};
}

// A "nice" axis maximum at or above v: 1, 2 or 5 times a power of ten.
double nice_ceiling(double v) {
  if (v <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : {1.0, 2.0, 5.0, 10.0})
    if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

std::string axis_label(double v) {
  return v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v);
}

}  // namespace

double target_outcome::throughput() const {
  return measured.measured_seconds > 0
             ? static_cast<double>(measured.total().count()) / measured.measured_seconds
             : 0.0;
}

std::uint64_t target_outcome::error_count() const {
  return measured.total().errors() + measured.other_errors() + measured.sessions_failed;
}

std::map<std::string, latency_samples> by_kind(const plan& p, const stats& s) {
  std::map<std::string, latency_samples> out;
  for (const auto& [label, samples] : s.by_label()) out[p.labels.at(label).kind].merge(samples);
  return out;
}

std::string markdown_summary(const plan& p, const target_outcome& t, std::size_t top_fingerprints) {
  const auto total = t.measured.total().summary();
  std::string out = fmt::format("Target: {}\n\n", t.where.describe());
  out +=
      "| Statements | Errors | Throughput (stmt/s) | p50 ms | p95 ms | p99 ms | max ms | Sessions | Failed "
      "sessions |\n";
  out += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  out += fmt::format("| {} | {} | {:.0f} | {} | {} | {} | {} | {} | {} |\n\n", total.count, t.error_count(),
                     t.throughput(), ms(total.p50_ms), ms(total.p95_ms), ms(total.p99_ms), ms(total.max_ms),
                     t.measured.sessions_completed, t.measured.sessions_failed);
  out += "| Kind | Count | Errors | Throughput (stmt/s) | p50 ms | p95 ms | p99 ms | max ms |\n";
  out += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [kind, samples] : by_kind(p, t.measured)) {
    const auto s = samples.summary();
    const double rate =
        t.measured.measured_seconds > 0 ? static_cast<double>(s.count) / t.measured.measured_seconds : 0;
    out += fmt::format("| {} | {} | {} | {:.0f} | {} | {} | {} | {} |\n", kind.empty() ? "-" : kind, s.count,
                       s.errors, rate, ms(s.p50_ms), ms(s.p95_ms), ms(s.p99_ms), ms(s.max_ms));
  }
  // The statements that cost the most time overall are the ones worth reading about.
  std::vector<std::pair<double, std::uint32_t>> order;
  for (const auto& [label, samples] : t.measured.by_label()) {
    const auto s = samples.summary();
    order.emplace_back(s.mean_ms * static_cast<double>(s.count), label);
  }
  std::sort(order.rbegin(), order.rend());
  if (order.size() > top_fingerprints) order.resize(top_fingerprints);
  out += "\n| Fingerprint | Kind | Statement | Count | Errors | p50 ms | p95 ms | p99 ms | max ms |\n";
  out += "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [time, label] : order) {
    const auto& l = p.labels.at(label);
    const auto s = t.measured.by_label().at(label).summary();
    out += fmt::format("| {} | {} | `{}` | {} | {} | {} | {} | {} | {} |\n", l.fingerprint.substr(0, 16),
                       l.kind, escape_cell(l.text), s.count, s.errors, ms(s.p50_ms), ms(s.p95_ms),
                       ms(s.p99_ms), ms(s.max_ms));
  }
  return out;
}

std::string markdown_comparison(const plan& p, const std::vector<target_outcome>& targets) {
  std::string out =
      "| Target | Rounds | Statements | Errors | Throughput (stmt/s) | p50 ms | p95 ms | p99 ms | max ms |\n";
  out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& t : targets) {
    const auto s = t.measured.total().summary();
    out +=
        fmt::format("| {} | {} | {} | {} | {:.0f} | {} | {} | {} | {} |\n", t.where.name, t.rounds, s.count,
                    t.error_count(), t.throughput(), ms(s.p50_ms), ms(s.p95_ms), ms(s.p99_ms), ms(s.max_ms));
  }
  if (targets.size() < 2) return out;
  const auto& base = targets.front();
  const auto b = base.measured.total().summary();
  out += fmt::format("\n| Ratio | Throughput | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|\n");
  for (std::size_t i = 1; i < targets.size(); ++i) {
    const auto s = targets[i].measured.total().summary();
    out += fmt::format("| {} ÷ {} | {} | {} | {} | {} |\n", targets[i].where.name, base.where.name,
                       ratio(targets[i].throughput(), base.throughput()), ratio(s.p50_ms, b.p50_ms),
                       ratio(s.p95_ms, b.p95_ms), ratio(s.p99_ms, b.p99_ms));
  }
  out += "\n| Kind |";
  for (const auto& t : targets) out += fmt::format(" {} p50 / p95 ms |", t.where.name);
  out += "\n|---|";
  for (std::size_t i = 0; i < targets.size(); ++i) out += "---:|";
  out += "\n";
  std::vector<std::map<std::string, latency_samples>> kinds;
  std::map<std::string, bool> names;
  for (const auto& t : targets) {
    kinds.push_back(by_kind(p, t.measured));
    for (const auto& [k, v] : kinds.back()) names[k] = true;
  }
  for (const auto& [kind, unused] : names) {
    out += fmt::format("| {} |", kind.empty() ? "-" : kind);
    for (const auto& k : kinds) {
      const auto it = k.find(kind);
      if (it == k.end()) {
        out += " - |";
        continue;
      }
      const auto s = it->second.summary();
      out += fmt::format(" {} / {} |", ms(s.p50_ms), ms(s.p95_ms));
    }
    out += "\n";
  }
  return out;
}

boost::json::value json_report(const plan& p, const std::vector<target_outcome>& targets,
                               boost::json::object run) {
  boost::json::array list;
  for (const auto& t : targets) {
    boost::json::object o;
    o["name"] = t.where.name;
    o["endpoint"] = t.where.describe();
    o["rounds"] = t.rounds;
    o["elapsed_s"] = t.elapsed_s;
    o["measured_s"] = t.measured.measured_seconds;
    o["errors"] = t.error_count();
    o["errors_outside_statements"] = t.measured.other_errors();
    o["sessions_completed"] = t.measured.sessions_completed;
    o["sessions_failed"] = t.measured.sessions_failed;
    o["total"] = summary_json(t.measured.total(), t.measured.measured_seconds);
    boost::json::object kinds;
    for (const auto& [kind, samples] : by_kind(p, t.measured))
      kinds[kind.empty() ? "-" : kind] = summary_json(samples, t.measured.measured_seconds);
    o["by_kind"] = std::move(kinds);
    boost::json::array prints;
    for (const auto& [label, samples] : t.measured.by_label()) {
      const auto& l = p.labels.at(label);
      auto entry = summary_json(samples, t.measured.measured_seconds);
      entry["fingerprint"] = l.fingerprint;
      entry["kind"] = l.kind;
      entry["statement"] = l.text;
      prints.push_back(std::move(entry));
    }
    o["by_fingerprint"] = std::move(prints);
    boost::json::array failures;
    for (const auto& f : t.failures) failures.push_back(boost::json::string(f));
    o["failures"] = std::move(failures);
    list.push_back(std::move(o));
  }
  run["targets"] = std::move(list);
  if (targets.size() > 1) {
    boost::json::array ratios;
    const auto& base = targets.front();
    const auto b = base.measured.total().summary();
    for (std::size_t i = 1; i < targets.size(); ++i) {
      const auto s = targets[i].measured.total().summary();
      const auto div = [](double x, double y) { return y > 0 ? x / y : 0.0; };
      ratios.push_back({{"target", targets[i].where.name},
                        {"baseline", base.where.name},
                        {"throughput", div(targets[i].throughput(), base.throughput())},
                        {"p50", div(s.p50_ms, b.p50_ms)},
                        {"p95", div(s.p95_ms, b.p95_ms)},
                        {"p99", div(s.p99_ms, b.p99_ms)}});
    }
    run["ratios"] = std::move(ratios);
  }
  return run;
}

namespace {

// The chart's layout: two panels side by side over the same vertical scale.
constexpr int chart_width = 960, chart_height = 400, plot_top = 60, plot_bottom = 330, left_x = 60,
              left_w = 520, right_x = 680, right_w = 240, plot_h = plot_bottom - plot_top;
constexpr const char* percentile_colors[] = {"#4e79a7", "#f28e2b", "#e15759"};
constexpr const char* percentile_names[] = {"p50", "p95", "p99"};

// Horizontal grid lines with their values, and the panel's caption.
void svg_grid(std::string& out, int x, int w, double max, const std::string& caption) {
  for (int i = 0; i <= 4; ++i) {
    const int y = plot_bottom - plot_h * i / 4;
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>\n", x, y, x + w, y);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x - 6, y + 4,
                       axis_label(max * i / 4));
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", x, plot_top - 12, caption);
}

// Left panel: latency percentiles, one group of three bars per target, and their legend.
void svg_latency_panel(std::string& out, const std::vector<target_outcome>& targets, double max_latency) {
  svg_grid(out, left_x, left_w, max_latency, "Latency per statement (ms)");
  const int n = static_cast<int>(std::max<std::size_t>(1, targets.size()));
  const int group_w = left_w / n;
  const int bar_w = std::max(4, (group_w - 20) / 3);
  for (int i = 0; i < static_cast<int>(targets.size()); ++i) {
    const auto s = targets[i].measured.total().summary();
    const double values[] = {s.p50_ms, s.p95_ms, s.p99_ms};
    const int gx = left_x + i * group_w + 10;
    for (int k = 0; k < 3; ++k) {
      const int h = static_cast<int>(plot_h * values[k] / max_latency);
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {} {:.3f} "
          "ms</title></rect>\n",
          gx + k * bar_w, plot_bottom - h, bar_w - 2, h, percentile_colors[k],
          xml_escape(targets[i].where.name), percentile_names[k], values[k]);
      // Small bars next to a large p99 would vanish; the value is written above each one.
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{:.3g}</text>\n",
                         gx + k * bar_w + (bar_w - 2) / 2, plot_bottom - h - 3, values[k]);
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", gx + 3 * bar_w / 2,
                       plot_bottom + 18, xml_escape(targets[i].where.name));
  }
  for (int k = 0; k < 3; ++k) {
    const int lx = left_x + k * 70;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\">{}</text>\n",
        lx, plot_bottom + 34, percentile_colors[k], lx + 16, plot_bottom + 45, percentile_names[k]);
  }
}

// Right panel: throughput, one bar per target.
void svg_throughput_panel(std::string& out, const std::vector<target_outcome>& targets, double max_rate) {
  svg_grid(out, right_x, right_w, max_rate, "Throughput (statements/s)");
  const int n = static_cast<int>(std::max<std::size_t>(1, targets.size()));
  const int rate_w = right_w / n;
  for (int i = 0; i < static_cast<int>(targets.size()); ++i) {
    const double rate = targets[i].throughput();
    const int h = static_cast<int>(plot_h * rate / max_rate);
    const int x = right_x + i * rate_w + 6;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#59a14f\"><title>{} "
        "{:.0f}/s</title></rect>\n",
        x, plot_bottom - h, std::max(4, rate_w - 12), h, xml_escape(targets[i].where.name), rate);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{:.0f}</text>\n",
                       x + (rate_w - 12) / 2, plot_bottom - h - 3, rate);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + (rate_w - 12) / 2,
                       plot_bottom + 18, xml_escape(targets[i].where.name));
  }
}

}  // namespace

std::string svg_chart(const std::vector<target_outcome>& targets, std::string_view title) {
  double max_latency = 0, max_rate = 0;
  for (const auto& t : targets) {
    max_latency = std::max(max_latency, t.measured.total().summary().p99_ms);
    max_rate = std::max(max_rate, t.throughput());
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{3}</text>\n",
      chart_width, chart_height, left_x, xml_escape(title));
  svg_latency_panel(out, targets, nice_ceiling(max_latency));
  svg_throughput_panel(out, targets, nice_ceiling(max_rate));
  out += "</svg>\n";
  return out;
}

}  // namespace phigate::replay

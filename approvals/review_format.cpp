#include "approvals/review_format.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <numeric>

namespace phigate::approvals {
namespace {

constexpr std::size_t column_floor_cells = 8;
constexpr std::size_t detail_label_cells = 14;
constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t seconds_per_minute = 60;
constexpr std::int64_t seconds_per_hour = 3600;
constexpr std::int64_t seconds_per_day = 86400;

// Length of the UTF-8 sequence starting with `lead`, or 0 when `lead` cannot start one.
std::size_t sequence_length(unsigned char lead) noexcept {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Splits `text` into printable code points. Text shown here comes from other people (statements, names,
// application_name), so C0/C1 controls and DEL become a space and broken UTF-8 becomes '?': nothing can
// reach the terminal as an escape sequence.
std::vector<std::string_view> printable_code_points(std::string_view text, std::string& storage) {
  storage.clear();
  storage.reserve(text.size());
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = sequence_length(lead);
    bool valid = n > 0 && i + n <= text.size();
    for (std::size_t k = 1; valid && k < n; ++k)
      valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    starts.push_back(storage.size());
    if (!valid) {
      storage.push_back('?');
      ++i;
      continue;
    }
    const bool c0 = n == 1 && (lead < 0x20 || lead == 0x7f);
    const bool c1 = n == 2 && lead == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if (c0 || c1) {
      storage.push_back(' ');
    } else {
      storage.append(text.substr(i, n));
    }
    i += n;
  }
  std::vector<std::string_view> out;
  out.reserve(starts.size());
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t end = k + 1 < starts.size() ? starts[k + 1] : storage.size();
    out.emplace_back(storage.data() + starts[k], end - starts[k]);
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string two_digits(std::int64_t n) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "%02lld", static_cast<long long>(n));
  return buf.data();
}

// "Label         value", the value wrapped under itself when it does not fit.
void add_field(std::vector<std::string>& lines, std::string_view label, std::string_view value,
               std::size_t width) {
  const std::string head = pad_text(label, detail_label_cells);
  const std::size_t value_width = width > detail_label_cells ? width - detail_label_cells : 0;
  auto wrapped =
      wrap_text(value.empty() ? "-" : value, width == 0 ? 0 : std::max<std::size_t>(value_width, 1), "");
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    lines.push_back((i == 0 ? head : std::string(detail_label_cells, ' ')) + wrapped[i]);
  }
}

std::string votes_needed_text(const request& r) {
  std::size_t approves = 0;
  for (const auto& v : r.votes) approves += v.approve ? 1 : 0;
  std::string text = std::to_string(approves) + " of " + std::to_string(r.rules.quorum) + " approval" +
                     (r.rules.quorum == 1 ? "" : "s");
  text += r.rules.groups.empty() ? ", any approver" : ", from " + join(r.rules.groups, ", ");
  return text;
}

}  // namespace

std::string_view column_title(review_column column) noexcept {
  switch (column) {
    case review_column::id:
      return "ID";
    case review_column::state:
      return "STATE";
    case review_column::age:
      return "AGE";
    case review_column::requester:
      return "REQUESTER";
    case review_column::kind:
      return "KIND";
    case review_column::database:
      return "DATABASE";
    case review_column::rule:
      return "RULE";
    case review_column::expires:
      return "EXPIRES IN";
  }
  return "?";
}

std::size_t display_width(std::string_view text) noexcept {
  std::size_t cells = 0;
  for (char c : text) cells += (static_cast<unsigned char>(c) & 0xc0) == 0x80 ? 0 : 1;
  return cells;
}

std::string fit_text(std::string_view text, std::size_t width) {
  std::string storage;
  auto points = printable_code_points(text, storage);
  std::string out;
  if (points.size() <= width) {
    for (auto p : points) out += p;
    return out;
  }
  if (width == 0) return out;
  for (std::size_t i = 0; i + 1 < width; ++i) out += points[i];
  out += '~';
  return out;
}

std::string pad_text(std::string_view text, std::size_t width) {
  std::string out = fit_text(text, width);
  out.append(width - display_width(out), ' ');
  return out;
}

std::string age_text(std::int64_t created_ms, std::int64_t now_ms) {
  const std::int64_t s = std::max<std::int64_t>(0, (now_ms - created_ms) / ms_per_second);
  if (s < seconds_per_minute) return std::to_string(s) + "s";
  if (s < seconds_per_hour) return std::to_string(s / seconds_per_minute) + "m";
  if (s < seconds_per_day) return std::to_string(s / seconds_per_hour) + "h";
  return std::to_string(s / seconds_per_day) + "d";
}

std::string countdown_text(std::int64_t expires_ms, std::int64_t now_ms) {
  if (expires_ms == 0) return "-";
  const std::int64_t left_ms = expires_ms - now_ms;
  if (left_ms <= 0) return "expired";
  // Rounded up: "0s" would read as expired while the request can still be approved.
  const std::int64_t s = (left_ms + ms_per_second - 1) / ms_per_second;
  if (s < seconds_per_minute) return std::to_string(s) + "s";
  if (s < seconds_per_hour)
    return std::to_string(s / seconds_per_minute) + ":" + two_digits(s % seconds_per_minute);
  if (s < seconds_per_day) {
    return std::to_string(s / seconds_per_hour) + "h" +
           two_digits(s % seconds_per_hour / seconds_per_minute) + "m";
  }
  return std::to_string(s / seconds_per_day) + "d" + two_digits(s % seconds_per_day / seconds_per_hour) + "h";
}

std::string clock_text(std::int64_t epoch_ms) {
  if (epoch_ms == 0) return "-";
  const std::time_t t = static_cast<std::time_t>(epoch_ms / ms_per_second);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf.data();
}

std::vector<std::string> table_cells(const request& r, const std::vector<review_column>& columns,
                                     std::int64_t now_ms) {
  std::vector<std::string> cells;
  cells.reserve(columns.size());
  for (auto column : columns) {
    switch (column) {
      case review_column::id:
        cells.push_back(r.id);
        break;
      case review_column::state:
        cells.emplace_back(to_string(r.state));
        break;
      case review_column::age:
        cells.push_back(age_text(r.created_ms, now_ms));
        break;
      case review_column::requester:
        cells.push_back(r.requester);
        break;
      case review_column::kind:
        cells.push_back(r.kind);
        break;
      case review_column::database:
        cells.push_back(r.database);
        break;
      case review_column::rule:
        cells.push_back(r.rule_id);
        break;
      case review_column::expires:
        cells.push_back(is_open(r.state) ? countdown_text(r.expires_ms, now_ms) : "-");
        break;
    }
  }
  return cells;
}

std::vector<std::string> table_titles(const std::vector<review_column>& columns) {
  std::vector<std::string> titles;
  titles.reserve(columns.size());
  for (auto column : columns) titles.emplace_back(column_title(column));
  return titles;
}

std::vector<std::size_t> fit_columns(const std::vector<std::vector<std::string>>& rows,
                                     std::size_t max_width) {
  std::size_t count = 0;
  for (const auto& row : rows) count = std::max(count, row.size());
  std::vector<std::size_t> widths(count, 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(fit_text(row[i], SIZE_MAX)));
  }
  if (max_width == 0 || count == 0) return widths;
  auto total = [&widths] {
    std::size_t sum = 0, shown = 0;
    for (auto w : widths) {
      sum += w;
      shown += w > 0 ? 1 : 0;
    }
    return sum + (shown > 0 ? shown - 1 : 0);
  };
  std::vector<std::size_t> floors(count);
  for (std::size_t i = 0; i < count; ++i) floors[i] = std::min(widths[i], column_floor_cells);
  while (total() > max_width) {
    std::size_t widest = count;
    for (std::size_t i = 0; i < count; ++i) {
      if (widths[i] > floors[i] && (widest == count || widths[i] > widths[widest])) widest = i;
    }
    if (widest == count) break;
    --widths[widest];
  }
  for (std::size_t i = count; i-- > 0 && total() > max_width;) widths[i] = 0;
  if (total() > max_width && widths[0] > 0) widths[0] = max_width;  // one column left: cut it to the screen
  return widths;
}

std::string format_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] == 0) continue;
    if (!line.empty()) line += ' ';
    line += pad_text(i < cells.size() ? std::string_view(cells[i]) : std::string_view(), widths[i]);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::vector<std::string> wrap_text(std::string_view text, std::size_t width, std::string_view indent) {
  std::vector<std::string> lines;
  const std::size_t indent_cells = display_width(indent);
  const std::size_t room = width > indent_cells ? width - indent_cells : (width == 0 ? 0 : 1);
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string storage;
    auto points = printable_code_points(text.substr(start, end - start), storage);
    if (room == 0 || points.size() <= room) {
      std::string line(indent);
      for (auto p : points) line += p;
      lines.push_back(std::move(line));
    } else {
      for (std::size_t i = 0; i < points.size();) {
        std::size_t end_of_line = std::min(points.size(), i + room);
        std::size_t next = end_of_line;
        // Break after the last space that fits, so words stay whole; a word longer than the line is cut.
        if (end_of_line < points.size()) {
          for (std::size_t k = end_of_line + 1; k > i + 1; --k) {
            if (points[k - 1] == " ") {
              end_of_line = k - 1;
              next = k;
              break;
            }
          }
        }
        std::string line(indent);
        for (std::size_t k = i; k < end_of_line; ++k) line += points[k];
        lines.push_back(std::move(line));
        i = next;
      }
    }
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> detail_lines(const request& r, std::int64_t now_ms, std::size_t width) {
  std::vector<std::string> lines;
  std::string header = r.id + "  " + std::string(to_string(r.state));
  if (is_open(r.state)) header += "  expires in " + countdown_text(r.expires_ms, now_ms);
  lines.push_back(fit_text(header, width == 0 ? SIZE_MAX : width));
  lines.emplace_back();
  const std::string groups = r.requester_groups.empty() ? "" : " (" + join(r.requester_groups, ", ") + ")";
  add_field(lines, "Requester", r.requester + groups, width);
  add_field(lines, "From", r.client_address + (r.application_name.empty() ? "" : ", " + r.application_name),
            width);
  add_field(lines, "Database", r.database + (r.upstream_role.empty() ? "" : " as " + r.upstream_role), width);
  add_field(lines, "Rule", r.rule_id, width);
  add_field(lines, "Reason", r.reason, width);
  add_field(lines, "Kind", r.kind, width);
  for (const auto& why : r.kind_reasons) add_field(lines, "", why, width);
  add_field(lines, "Masking",
            r.masking_lifted ? "LIFTED: approving shows " + r.requester + " unmasked values"
                             : "unchanged: results stay masked",
            width);
  if (!r.justification.empty()) add_field(lines, "Justification", r.justification, width);
  // The statement comes before the bookkeeping so that it is on the first screen of an 80x24 terminal.
  lines.emplace_back();
  lines.emplace_back("Statement");
  for (auto& line : wrap_text(r.statement, width, "  ")) lines.push_back(std::move(line));
  if (!r.parameters.empty()) {
    lines.emplace_back("Parameters");
    for (const auto& p : r.parameters) {
      for (auto& line : wrap_text(p, width, "  ")) lines.push_back(std::move(line));
    }
  }
  lines.emplace_back();
  add_field(lines, "Tables", join(r.tables, ", "), width);
  add_field(lines, "Columns", join(r.columns, ", "), width);
  add_field(lines, "Approval", votes_needed_text(r), width);
  if (r.votes.empty()) add_field(lines, "Votes", "none yet", width);
  for (std::size_t i = 0; i < r.votes.size(); ++i) {
    const auto& v = r.votes[i];
    std::string text = v.approver + (v.approve ? " approved " : " denied ") + clock_text(v.at_ms);
    if (!v.reason.empty()) text += ": " + v.reason;
    add_field(lines, i == 0 ? "Votes" : "", text, width);
  }
  add_field(lines, "Created", clock_text(r.created_ms) + " (" + age_text(r.created_ms, now_ms) + " ago)",
            width);
  add_field(lines, "Expires", clock_text(r.expires_ms), width);
  if (r.decided_ms != 0 || !r.decided_reason.empty()) {
    add_field(lines, "Decided",
              clock_text(r.decided_ms) + (r.decided_reason.empty() ? "" : ": " + r.decided_reason), width);
  }
  add_field(lines, "Digest", r.digest, width);
  return lines;
}

}  // namespace phigate::approvals

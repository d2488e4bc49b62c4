#include "approvals/request.hpp"

#include <array>
#include <boost/json.hpp>
#include <cstdio>

namespace phigate::approvals {
namespace json = boost::json;
namespace {

constexpr std::array<std::string_view, 6> state_names = {"pending", "approved",  "denied",
                                                         "expired", "abandoned", "consumed"};

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

// Readers for request_from_json: an absent key leaves the target untouched (true); a key of the wrong type
// makes the whole document invalid (false). The CLI must not act on a half-understood request.
bool read(const json::object& obj, std::string_view key, std::string& out) {
  const auto* v = obj.if_contains(key);
  if (!v) return true;
  const auto* s = v->if_string();
  if (!s) return false;
  out.assign(s->data(), s->size());
  return true;
}

bool read(const json::object& obj, std::string_view key, bool& out) {
  const auto* v = obj.if_contains(key);
  if (!v) return true;
  const auto* b = v->if_bool();
  if (!b) return false;
  out = *b;
  return true;
}

template <typename Integer>
bool read_integer(const json::object& obj, std::string_view key, Integer& out) {
  const auto* v = obj.if_contains(key);
  if (!v) return true;
  boost::system::error_code ec;
  const auto n = v->to_number<Integer>(ec);
  if (ec) return false;
  out = n;
  return true;
}

bool read(const json::object& obj, std::string_view key, std::vector<std::string>& out) {
  const auto* v = obj.if_contains(key);
  if (!v) return true;
  const auto* arr = v->if_array();
  if (!arr) return false;
  out.clear();
  for (const auto& item : *arr) {
    const auto* s = item.if_string();
    if (!s) return false;
    out.emplace_back(s->data(), s->size());
  }
  return true;
}

// A time key may be absent, null (0) or an ISO-8601 string.
bool read_time(const json::object& obj, std::string_view key, std::int64_t& out) {
  const auto* v = obj.if_contains(key);
  if (!v || v->is_null()) return true;
  const auto* s = v->if_string();
  if (!s) return false;
  const auto ms = parse_utc_ms(std::string_view(s->data(), s->size()));
  if (!ms) return false;
  out = *ms;
  return true;
}

bool read_rules(const json::object& obj, approval_rules& out) {
  const auto* v = obj.if_contains("approval");
  if (!v) return true;
  const auto* rules = v->if_object();
  if (!rules) return false;
  std::int64_t timeout_s = out.timeout.count();
  if (!read(*rules, "groups", out.groups) || !read_integer(*rules, "quorum", out.quorum) ||
      !read_integer(*rules, "timeout_s", timeout_s)) {
    return false;
  }
  out.timeout = std::chrono::seconds(timeout_s);
  return true;
}

std::optional<vote> vote_from_json(const json::value& v) {
  const auto* obj = v.if_object();
  if (!obj) return std::nullopt;
  vote out;
  std::string verdict;
  if (!read(*obj, "approver", out.approver) || !read(*obj, "verdict", verdict) ||
      !read(*obj, "reason", out.reason) || !read_time(*obj, "at", out.at_ms)) {
    return std::nullopt;
  }
  if (verdict == "approve") {
    out.approve = true;
  } else if (verdict == "deny") {
    out.approve = false;
  } else {
    return std::nullopt;
  }
  return out;
}

bool read_votes(const json::object& obj, std::vector<vote>& out) {
  const auto* v = obj.if_contains("votes");
  if (!v) return true;
  const auto* arr = v->if_array();
  if (!arr) return false;
  out.clear();
  for (const auto& item : *arr) {
    auto parsed = vote_from_json(item);
    if (!parsed) return false;
    out.push_back(std::move(*parsed));
  }
  return true;
}

bool read_identity_fields(const json::object& obj, request& r) {
  std::string state;
  if (!read(obj, "id", r.id) || !read(obj, "state", state) || !read_integer(obj, "seq", r.seq)) return false;
  const auto parsed_state = parse_request_state(state);
  if (r.id.empty() || !parsed_state) return false;
  r.state = *parsed_state;
  return read(obj, "requester", r.requester) && read(obj, "requester_groups", r.requester_groups) &&
         read(obj, "database", r.database) && read(obj, "upstream_role", r.upstream_role) &&
         read(obj, "client_address", r.client_address) && read(obj, "application_name", r.application_name) &&
         read(obj, "gateway_instance", r.gateway_instance) && read_integer(obj, "session_id", r.session_id);
}

bool read_statement_fields(const json::object& obj, request& r) {
  return read(obj, "rule_id", r.rule_id) && read(obj, "kind", r.kind) && read(obj, "reason", r.reason) &&
         read(obj, "kind_reasons", r.kind_reasons) && read(obj, "statement", r.statement) &&
         read(obj, "normalized", r.normalized) && read(obj, "parameters", r.parameters) &&
         read(obj, "tables", r.tables) && read(obj, "columns", r.columns) &&
         read(obj, "masking_lifted", r.masking_lifted) && read(obj, "justification", r.justification) &&
         read(obj, "digest", r.digest);
}

bool read_decision_fields(const json::object& obj, request& r) {
  return read_rules(obj, r.rules) && read_votes(obj, r.votes) && read_time(obj, "created_at", r.created_ms) &&
         read_time(obj, "expires_at", r.expires_ms) && read_time(obj, "decided_at", r.decided_ms) &&
         read(obj, "decided_reason", r.decided_reason);
}

// Fixed-width decimal field of a timestamp; false on any non-digit.
bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) noexcept {
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// ".5" is 500 ms, ".123456" is 123 ms: at most nine digits, the first three count.
std::optional<int> parse_fraction_ms(std::string_view fraction) noexcept {
  if (fraction.empty()) return 0;
  if (fraction.size() < 2 || fraction.size() > 10 || fraction[0] != '.') return std::nullopt;
  int ignored = 0;
  if (!parse_digits(fraction, 1, fraction.size() - 1, ignored)) return std::nullopt;
  int ms = 0;
  for (std::size_t i = 1; i <= 3; ++i) ms = ms * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  return ms;
}

}  // namespace

std::string_view to_string(request_state state) noexcept {
  return state_names[static_cast<std::size_t>(state)];
}

std::optional<request_state> parse_request_state(std::string_view text) noexcept {
  for (std::size_t i = 0; i < state_names.size(); ++i) {
    if (state_names[i] == text) return static_cast<request_state>(i);
  }
  return std::nullopt;
}

bool is_open(request_state state) noexcept {
  return state == request_state::pending || state == request_state::approved;
}

std::string format_utc_ms(std::int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds(epoch_ms)};
  const auto day_start = floor<days>(tp);
  const year_month_day ymd{day_start};
  const hh_mm_ss hms{tp - day_start};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<std::int64_t> parse_utc_ms(std::string_view text) noexcept {
  using namespace std::chrono;
  constexpr std::size_t seconds_end = 19;  // "YYYY-MM-DDTHH:MM:SS"
  if (text.size() < seconds_end + 1 || text.back() != 'Z') return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!parse_digits(text, 0, 4, y) || !parse_digits(text, 5, 2, mo) || !parse_digits(text, 8, 2, d) ||
      !parse_digits(text, 11, 2, h) || !parse_digits(text, 14, 2, mi) || !parse_digits(text, 17, 2, s)) {
    return std::nullopt;
  }
  const auto ms = parse_fraction_ms(text.substr(seconds_end, text.size() - seconds_end - 1));
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ms || !ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + milliseconds(*ms);
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

json::value to_json(const request& r) {
  json::array votes;
  for (const auto& v : r.votes) {
    votes.push_back(json::object{{"approver", v.approver},
                                 {"verdict", v.approve ? "approve" : "deny"},
                                 {"reason", v.reason},
                                 {"at", format_utc_ms(v.at_ms)}});
  }
  json::value decided_at = nullptr;
  if (r.decided_ms != 0) decided_at = format_utc_ms(r.decided_ms);
  return json::object{
      {"id", r.id},
      {"state", to_string(r.state)},
      {"seq", r.seq},
      {"requester", r.requester},
      {"requester_groups", string_array(r.requester_groups)},
      {"database", r.database},
      {"upstream_role", r.upstream_role},
      {"client_address", r.client_address},
      {"application_name", r.application_name},
      {"rule_id", r.rule_id},
      {"kind", r.kind},
      {"reason", r.reason},
      {"kind_reasons", string_array(r.kind_reasons)},
      {"statement", r.statement},
      {"normalized", r.normalized},
      {"parameters", string_array(r.parameters)},
      {"tables", string_array(r.tables)},
      {"columns", string_array(r.columns)},
      {"masking_lifted", r.masking_lifted},
      {"justification", r.justification},
      {"digest", r.digest},
      {"approval", json::object{{"groups", string_array(r.rules.groups)},
                                {"quorum", r.rules.quorum},
                                {"timeout_s", r.rules.timeout.count()}}},
      {"votes", std::move(votes)},
      {"created_at", format_utc_ms(r.created_ms)},
      {"expires_at", format_utc_ms(r.expires_ms)},
      {"decided_at", std::move(decided_at)},
      {"decided_reason", r.decided_reason},
  };
}

std::optional<request> request_from_json(const json::value& document) {
  const auto* obj = document.if_object();
  if (!obj || !obj->contains("id") || !obj->contains("state")) return std::nullopt;
  request r;
  if (!read_identity_fields(*obj, r) || !read_statement_fields(*obj, r) || !read_decision_fields(*obj, r)) {
    return std::nullopt;
  }
  return r;
}

}  // namespace phigate::approvals

#include "audit/canonical_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "audit/json_writer.hpp"

namespace phigate::audit {

namespace {

// Room for format_time's text ("2026-12-04T18:33:36.123456Z", longer only for years past 9999).
constexpr std::size_t time_text_bytes = 72;
// Writes format_time's text into `out` without allocating; returns it.
std::string_view write_time(std::chrono::system_clock::time_point t, char (&out)[time_text_bytes]);

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as RFC 3629 says).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

void append_escaped_byte(json_buffer& out, unsigned char c) {
  char buf[8];
  const int n = std::snprintf(buf, sizeof buf, "\\u%04x", c);
  out.put(std::string_view(buf, static_cast<std::size_t>(n)));
}

void write_actor(object_writer& o, const actor& who) {
  if (who.person.empty() && who.client_address.empty() && who.database.empty()) return;
  auto w = o.open("who");
  w.string("person", who.person);
  w.list("groups", &who.groups);
  w.string("client", who.client_address);
  w.string("application", who.application);
  w.string("database", who.database);
  w.string("upstream_role", who.upstream_role);
  w.string("upstream_user", who.upstream_user);
  w.close();
}

// What of a statement section a `statements` item leaves to the record's `common` entry it refers to.
enum class in_common { nothing, normalized_and_key, also_text_hmac };

void write_statement(object_writer& o, const statement_view& s, in_common shared = in_common::nothing) {
  const bool own_text_hmac = shared != in_common::also_text_hmac && !s.text_hmac.empty();
  if (shared != in_common::nothing && !own_text_hmac && s.params_hmac.empty() && !s.text) return;
  auto w = o.open("statement");
  if (shared == in_common::nothing) w.string("normalized", s.normalized);
  if (own_text_hmac) w.hex("text_hmac", s.text_hmac);
  w.hex("params_hmac", s.params_hmac);
  if (shared == in_common::nothing) w.string("key_id", s.key_id);
  if (s.text) w.string("text", *s.text, true);
  w.close();
}

void write_decision(object_writer& o, const decision_view& d) {
  auto w = o.open("decision");
  w.string("verdict", d.verdict);
  w.string("rule", d.rule_id);
  w.string("reason", d.reason);
  w.list("kinds", d.kinds);
  w.list("tables", d.tables);
  w.string("sqlstate", d.sqlstate);
  w.close();
}

void write_approval(object_writer& o, const approval_info& a) {
  auto w = o.open("approval");
  w.string("request", a.request_id);
  w.string("step", a.step);
  w.list("approvers", &a.approvers);
  w.string("reason", a.reason);
  w.string("digest", a.digest);
  w.close();
}

// `in_common`: the command and SQLSTATE are in the record's `common` entry the item refers to.
void write_outcome(object_writer& o, const outcome_info& r, bool in_common = false) {
  auto w = o.open("outcome");
  w.number("rows", r.rows);
  if (!in_common) {
    w.string("command", r.command);
    w.string("sqlstate", r.sqlstate);
  }
  w.number("duration_us", r.duration_us);
  w.counts("masked", r.masked);
  w.close();
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

}  // namespace

void write_json_string(json_buffer& out, std::string_view text) {
  // Printable ASCII other than the quote and the backslash: copied as is, with its neighbours in one copy.
  static constexpr auto verbatim = [] {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x7F; ++c) table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return table;
  }();
  out.room(text.size() + 2);  // every byte as is and the quotes; each escape asks for its own
  out.put('"');
  std::size_t run = 0;  // start of the pending run of bytes that need no escaping
  const auto flush = [&](std::size_t upto) { out.put(text.substr(run, upto - run)); };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (verbatim[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const auto n = utf8_sequence_length(text, i); n > 0) {
        i += n;
        continue;
      }
    }
    flush(i);
    out.room(6 + (text.size() - i) + 1);  // this escape, the rest as is, the closing quote
    if (c == '"' || c == '\\') {
      out.put('\\');
      out.put(static_cast<char>(c));
    } else if (c == '\n') {
      out.put("\\n");
    } else if (c == '\t') {
      out.put("\\t");
    } else {
      append_escaped_byte(out, c);  // other control bytes, DEL, bytes of invalid UTF-8
    }
    run = ++i;
  }
  flush(text.size());
  out.put('"');
}

void append_json_string(std::string& out, std::string_view text) {
  json_buffer buffer(out);
  write_json_string(buffer, text);
  buffer.finish();
}

namespace {

// A record's body starts alike for every kind: version, place in the chain, time, kind.
void write_head(object_writer& o, const record_item& e, event_kind kind, std::uint64_t seq,
                std::string_view prev_hash_hex) {
  o.number("v", 1);
  o.number("seq", seq);
  char time[time_text_bytes];
  o.string("prev", prev_hash_hex, true);
  o.plain("time", write_time(e.time, time));
  o.plain("kind", to_string(kind));
  if (e.session != 0) o.number("session", e.session);
  if (e.who) write_actor(o, *e.who);
}

void write_sections(object_writer& o, const record_item& e) {
  if (e.statement) write_statement(o, *e.statement);
  if (e.decision) write_decision(o, *e.decision);
  if (e.approval) write_approval(o, *e.approval);
  if (e.outcome) write_outcome(o, *e.outcome);
}

// What several items of a `statements` record repeat: the normalized text and key id of the statement and
// the whole decision section, written once in the record's `common` list, with the text's HMAC when every
// item that shares the part has the same text (a prepared statement's executions) and the outcome's command
// and SQLSTATE when every such item that has an outcome has the same ones (an item whose outcome is still to
// come has none). Items that share such a part with another item refer to it by index; the others are
// written whole.
struct common_entry {
  const record_item* first = nullptr;     ///< the first item that has the part
  bool text = true;                       ///< its items' text_hmac is the same
  const outcome_info* outcome = nullptr;  ///< the first outcome among its items
  bool same_outcome = true;               ///< every outcome among them has its command and SQLSTATE
};

struct common_parts {
  std::vector<common_entry> entries;
  std::vector<int> of_item;  ///< the entry each item refers to, or -1
};

bool has_common_part(const record_item& e) {
  return e.statement && e.decision && !e.approval;
}

bool same_common_part(const record_item& a, const record_item& b) {
  return same_text(a.statement->normalized, b.statement->normalized) &&
         same_text(a.statement->key_id, b.statement->key_id) && *a.decision == *b.decision;
}

// Adds `item`'s outcome (if any) to what the entry's items have in common.
void add_outcome(common_entry& c, const record_item& item) {
  if (!item.outcome) return;
  if (!c.outcome) {
    c.outcome = item.outcome;
    return;
  }
  c.same_outcome = c.same_outcome && c.outcome->command == item.outcome->command &&
                   c.outcome->sqlstate == item.outcome->sqlstate;
}

bool shares_outcome(const common_entry& c) {
  return c.outcome && c.same_outcome;
}

common_parts find_common_parts(const std::vector<const record_item*>& items) {
  constexpr std::size_t max_candidates = 16;  // a session's statements of one transaction repeat a few
  std::vector<common_entry> candidates;
  std::vector<int> candidate_of(items.size(), -1);
  std::vector<std::size_t> uses;
  std::size_t last = 0;  // consecutive items mostly share their part: try the last one found first
  for (std::size_t i = 0; i < items.size(); ++i) {
    const record_item& item = *items[i];
    if (!has_common_part(item)) continue;
    std::size_t k = last;
    if (k >= candidates.size() || !same_common_part(*candidates[k].first, item)) {
      k = 0;
      while (k < candidates.size() && (k == last || !same_common_part(*candidates[k].first, item))) ++k;
    }
    if (k == candidates.size()) {
      if (candidates.size() == max_candidates) continue;
      candidates.push_back({&item});
      uses.push_back(0);
    } else {
      auto& c = candidates[k];
      c.text = c.text && same_text(c.first->statement->text_hmac, item.statement->text_hmac);
    }
    add_outcome(candidates[k], item);
    candidate_of[i] = static_cast<int>(k);
    last = k;
    ++uses[k];
  }
  common_parts out;
  std::vector<int> entry_of(candidates.size(), -1);
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    if (uses[k] < 2) continue;  // a part no other item repeats stays in its item
    entry_of[k] = static_cast<int>(out.entries.size());
    out.entries.push_back(candidates[k]);
  }
  out.of_item.resize(items.size(), -1);
  for (std::size_t i = 0; i < items.size(); ++i)
    if (candidate_of[i] >= 0) out.of_item[i] = entry_of[static_cast<std::size_t>(candidate_of[i])];
  return out;
}

// Large enough for a decision record with its actor (700-900 bytes) and small enough for glibc to serve
// from its small bins: a request of 1 KiB or more first consolidates the thread's fast bins.
constexpr std::size_t body_reserve = 960;
// About what one item of a `statements` record takes when it refers to a `common` entry (a prepared
// statement's execution: 190-200 bytes); the body grows when its items take more.
constexpr std::size_t item_reserve = 224;

}  // namespace

std::string encode_record_body(const event& e, std::uint64_t seq, std::string_view prev_hash_hex) {
  return encode_record_body(view_of(e), seq, prev_hash_hex);
}

std::string encode_record_body(const record_item& e, std::uint64_t seq, std::string_view prev_hash_hex) {
  std::string out;
  out.reserve(body_reserve);
  json_buffer buffer(out);
  object_writer o(buffer);
  write_head(o, e, e.kind, seq, prev_hash_hex);
  o.string("result", e.result);
  o.string("detail", e.detail);
  write_sections(o, e);
  o.close();
  buffer.finish();
  return out;
}

std::string encode_group_body(const std::vector<const record_item*>& items, std::uint64_t seq,
                              std::string_view prev_hash_hex) {
  std::string out;
  out.reserve(body_reserve + item_reserve * items.size());
  json_buffer buffer(out);
  object_writer o(buffer);
  write_head(o, *items.front(), event_kind::statements, seq, prev_hash_hex);
  const auto common = find_common_parts(items);
  if (!common.entries.empty()) {
    o.objects("common", common.entries.size(), [&](object_writer& entry, std::size_t k) {
      const common_entry& shared = common.entries[k];
      const record_item& e = *shared.first;
      auto statement = entry.open("statement");
      statement.string("normalized", e.statement->normalized);
      if (shared.text) statement.hex("text_hmac", e.statement->text_hmac);
      statement.string("key_id", e.statement->key_id);
      statement.close();
      write_decision(entry, *e.decision);
      if (shares_outcome(shared)) {
        auto outcome = entry.open("outcome");
        outcome.string("command", shared.outcome->command);
        outcome.string("sqlstate", shared.outcome->sqlstate);
        outcome.close();
      }
    });
  }
  o.objects("items", items.size(), [&](object_writer& item, std::size_t i) {
    char time[time_text_bytes];
    item.plain("time", write_time(items[i]->time, time));
    item.plain("kind", to_string(items[i]->kind));
    const record_item& e = *items[i];
    const int entry = common.of_item[i];
    if (entry < 0) {
      write_sections(item, e);
      return;
    }
    const common_entry& shared = common.entries[static_cast<std::size_t>(entry)];
    item.number("common", static_cast<std::uint64_t>(entry));
    write_statement(item, *e.statement,
                    shared.text ? in_common::also_text_hmac : in_common::normalized_and_key);
    if (e.outcome) write_outcome(item, *e.outcome, shares_outcome(shared));
  });
  o.close();
  buffer.finish();
  return out;
}

std::int64_t to_unix_us(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string format_time(std::chrono::system_clock::time_point t) {
  char text[time_text_bytes];
  return std::string(write_time(t, text));
}

namespace {

std::string_view write_time(std::chrono::system_clock::time_point t, char (&out)[time_text_bytes]) {
  const std::int64_t us = to_unix_us(t);
  std::int64_t secs = us / 1'000'000;
  std::int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  // The writer formats thousands of times per second, nearly all within the second it formatted last.
  thread_local std::int64_t cached_secs = -1;
  thread_local char cached[64];
  if (secs != cached_secs) {
    const std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  const std::size_t length = std::strlen(cached);
  std::memcpy(out, cached, length);
  char* digits = out + length;
  std::memcpy(digits, ".000000Z", 8);
  for (int i = 6; i >= 1; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
  return std::string_view(out, length + 8);
}

}  // namespace

std::optional<std::int64_t> parse_time_us(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  std::int64_t micros = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!read_digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
        !read_digits(text, pos, 2, minute))
      return std::nullopt;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!read_digits(text, pos, 2, second)) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          micros += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_digits(text, pos, 2, oh)) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (!read_digits(text, pos, 2, om)) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1'000'000 + micros;
}

}  // namespace phigate::audit

#include "gateway/replay_plan.hpp"

#include <functional>
#include <map>
#include <unordered_map>

#include "policy/analyzer.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::replay {

namespace {

constexpr std::size_t max_label_text_chars = 100;

std::string shortened(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > max_label_text_chars) text = text.substr(0, max_label_text_chars - 3) + "...";
  return text;
}

std::string hex64(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = digits[v & 0xf];
  return out;
}

// Labels every distinct SQL text once; the timed run only carries label ids.
class labeller {
 public:
  explicit labeller(std::vector<statement_label>& labels) : labels_(labels) {}

  std::uint32_t id_for(std::string_view sql) {
    const auto it = ids_.find(std::string(sql));
    if (it != ids_.end()) return it->second;
    auto label = label_sql(sql);
    // Texts that differ only in literals share one label, so the per-fingerprint table has one row for them.
    auto [by_print, added] =
        by_fingerprint_.emplace(label.fingerprint, static_cast<std::uint32_t>(labels_.size()));
    if (added) labels_.push_back(std::move(label));
    ids_.emplace(std::string(sql), by_print->second);
    return by_print->second;
  }

 private:
  std::vector<statement_label>& labels_;
  std::unordered_map<std::string, std::uint32_t> ids_;             // exact text → label
  std::unordered_map<std::string, std::uint32_t> by_fingerprint_;  // fingerprint → label
};

bool is_copy_in_message(char type) {
  return type == pg::frontend_type::copy_data || type == pg::frontend_type::copy_done ||
         type == pg::frontend_type::copy_fail;
}

// Cuts one session into steps; statement and portal names are followed as the server would.
class session_cutter {
 public:
  session_cutter(const session& s, labeller& labels) : session_(s), labels_(labels) {}

  std::vector<step> cut() {
    const auto& messages = session_.messages;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const message& m = messages[i];
      if (current_.bytes.empty()) current_.offset_us = m.time_us - session_.start_us;
      current_.bytes += m.bytes;
      if (!add(m)) continue;
      // The client's COPY FROM STDIN data follows the message that started the COPY.
      while (i + 1 < messages.size() && is_copy_in_message(messages[i + 1].type()))
        current_.copy_in += messages[++i].bytes;
      finish();
    }
    if (!current_.bytes.empty()) finish();
    return std::move(steps_);
  }

 private:
  // Adds the message's meaning to the current step; true when the client then waited for the server.
  bool add(const message& m) {
    auto f = pg::split_frame(as_bytes(m.bytes), m.bytes.size());
    if (!f) return false;
    switch (m.type()) {
      case pg::frontend_type::parse:
        if (auto p = pg::parse::decode(*f)) statements_[std::string(p->name)] = std::string(p->sql);
        return false;
      case pg::frontend_type::bind:
        if (auto b = pg::bind::decode(*f))
          portals_[std::string(b->portal)] = statements_[std::string(b->statement)];
        return false;
      case pg::frontend_type::execute:
        if (auto e = pg::execute::decode(*f))
          current_.statements.push_back({labels_.id_for(portals_[std::string(e->portal)]), false});
        return false;
      case pg::frontend_type::query:
        if (auto q = pg::query::decode(*f)) current_.statements.push_back({labels_.id_for(q->sql), true});
        ++current_.ready_expected;
        return true;
      case pg::frontend_type::function_call:
        current_.statements.push_back({labels_.id_for("-- function call"), true});
        ++current_.ready_expected;
        return true;
      case pg::frontend_type::sync:
        ++current_.ready_expected;
        return true;
      case pg::frontend_type::terminate:
        current_.terminates = true;
        return true;
      default:
        return false;
    }
  }

  void finish() {
    steps_.push_back(std::move(current_));
    current_ = step{};
  }

  const session& session_;
  labeller& labels_;
  std::map<std::string, std::string> statements_;  // prepared statement name → SQL
  std::map<std::string, std::string> portals_;     // portal name → SQL
  step current_;
  std::vector<step> steps_;
};

}  // namespace

statement_label label_sql(std::string_view sql) {
  const auto a = policy::analyze_sql(sql);
  statement_label label;
  if (!a.ok() || a.statements.empty()) {
    label.kind = a.ok() ? "empty" : "unknown";
    label.fingerprint = "text:" + hex64(std::hash<std::string_view>{}(sql));
    label.text = shortened(std::string(sql));
    return label;
  }
  label.kind = a.kinds.to_string();
  for (const auto& st : a.statements) {
    if (!label.fingerprint.empty()) {
      label.fingerprint += "+";
      label.text += "; ";
    }
    label.fingerprint += st.fingerprint_hex;
    label.text += st.normalized;
  }
  label.text = shortened(std::move(label.text));
  return label;
}

plan make_plan(const capture& c) {
  plan out;
  labeller labels(out.labels);
  const std::int64_t first = c.first_us();
  for (const auto& s : c.sessions) {
    session_plan sp{s.key, s.user, s.database, s.start_us - first, session_cutter(s, labels).cut()};
    for (const auto& st : sp.steps) out.statement_count += st.statements.size();
    if (!s.messages.empty()) out.span_us = std::max(out.span_us, s.messages.back().time_us - first);
    out.sessions.push_back(std::move(sp));
  }
  return out;
}

}  // namespace phigate::replay

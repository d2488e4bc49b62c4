#include "gateway/audit_facts.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "policy/analyzer.hpp"

namespace phigate {

namespace {

statement_summary summarize(const policy::analysis& analysis) {
  statement_summary out;
  for (const auto& st : analysis.statements)
    if (!st.normalized.empty()) out.normalized += (out.normalized.empty() ? "" : "; ") + st.normalized;
  for (const auto& st : analysis.statements) {
    for (const auto* list : {&st.tables_read, &st.tables_written}) {
      for (const auto& t : *list) {
        auto name = t.qualified();
        if (std::find(out.tables.begin(), out.tables.end(), name) == out.tables.end())
          out.tables.push_back(std::move(name));
      }
    }
  }
  return out;
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Writer thread: the text's keyed hash, worked out once for every record about it.
const std::string& text_hmac(audit_statement_text& text, const audit::hmac_key& key) {
  if (text.text_hmac.empty()) text.text_hmac = key.digest_hex(text.sql);
  return text.text_hmac;
}

// Writer thread: the names of `kinds` ("read,export" as a list), worked out once per set of kinds.
const std::vector<std::string>& kind_names(policy::kind_set kinds) {
  thread_local std::unordered_map<std::uint16_t, std::vector<std::string>> known;
  auto [it, added] = known.try_emplace(kinds.bits());
  if (added) {
    const std::string names = kinds.to_string();
    for (std::size_t start = 0; start < names.size();) {
      const auto comma = names.find(',', start);
      it->second.push_back(
          names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      start = comma == std::string::npos ? names.size() : comma + 1;
    }
  }
  return it->second;
}

// Writer thread: the keyed hash of the fact's parameters appended to `hmacs` (which must have room for it
// without growing: earlier views point into it); "" without parameters.
std::string_view params_hmac(const statement_fact& fact, const audit::hmac_key& key, std::string& hmacs) {
  if (!fact.decided || !fact.params) return {};
  const std::size_t at = hmacs.size();
  key.append_digest_hex(hmacs, *fact.params);
  return std::string_view(hmacs).substr(at);
}

// Writer thread: the record of one fact: `decision` (no outcome yet), `statement` (decision and outcome)
// or `outcome` (its decision was recorded before).
audit::record_item view_of_fact(const statement_fact& fact, const audit_hashing& h, std::uint64_t session,
                                const audit::actor* who, std::string_view params) {
  audit::record_item e;
  e.kind = !fact.decided  ? audit::event_kind::outcome
           : fact.outcome ? audit::event_kind::statement
                          : audit::event_kind::decision;
  e.time = fact.time;
  e.session = session;
  e.who = who;
  audit::statement_view s;
  s.key_id = h.key->id();
  s.text_hmac = text_hmac(*fact.text, *h.key);
  if (fact.decided) {
    const auto& v = fact.verdict;
    audit::decision_view d{v.verdict, v.rule_id, v.reason, nullptr, nullptr, v.sqlstate};
    if (fact.summary) {
      s.normalized = fact.summary->normalized;
      d.kinds = &kind_names(fact.kinds);
      d.tables = &fact.summary->tables;
    }
    s.params_hmac = params;
    if (h.keep_literals) s.text = &fact.text->sql;
    e.decision = d;
  }
  e.statement = s;
  if (fact.outcome) e.outcome = &*fact.outcome;
  return e;
}

// The log's handle on a batch: the session keeps filling the batch through its own pointer.
class queued_batch final : public audit::pending_event {
 public:
  explicit queued_batch(std::shared_ptr<statement_batch> batch) : batch_(std::move(batch)) {}
  void items(std::vector<audit::record_item>& out) override { batch_->items(out); }

 private:
  std::shared_ptr<statement_batch> batch_;
};

class queued_fact final : public audit::pending_event {
 public:
  queued_fact(audit_hashing h, std::uint64_t session, std::shared_ptr<const audit::actor> who,
              statement_fact fact)
      : hashing_(h), session_(session), who_(std::move(who)), fact_(std::move(fact)) {}
  void items(std::vector<audit::record_item>& out) override {
    hmac_.clear();
    hmac_.reserve(audit::hmac_hex_length);
    out.push_back(
        view_of_fact(fact_, hashing_, session_, who_.get(), params_hmac(fact_, *hashing_.key, hmac_)));
  }

 private:
  audit_hashing hashing_;
  std::uint64_t session_;
  std::shared_ptr<const audit::actor> who_;
  statement_fact fact_;
  std::string hmac_;
};

}  // namespace

// Summaries of single statements by normalized text, per session thread, so a statement seen before costs
// one lookup and the analysis (a fresh copy per statement for texts that differ only in literals) is never
// kept past the decide step. The normalized text fixes the relations: literals are all it leaves out. Only
// normalized text is kept, never literals. Several statements in one Query are summarized each time.
shared_summary summary_of(const std::shared_ptr<const policy::analysis>& analysis) {
  constexpr std::size_t max_entries = 1024;
  thread_local std::unordered_map<std::string, shared_summary, string_hash, std::equal_to<>> known;
  // A prepared statement's executions share one analysis (the analysis cache's): its summary is the last one.
  // Watched, not owned, so that this thread keeps no analysis alive; an analysis that shares the watched
  // one's control block is that analysis (the block lives while it is watched, so no other reuses it).
  thread_local std::weak_ptr<const policy::analysis> last_analysis;
  thread_local shared_summary last_summary;
  if (!last_analysis.owner_before(analysis) && !analysis.owner_before(last_analysis)) return last_summary;
  if (analysis->statements.size() != 1 || analysis->statements.front().normalized.empty())
    return std::make_shared<const statement_summary>(summarize(*analysis));
  const std::string_view normalized = analysis->statements.front().normalized;
  auto it = known.find(normalized);
  if (it == known.end()) {
    if (known.size() >= max_entries) known.clear();
    it =
        known
            .emplace(std::string(normalized), std::make_shared<const statement_summary>(summarize(*analysis)))
            .first;
  }
  last_analysis = analysis;
  last_summary = it->second;
  return it->second;
}

bool statement_batch::complete(std::size_t index, audit::outcome_info& result) {
  std::lock_guard lock(mutex_);
  if (!open_ || index >= facts_.size() || facts_[index].outcome) return false;
  facts_[index].outcome = std::move(result);
  return true;
}

void statement_batch::close() {
  std::lock_guard lock(mutex_);
  open_ = false;
}

std::size_t statement_batch::size() {
  std::lock_guard lock(mutex_);
  return facts_.size();
}

void statement_batch::items(std::vector<audit::record_item>& out) {
  {
    // From here the session starts a new batch; it never waits for this one's hashing.
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  hmacs_.clear();
  hmacs_.reserve(audit::hmac_hex_length * facts_.size());
  for (const auto& fact : facts_)
    out.push_back(
        view_of_fact(fact, hashing_, session_, who_.get(), params_hmac(fact, *hashing_.key, hmacs_)));
}

std::unique_ptr<audit::pending_event> queue_batch(std::shared_ptr<statement_batch> batch) {
  return std::make_unique<queued_batch>(std::move(batch));
}

std::unique_ptr<audit::pending_event> single_fact(audit_hashing h, std::uint64_t session,
                                                  std::shared_ptr<const audit::actor> who,
                                                  statement_fact fact) {
  return std::make_unique<queued_fact>(h, session, std::move(who), std::move(fact));
}

}  // namespace phigate

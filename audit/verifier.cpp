#include "audit/verifier.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <fstream>
#include <map>

#include "audit/canonical_json.hpp"

namespace phigate::audit {

namespace {

constexpr std::size_t page_records = 10'000;

// The fields of a body that tie it to its place in the chain and to its index columns.
struct body_fields {
  std::uint64_t seq = 0;
  std::string prev;
  std::string time;
  std::string kind;
  std::string person;
};

std::optional<body_fields> read_body(const std::string& body) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  body_fields f;
  const auto* seq = o.if_contains("seq");
  if (!seq || (!seq->is_uint64() && !seq->is_int64())) return std::nullopt;
  f.seq = seq->is_uint64() ? seq->as_uint64() : static_cast<std::uint64_t>(seq->as_int64());
  const auto text = [&](const boost::json::object& obj, const char* key) -> std::string {
    const auto* v = obj.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  f.prev = text(o, "prev");
  f.time = text(o, "time");
  f.kind = text(o, "kind");
  if (const auto* who = o.if_contains("who"); who && who->is_object())
    f.person = text(who->as_object(), "person");
  return f;
}

// One checkpoint to check, with where it came from for the message.
struct pending_checkpoint {
  checkpoint c;
  std::string source;
  bool signature_ok = true;
};

// Checks one record against the chain so far; returns the problem, if any.
std::optional<verify_problem> check_record(const stored_record& r, std::uint64_t expected_seq,
                                           const std::string& prev) {
  if (r.seq > expected_seq) {
    const std::string range = r.seq - 1 == expected_seq ? "record " + std::to_string(expected_seq) + " is"
                                                        : "records " + std::to_string(expected_seq) + ".." +
                                                              std::to_string(r.seq - 1) + " are";
    return verify_problem{expected_seq, range + " missing (deleted)"};
  }
  if (sha256_hex(r.body) != r.hash)
    return verify_problem{
        r.seq, "record " + std::to_string(r.seq) + " was altered: its content does not match its hash"};
  const auto f = read_body(r.body);
  if (!f) return verify_problem{r.seq, "record " + std::to_string(r.seq) + " is not a valid audit record"};
  if (f->seq != r.seq)
    return verify_problem{r.seq, "record " + std::to_string(r.seq) +
                                     " is out of place: it was written as record " + std::to_string(f->seq) +
                                     " (records reordered or inserted)"};
  if (f->prev != prev)
    return verify_problem{r.seq,
                          "record " + std::to_string(r.seq) +
                              " does not follow the record before it: the chain is broken (a record was "
                              "deleted, inserted or replaced)"};
  const auto time_us = parse_time_us(f->time);
  if (!time_us || *time_us != r.time_us || f->kind != r.kind || f->person != r.person)
    return verify_problem{r.seq, "record " + std::to_string(r.seq) +
                                     " was altered: its time, kind or person columns differ from the record"};
  return std::nullopt;
}

}  // namespace

std::string verify_report::to_text() const {
  std::string out;
  if (problem) {
    out += "TAMPERED: " + problem->what + "\n";
    out += "first bad record: " + std::to_string(problem->seq) + "\n";
  } else {
    out += "OK: " + std::to_string(records) + " records, chain intact\n";
  }
  out += "checkpoints checked: " + std::to_string(checkpoints_checked) + ", verified through record " +
         std::to_string(verified_through) + "\n";
  for (const auto& note : notes) out += note + "\n";
  return out;
}

namespace {

// Every checkpoint to hold the chain against, with its signature checked when there is a key; bad
// signatures become problems.
std::vector<pending_checkpoint> gather_checkpoints(std::vector<checkpoint> stored,
                                                   const verify_options& options,
                                                   std::vector<verify_problem>& problems) {
  std::vector<pending_checkpoint> checks;
  for (auto& c : stored) checks.push_back({std::move(c), "store"});
  for (const auto& c : options.external) checks.push_back({c, "checkpoint file"});
  for (auto& p : checks) {
    if (!options.key) continue;
    p.signature_ok =
        p.c.key_id == options.key->key_id() && options.key->verify_hex(p.c.signed_message(), p.c.signature);
    if (!p.signature_ok)
      problems.push_back({p.c.tree_size, "checkpoint at record " + std::to_string(p.c.tree_size) + " (" +
                                             p.source + ") has an invalid signature for this public key"});
  }
  return checks;
}

// Recomputes the chain page by page, checking each checkpoint at its record. True when it reached the end
// without a problem that stops the walk.
bool walk_chain(store& s, const std::multimap<std::uint64_t, pending_checkpoint*>& by_size,
                verify_report& report, std::vector<verify_problem>& problems) {
  std::string prev(genesis_hash);
  std::uint64_t expected = 1;
  record_filter filter;
  filter.limit = page_records;
  while (true) {
    std::vector<stored_record> page;
    if (auto problem = s.read(filter, page); !problem.empty()) {
      problems.push_back({expected, problem});
      return true;
    }
    if (page.empty()) return true;
    for (const auto& r : page) {
      if (auto p = check_record(r, expected, prev)) {
        problems.push_back(*p);
        return false;
      }
      ++report.records;
      report.last_seq = r.seq;
      prev = r.hash;
      expected = r.seq + 1;
      bool rewritten = false;
      const auto [lo, hi] = by_size.equal_range(r.seq);
      for (auto it = lo; it != hi; ++it) {
        ++report.checkpoints_checked;
        if (it->second->c.head_hash != r.hash) {
          problems.push_back({r.seq, "records up to " + std::to_string(r.seq) +
                                         " do not match the signed checkpoint (" + it->second->source +
                                         "): the log was rewritten"});
          rewritten = true;
        } else if (it->second->signature_ok) {
          report.verified_through = std::max(report.verified_through, r.seq);
        }
      }
      if (rewritten) return false;
    }
    filter.after_seq = page.back().seq;
  }
}

// A checkpoint beyond the last record means the tail was cut off.
void check_truncation(const std::multimap<std::uint64_t, pending_checkpoint*>& by_size, verify_report& report,
                      std::vector<verify_problem>& problems) {
  for (const auto& [size, p] : by_size) {
    if (size <= report.last_seq) continue;
    ++report.checkpoints_checked;
    problems.push_back({report.last_seq + 1, "the log was truncated: a checkpoint (" + p->source +
                                                 ") covers " + std::to_string(size) +
                                                 " records but the log ends at record " +
                                                 std::to_string(report.last_seq)});
    return;
  }
}

void add_notes(verify_report& report, const verify_options& options, bool any_checkpoint) {
  if (!options.key && any_checkpoint)
    report.notes.push_back(
        "signatures not checked: give --public-key (or --config with audit.signing_key_file)");
  if (!any_checkpoint) report.notes.push_back("no checkpoints: nothing is covered by a signature");
  if (report.last_seq > report.verified_through)
    report.notes.push_back(
        "unverified tail: records " + std::to_string(report.verified_through + 1) + ".." +
        std::to_string(report.last_seq) +
        " come after the last checkpoint; their chain is intact but a cut-off tail here would "
        "leave no trace");
}

}  // namespace

verify_report verify_log(store& s, const verify_options& options) {
  verify_report report;
  std::vector<checkpoint> stored;
  if (auto problem = s.checkpoints(stored); !problem.empty()) {
    report.problem = verify_problem{0, problem};
    return report;
  }
  std::vector<verify_problem> problems;
  auto checks = gather_checkpoints(std::move(stored), options, problems);
  std::multimap<std::uint64_t, pending_checkpoint*> by_size;
  for (auto& p : checks) by_size.emplace(p.c.tree_size, &p);
  if (walk_chain(s, by_size, report, problems)) check_truncation(by_size, report, problems);
  if (problems.empty()) {
    // Only over intact records: a broken chain already names the first bad record.
    std::uint64_t seq = 0;
    if (auto problem = s.check_index(seq); !problem.empty()) problems.push_back({seq, problem});
  }
  if (!problems.empty()) {
    report.problem =
        *std::min_element(problems.begin(), problems.end(),
                          [](const verify_problem& a, const verify_problem& b) { return a.seq < b.seq; });
    return report;
  }
  add_notes(report, options, !checks.empty());
  return report;
}

std::string read_checkpoint_file(const std::string& path, std::vector<checkpoint>& out) {
  std::ifstream in(path);
  if (!in) return "cannot read checkpoint file " + path;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto c = checkpoint::from_json_line(line);
    if (!c) return path + ":" + std::to_string(number) + ": not a checkpoint";
    out.push_back(std::move(*c));
  }
  return {};
}

}  // namespace phigate::audit

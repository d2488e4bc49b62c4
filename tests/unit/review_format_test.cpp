#include "approvals/review_format.hpp"

#include <catch2/catch.hpp>

using namespace phigate::approvals;

namespace {

constexpr std::int64_t t0 = 1'796'400'000'000;  // 2026-12-04 ... UTC, a fixed "now"

request sample() {
  request r;
  r.id = "r-abcdefghij";
  r.state = request_state::pending;
  r.requester = "bob";
  r.requester_groups = {"clinical"};
  r.database = "clinic";
  r.upstream_role = "clinical_reader";
  r.client_address = "127.0.0.1:50312";
  r.application_name = "psql";
  r.rule_id = "exports-held";
  r.kind = "export";
  r.reason = "exports need a second pair of eyes";
  r.kind_reasons = {"export: COPY ... TO STDOUT"};
  r.statement = "COPY patients TO STDOUT";
  r.tables = {"public.patients"};
  r.rules.groups = {"approvers"};
  r.rules.quorum = 2;
  r.created_ms = t0 - 125'000;
  r.expires_ms = t0 + 14 * 60'000 + 59'000;
  return r;
}

}  // namespace

TEST_CASE("countdown text shows seconds, minutes:seconds, hours and days left") {
  CHECK(countdown_text(t0 + 59'000, t0) == "59s");
  CHECK(countdown_text(t0 + 1, t0) == "1s");  // rounded up: never "0s" while still open
  CHECK(countdown_text(t0 + 60'000, t0) == "1:00");
  CHECK(countdown_text(t0 + 14 * 60'000 + 59'000, t0) == "14:59");
  CHECK(countdown_text(t0 + 3'600'000 + 5 * 60'000, t0) == "1h05m");
  CHECK(countdown_text(t0 + 2 * 86'400'000LL + 3 * 3'600'000, t0) == "2d03h");
}

TEST_CASE("countdown text says expired once the time is reached and dash without an expiry") {
  CHECK(countdown_text(t0, t0) == "expired");
  CHECK(countdown_text(t0 - 5'000, t0) == "expired");
  CHECK(countdown_text(0, t0) == "-");
}

TEST_CASE("age text uses the largest whole unit and never goes negative") {
  CHECK(age_text(t0 - 12'000, t0) == "12s");
  CHECK(age_text(t0 - 5 * 60'000 - 30'000, t0) == "5m");
  CHECK(age_text(t0 - 3 * 3'600'000, t0) == "3h");
  CHECK(age_text(t0 - 2 * 86'400'000LL, t0) == "2d");
  CHECK(age_text(t0 + 10'000, t0) == "0s");
}

TEST_CASE("clock text is UTC with seconds") {
  CHECK(clock_text(0) == "-");
  CHECK(clock_text(1'796'400'000'000) == "2026-12-04 16:00:00 UTC");
}

TEST_CASE("fit text cuts on code points and marks the cut") {
  CHECK(fit_text("requester", 20) == "requester");
  CHECK(fit_text("requester", 9) == "requester");
  CHECK(fit_text("requester", 5) == "requ~");
  CHECK(fit_text("requester", 0).empty());
  CHECK(fit_text("Jos\xc3\xa9 Mar\xc3\xad" "a", 5) == "Jos\xc3\xa9~");
  CHECK(display_width("Jos\xc3\xa9") == 4);
}

TEST_CASE("fit text turns control characters and broken UTF-8 into harmless characters") {
  CHECK(fit_text("a\nb\tc\x1b[2Jd", 20) == "a b c [2Jd");
  CHECK(fit_text("x\xc2\x9by", 20) == "x y");  // C1 CSI
  CHECK(fit_text("x\xffy", 20) == "x?y");
  CHECK(fit_text("x\xc3", 20) == "x?");  // truncated sequence
}

TEST_CASE("pad text fills to the exact width") {
  CHECK(pad_text("ab", 4) == "ab  ");
  CHECK(pad_text("abcdef", 4) == "abc~");
  CHECK(display_width(pad_text("\xc3\xa9", 3)) == 3);
}

TEST_CASE("table cells follow the requested columns") {
  auto r = sample();
  const std::vector<review_column> columns = {
      review_column::id,   review_column::state,    review_column::age,  review_column::requester,
      review_column::kind, review_column::database, review_column::rule, review_column::expires};
  CHECK(table_cells(r, columns, t0) == std::vector<std::string>{"r-abcdefghij", "pending", "2m", "bob",
                                                                "export", "clinic", "exports-held", "14:59"});
  r.state = request_state::denied;
  CHECK(table_cells(r, {review_column::expires}, t0) == std::vector<std::string>{"-"});
  CHECK(table_titles({review_column::id, review_column::expires}) ==
        std::vector<std::string>{"ID", "EXPIRES IN"});
}

TEST_CASE("fit columns gives each column its widest cell when there is room") {
  const std::vector<std::vector<std::string>> rows = {{"ID", "KIND"}, {"r-abcdefghij", "export"}};
  CHECK(fit_columns(rows, 0) == std::vector<std::size_t>{12, 6});
  CHECK(fit_columns(rows, 80) == std::vector<std::size_t>{12, 6});
  CHECK(format_row(rows[1], fit_columns(rows, 0)) == "r-abcdefghij export");
  CHECK(format_row(rows[0], fit_columns(rows, 0)) == "ID           KIND");
}

TEST_CASE("fit columns shrinks the widest column first and keeps every row within the width") {
  const std::vector<std::vector<std::string>> rows = {
      {"ID", "REQUESTER", "RULE"},
      {"r-abcdefghij", "someone.with.a.very.long.name", "rule-with-a-long-identifier"}};
  const auto widths = fit_columns(rows, 40);
  for (const auto& row : rows) CHECK(display_width(format_row(row, widths)) <= 40);
  CHECK(widths[0] == 12);
  CHECK(format_row(rows[1], widths).substr(0, 13) == "r-abcdefghij ");
}

TEST_CASE("fit columns drops rightmost columns when even the floors do not fit") {
  const std::vector<std::vector<std::string>> rows = {{"AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"}};
  const auto widths = fit_columns(rows, 20);
  CHECK(widths == std::vector<std::size_t>{8, 8, 0});
  CHECK(format_row(rows[0], widths) == "AAAAAAA~ BBBBBBB~");
}

TEST_CASE("a pending request's table row fits an 80 column terminal untruncated") {
  const std::vector<review_column> columns = {
      review_column::id,       review_column::age,  review_column::requester, review_column::kind,
      review_column::database, review_column::rule, review_column::expires};
  std::vector<std::vector<std::string>> rows{table_titles(columns), table_cells(sample(), columns, t0)};
  const auto line = format_row(rows[1], fit_columns(rows, 79));
  CHECK(line.find("r-abcdefghij") != std::string::npos);
  CHECK(line.find("exports-held") != std::string::npos);
  CHECK(line.find("14:59") != std::string::npos);
}

TEST_CASE("wrap text splits on newlines and at the width with the indent") {
  CHECK(wrap_text("abcdef", 5, "  ") == std::vector<std::string>{"  abc", "  def"});
  CHECK(wrap_text("COPY patients TO STDOUT", 16, "") ==
        std::vector<std::string>{"COPY patients TO", "STDOUT"});
  CHECK(wrap_text("ab cdefghij", 6, "") == std::vector<std::string>{"ab", "cdefgh", "ij"});
  CHECK(wrap_text("ab\ncd", 0, "> ") == std::vector<std::string>{"> ab", "> cd"});
  CHECK(wrap_text("", 10, "") == std::vector<std::string>{""});
}

TEST_CASE("detail lines show who, why, the full statement, masking and votes so far") {
  auto r = sample();
  r.statement = "COPY (SELECT * FROM patients WHERE name = $1)\nTO STDOUT";
  r.parameters = {"$1 = 'Smith'"};
  r.masking_lifted = true;
  r.votes = {vote{"dana", true, "ok for the audit", t0 - 1000}};
  const auto lines = detail_lines(r, t0, 0);
  auto has = [&lines](std::string_view text) {
    for (const auto& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  };
  CHECK(lines.front() == "r-abcdefghij  pending  expires in 14:59");
  CHECK(has("Requester     bob (clinical)"));
  CHECK(has("Database      clinic as clinical_reader"));
  CHECK(has("Rule          exports-held"));
  CHECK(has("export: COPY ... TO STDOUT"));
  CHECK(has("Masking       LIFTED: approving shows bob unmasked values"));
  CHECK(has("Tables        public.patients"));
  CHECK(has("Approval      1 of 2 approvals, from approvers"));
  CHECK(has("Votes         dana approved 2026-12-04 15:59:59 UTC: ok for the audit"));
  CHECK(has("  COPY (SELECT * FROM patients WHERE name = $1)"));
  CHECK(has("  TO STDOUT"));
  CHECK(has("  $1 = 'Smith'"));
}

TEST_CASE("detail lines stay within the width and say when nobody has voted") {
  auto r = sample();
  r.statement = std::string(300, 'x');
  const auto lines = detail_lines(r, t0, 80);
  bool none_yet = false;
  for (const auto& line : lines) {
    CHECK(display_width(line) <= 80);
    none_yet = none_yet || line == "Votes         none yet";
  }
  CHECK(none_yet);
}

TEST_CASE("detail lines of a decided request show the decision instead of a countdown") {
  auto r = sample();
  r.state = request_state::denied;
  r.decided_ms = t0 - 60'000;
  r.decided_reason = "not during business hours";
  const auto lines = detail_lines(r, t0, 0);
  CHECK(lines.front() == "r-abcdefghij  denied");
  CHECK(std::find(lines.begin(), lines.end(),
                  "Decided       2026-12-04 15:59:00 UTC: not during business hours") != lines.end());
}

#include "gateway/approvals_cli.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <ostream>

#include "approvals/review_format.hpp"

namespace phigate {
namespace {

namespace ap = approvals;

constexpr std::string_view prog = "phigate approvals";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int usage_error(std::ostream& err, std::string_view message) {
  err << prog << ": " << message << "\n";
  return exit_usage;
}

// Prints why a call failed and returns its exit code.
int report_failure(std::ostream& err, const admin_failure& failure) {
  err << prog << ": " << failure.message;
  if (failure.kind == admin_failure_kind::rejected) err << " (HTTP " << failure.status << ")";
  err << "\n";
  return failure.kind == admin_failure_kind::unreachable ? exit_unreachable : exit_api_refused;
}

void print_json(std::ostream& out, const boost::json::value& raw) {
  out << boost::json::serialize(raw) << "\n";
}

void print_table(std::ostream& out, const std::vector<ap::request>& requests) {
  const std::vector<ap::review_column> columns = {ap::review_column::id,   ap::review_column::state,
                                                  ap::review_column::age,  ap::review_column::requester,
                                                  ap::review_column::kind, ap::review_column::database,
                                                  ap::review_column::rule, ap::review_column::expires};
  std::vector<std::vector<std::string>> rows{ap::table_titles(columns)};
  const auto now = now_ms();
  for (const auto& r : requests) rows.push_back(ap::table_cells(r, columns, now));
  const auto widths = ap::fit_columns(rows, 0);
  for (const auto& row : rows) out << ap::format_row(row, widths) << "\n";
}

int run_list(const approvals_cli_options& options, const admin_client& client, std::ostream& out,
             std::ostream& err) {
  std::optional<ap::request_state> state;
  if (options.state != "all") {
    state = ap::parse_request_state(options.state);
    if (!state) {
      return usage_error(err, "unknown --state \"" + options.state +
                                  "\" (pending, approved, denied, expired, abandoned, consumed or all)");
    }
  }
  auto result = client.list(state, options.limit);
  if (!result.ok()) return report_failure(err, result.failure);
  if (options.json) {
    print_json(out, result.raw);
  } else if (result.value->empty()) {
    out << "no " << (state ? std::string(ap::to_string(*state)) + " " : std::string()) << "requests\n";
  } else {
    print_table(out, *result.value);
  }
  return exit_ok;
}

void print_detail(std::ostream& out, const ap::request& r) {
  for (const auto& line : ap::detail_lines(r, now_ms(), 0)) out << line << "\n";
}

int run_vote(const approvals_cli_options& options, const admin_client& client, const std::string& id,
             std::ostream& out, std::ostream& err) {
  const bool approve = options.action == "approve";
  const std::string reason = options.reason.value_or("");
  // A denial without a reason leaves the requester guessing; the API requires one too, but saying so here
  // avoids a round trip and gives the usage exit code.
  if (!approve && reason.find_first_not_of(" \t") == std::string::npos) {
    return usage_error(err, "deny needs --reason TEXT");
  }
  auto result = approve ? client.approve(id, reason) : client.deny(id, reason);
  if (!result.ok()) return report_failure(err, result.failure);
  if (options.json) {
    print_json(out, result.raw);
    return exit_ok;
  }
  const auto& r = *result.value;
  out << options.action << " recorded for " << r.id << ": request is now " << ap::to_string(r.state);
  if (r.state == ap::request_state::pending) {
    std::size_t approves = 0;
    for (const auto& v : r.votes) approves += v.approve ? 1 : 0;
    out << " (" << approves << " of " << r.rules.quorum << " approvals)";
  }
  out << "\n";
  return exit_ok;
}

}  // namespace

CLI::App* add_approvals_command(CLI::App& app, approvals_cli_options& options) {
  auto* approvals =
      app.add_subcommand("approvals", "List, show, approve and deny held statements (admin API)");
  approvals->require_subcommand(1);
  add_admin_cli_options(*approvals, options.connection);
  approvals->add_flag("--json", options.json, "Print the API's JSON");

  auto* list = approvals->add_subcommand("list", "List requests (pending by default)");
  list->add_option("--state", options.state,
                   "pending, approved, denied, expired, abandoned, consumed or all");
  list->add_option("--limit", options.limit, "At most this many requests");
  auto* show = approvals->add_subcommand("show", "Show one request in full");
  auto* approve = approvals->add_subcommand("approve", "Approve a request");
  approve->add_option("--reason", options.reason, "Why (optional)");
  auto* deny = approvals->add_subcommand("deny", "Deny a request");
  deny->add_option("--reason", options.reason, "Why (required)");
  for (auto* action : {list, show, approve, deny}) {
    // Connection options and --json may also follow the action: `approvals show ID --json`.
    action->fallthrough();
    action->add_option("id", options.operands, "Request id (r-...)");
    action->callback([&options, action] { options.action = action->get_name(); });
  }
  return approvals;
}

int run_approvals_cli(const approvals_cli_options& options, std::ostream& out, std::ostream& err) {
  const bool wants_id = options.action != "list";
  if (wants_id && options.operands.size() != 1) {
    return usage_error(err, options.action + " needs exactly one request id");
  }
  if (!wants_id && !options.operands.empty()) {
    return usage_error(err, "list takes no operands (use --state and --limit)");
  }
  auto made = make_admin_client(options.connection);
  if (auto* message = std::get_if<std::string>(&made)) return usage_error(err, *message);
  const auto& client = std::get<admin_client>(made);
  if (options.action == "list") return run_list(options, client, out, err);
  const std::string& id = options.operands.front();
  if (options.action == "show") {
    auto result = client.get(id);
    if (!result.ok()) return report_failure(err, result.failure);
    if (options.json) {
      print_json(out, result.raw);
    } else {
      print_detail(out, *result.value);
    }
    return exit_ok;
  }
  if (options.action == "approve" || options.action == "deny") return run_vote(options, client, id, out, err);
  return usage_error(err, "unknown action \"" + options.action + "\" (list, show, approve, deny)");
}

}  // namespace phigate

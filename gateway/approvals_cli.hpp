// `phigate approvals list|show ID|approve ID [--reason TEXT]|deny ID --reason TEXT`: held statements from the
// command line, through the admin HTTP API only (the CLI never opens the approvals store itself).
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "gateway/admin_cli_options.hpp"

namespace phigate {

/// The parsed command line of `phigate approvals`.
struct approvals_cli_options {
  std::string action;                 ///< "list", "show", "approve" or "deny"
  std::vector<std::string> operands;  ///< positional words after the action (the request id)
  std::optional<std::string> reason;  ///< --reason
  std::string state = "pending";      ///< list: a state name or "all"
  std::size_t limit = 200;            ///< list: at most this many requests
  bool json = false;                  ///< print the API's JSON instead of tables
  admin_cli_options connection;
};

/// Adds the `approvals` subcommand (with list, show, approve, deny) to `app`; parsing fills `options`.
/// Returns the subcommand so the caller can test whether it was given.
CLI::App* add_approvals_command(CLI::App& app, approvals_cli_options& options);

/// Runs one approvals action. Tables and details go to `out`, errors to `err`. Returns exit_ok,
/// exit_api_refused (the API's error is printed), exit_usage or exit_unreachable.
int run_approvals_cli(const approvals_cli_options& options, std::ostream& out, std::ostream& err);

}  // namespace phigate

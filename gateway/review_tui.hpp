// `phigate review`: a terminal UI for approvers (in the manner of htop / pg_activity). A live list of
// pending requests with age and expiry countdown, a detail view with the full statement and why it was held,
// and keys to approve or deny, all through the admin HTTP API.
#pragma once

#include <CLI/CLI.hpp>

#include "gateway/admin_cli_options.hpp"

namespace phigate {

struct review_tui_options {
  admin_cli_options connection;
};

/// Adds the `review` subcommand to `app`; parsing fills `options`.
CLI::App* add_review_command(CLI::App& app, review_tui_options& options);

/// Runs the UI until the user quits. Returns exit_ok, or exit_usage (bad options, no terminal).
/// Network failures never end the UI: they show on its status line.
int run_review_tui(const review_tui_options& options);

}  // namespace phigate

// The options every admin API command shares (`phigate approvals`, `phigate review`): where the API is, the
// bearer token, the CA for https, the per-call timeout. Each comes from a flag or, failing that, from the
// environment.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <variant>

#include "gateway/admin_client.hpp"

namespace phigate {

/// Exit codes of the admin API commands.
inline constexpr int exit_ok = 0;
inline constexpr int exit_api_refused = 1;  ///< the API answered with an error (printed)
inline constexpr int exit_usage = 2;        ///< bad or missing arguments
inline constexpr int exit_unreachable = 3;  ///< no answer from the API

struct admin_cli_options {
  std::string api_url;  ///< --api, or PHIGATE_ADMIN_URL
  std::string token;    ///< --token, or PHIGATE_TOKEN
  std::string ca_file;  ///< --cacert, or PHIGATE_ADMIN_CA (https only; default: the system store)
  double timeout_s = 10;
};

/// Adds --api, --token, --cacert and --timeout to `command`, with their environment variables.
void add_admin_cli_options(CLI::App& command, admin_cli_options& options);

/// A client for the options, or a usage message (no URL, a malformed URL, no token). A stop request on
/// `stop` ends the client's calls in progress.
std::variant<admin_client, std::string> make_admin_client(const admin_cli_options& options,
                                                          std::stop_token stop = {});

}  // namespace phigate

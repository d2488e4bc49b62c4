#include "gateway/admin_cli_options.hpp"

#include <cmath>

namespace phigate {

void add_admin_cli_options(CLI::App& command, admin_cli_options& options) {
  command.add_option("--api", options.api_url, "Admin API base URL, e.g. http://127.0.0.1:6480")
      ->envname("PHIGATE_ADMIN_URL");
  // The environment is the better place for a token: flags show up in `ps` output.
  command.add_option("--token", options.token, "Bearer token of the approver")->envname("PHIGATE_TOKEN");
  command.add_option("--cacert", options.ca_file, "CA file to verify an https API (default: system store)")
      ->envname("PHIGATE_ADMIN_CA");
  command.add_option("--timeout", options.timeout_s, "Seconds to wait for each API call");
}

std::variant<admin_client, std::string> make_admin_client(const admin_cli_options& options,
                                                          std::stop_token stop) {
  if (options.api_url.empty())
    return std::string("no admin API URL: pass --api URL or set PHIGATE_ADMIN_URL");
  if (options.token.empty()) return std::string("no token: pass --token TOKEN or set PHIGATE_TOKEN");
  if (!(options.timeout_s > 0) || options.timeout_s > 3600) {
    return std::string("--timeout must be between 0 and 3600 seconds");
  }
  auto endpoint = parse_admin_url(options.api_url);
  if (auto* message = std::get_if<std::string>(&endpoint)) return *message;
  admin_client_options client_options;
  client_options.token = options.token;
  client_options.ca_file = options.ca_file;
  client_options.stop = std::move(stop);
  client_options.timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(options.timeout_s * 1000)));
  return admin_client(std::get<admin_endpoint>(std::move(endpoint)), std::move(client_options));
}

}  // namespace phigate

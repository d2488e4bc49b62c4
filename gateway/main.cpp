// phigate: one binary, several subcommands.
//   serve   --config FILE [--ready-file FILE]   run the gateway
//   check   --config FILE                       validate a config; file:line:column errors, exit 1
//   passwd  [--iterations N]                    read a password on stdin, print a SCRAM-SHA-256 verifier
//   detect                                      PHI detection over JSON Lines cells on stdin
//   replay  run|import|show                     replay captured sessions and measure them
//   approvals list|show|approve|deny            held statements through the admin API
//   review                                      terminal UI for approvers (admin API)
//   audit   verify|export|tail                  check, export or follow the tamper-evident audit log
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>

#include "gateway/approvals_cli.hpp"
#include "gateway/audit_cli.hpp"
#include "gateway/config.hpp"
#include "gateway/gateway_context.hpp"
#include "gateway/replay_cli.hpp"
#include "gateway/review_tui.hpp"
#include "gateway/server.hpp"
#include "masking/detect_cli.hpp"
#include "protocol/postgres/auth.hpp"

namespace {

using namespace phigate;

// Prints every config error and returns the exit code for a broken config.
int report_config_errors(const config_exception& e) {
  for (const auto& err : e.errors()) std::cerr << err.to_string() << "\n";
  return 1;
}

int run_serve(const std::string& config_path, const std::string& ready_file) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("phigate"));
  try {
    auto cfg = std::make_shared<gateway_config>(load_config(config_path));
    spdlog::set_level(spdlog::level::from_str(cfg->log_level));
    auto ctx = std::make_shared<gateway_context>(make_snapshot(std::move(cfg)));
    server srv(ctx);
    return srv.run(ready_file);
  } catch (const config_exception& e) {
    return report_config_errors(e);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}

int run_check(const std::string& config_path) {
  try {
    auto cfg = std::make_shared<gateway_config>(load_config(config_path));
    make_snapshot(cfg);  // TLS files must load too
    std::cout << config_path << ": ok\n";
    return 0;
  } catch (const config_exception& e) {
    return report_config_errors(e);
  } catch (const std::exception& e) {
    std::cerr << config_path << ": " << e.what() << "\n";
    return 1;
  }
}

int run_passwd(int iterations) {
  std::string password;
  if (::isatty(STDIN_FILENO)) {
    std::cerr << "Password: " << std::flush;
    std::getline(std::cin, password);
  } else {
    password.assign(std::istreambuf_iterator<char>(std::cin), {});
    if (!password.empty() && password.back() == '\n') password.pop_back();
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  if (password.empty()) {
    std::cerr << "phigate passwd: empty password\n";
    return 1;
  }
  auto v = pg::scram::make_verifier(password, pg::scram::random_bytes(16), iterations);
  std::cout << v.to_string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"phigate: a PHI-aware gateway for PostgreSQL"};
  app.require_subcommand(1);

  std::string config_path, ready_file;
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  serve->add_option("--config,-c", config_path, "Config file (YAML)")->required();
  serve->add_option("--ready-file", ready_file, "Write {\"postgres_port\": N} here once listening");

  auto* check = app.add_subcommand("check", "Validate a config file");
  check->add_option("--config,-c", config_path, "Config file (YAML)")->required();

  int iterations = pg::scram::default_iterations;
  auto* passwd = app.add_subcommand("passwd", "Read a password on stdin and print a SCRAM-SHA-256 verifier");
  passwd->add_option("--iterations", iterations, "PBKDF2 iterations")->check(CLI::Range(4096, 10'000'000));

  auto* detect = app.add_subcommand(
      "detect", "Read {\"column\", \"text\"} JSON lines on stdin, write {\"entities\": [...]} lines");

  replay::replay_command replay(app);

  approvals_cli_options approvals_options;
  auto* approvals = add_approvals_command(app, approvals_options);
  review_tui_options review_options;
  auto* review = add_review_command(app, review_options);

  audit_cli_options audit_options;
  auto* audit = add_audit_command(app, audit_options);

  CLI11_PARSE(app, argc, argv);
  if (*serve) return run_serve(config_path, ready_file);
  if (*check) return run_check(config_path);
  if (*passwd) return run_passwd(iterations);
  if (*detect) return masking::run_detect(std::cin, std::cout, masking::detector_config{});
  if (replay.selected()) return replay.run();
  if (*approvals) return run_approvals_cli(approvals_options, std::cout, std::cerr);
  if (*review) return run_review_tui(review_options);
  if (*audit) return run_audit_command(*audit, audit_options);
  return 2;
}

// `phigate audit verify | export | tail`: read the audit log named by a config file (its `audit:` section)
// or by --store, without a running gateway. They only read; SQLite's WAL lets them run beside the gateway.
//
//   phigate audit verify --config phigate.yaml [--public-key audit-public.pem] [--checkpoint-file FILE]
//   phigate audit export --store audit.db --format csv --since 2026-12-01 --until 2026-12-02 --identity alice
//   phigate audit tail --config phigate.yaml -n 20 -f
//
// verify exits 0 when the chain and every checkpoint check out, 1 when it finds tampering (naming the first
// bad record), 2 when the log cannot be read.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

namespace phigate {

struct audit_cli_options {
  std::string config_path;
  std::string store_path;
  std::string public_key;  ///< verify: PEM public key (or the private key file) for checkpoint signatures
  std::string checkpoint_file;  ///< verify: the shipped checkpoint file
  std::string format = "jsonl";
  std::string since;
  std::string until;
  std::string identity;
  std::size_t lines = 10;  ///< tail: how many of the newest records first
  bool follow = false;
};

/// Adds `audit` with its three subcommands to `app`; the options land in `options`.
CLI::App* add_audit_command(CLI::App& app, audit_cli_options& options);

/// Runs whichever audit subcommand was parsed; returns the exit code.
int run_audit_command(const CLI::App& audit, const audit_cli_options& options);

}  // namespace phigate

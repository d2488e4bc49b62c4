#include "gateway/audit_cli.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "audit/canonical_json.hpp"
#include "audit/exporter.hpp"
#include "audit/sqlite_store.hpp"
#include "audit/verifier.hpp"
#include "gateway/config_helpers.hpp"

namespace phigate {

namespace {

constexpr auto tail_poll_interval = std::chrono::milliseconds(250);

// Where the log is, from --store or from the config's `audit:` section. Only that section is read: the CLI
// needs no upstream passwords or HMAC key to read the log.
struct log_location {
  std::string store;
  std::string signing_key_file;
  std::string checkpoint_file;
};

bool locate(const audit_cli_options& o, log_location& out) {
  if (!o.store_path.empty()) {
    out.store = o.store_path;
    return true;
  }
  if (o.config_path.empty()) {
    std::cerr << "phigate audit: give --config FILE or --store PATH\n";
    return false;
  }
  const auto base = std::filesystem::absolute(o.config_path).parent_path();
  try {
    const YAML::Node audit = YAML::LoadFile(o.config_path)["audit"];
    out.store = config_detail::resolve_path(
        base, audit && audit["store"] ? audit["store"].as<std::string>() : "audit.db");
    if (audit && audit["signing_key_file"]) {
      out.signing_key_file = config_detail::resolve_path(base, audit["signing_key_file"].as<std::string>());
      out.checkpoint_file = out.store + ".checkpoints";
    }
    if (audit && audit["checkpoint_file"])
      out.checkpoint_file = config_detail::resolve_path(base, audit["checkpoint_file"].as<std::string>());
  } catch (const YAML::Exception& e) {
    std::cerr << o.config_path << ": " << e.what() << "\n";
    return false;
  }
  return true;
}

std::unique_ptr<audit::sqlite_store> open_store(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    std::cerr << "phigate audit: no audit store at " << path << "\n";
    return nullptr;
  }
  try {
    return std::make_unique<audit::sqlite_store>(path, audit::sqlite_store::mode::read_only);
  } catch (const std::exception& e) {
    std::cerr << "phigate audit: " << e.what() << "\n";
    return nullptr;
  }
}

int run_verify(const audit_cli_options& o) {
  log_location where;
  if (!locate(o, where)) return 2;
  auto store = open_store(where.store);
  if (!store) return 2;
  audit::verify_options options;
  std::optional<audit::verify_key> key;
  const std::string key_file = !o.public_key.empty() ? o.public_key : where.signing_key_file;
  if (!key_file.empty()) {
    std::string problem;
    key = audit::verify_key::load_pem_file(key_file, problem);
    if (!key) {
      std::cerr << "phigate audit verify: " << problem << "\n";
      return 2;
    }
    options.key = &*key;
  }
  const std::string checkpoints = !o.checkpoint_file.empty() ? o.checkpoint_file : where.checkpoint_file;
  if (!checkpoints.empty() && (!o.checkpoint_file.empty() || std::filesystem::exists(checkpoints))) {
    if (auto problem = audit::read_checkpoint_file(checkpoints, options.external); !problem.empty()) {
      std::cerr << "phigate audit verify: " << problem << "\n";
      return 2;
    }
  }
  const auto report = audit::verify_log(*store, options);
  std::cout << where.store << ": " << report.to_text();
  if (!checkpoints.empty() && !options.external.empty())
    std::cout << "checkpoint file: " << checkpoints << " (" << options.external.size() << " checkpoints)\n";
  return report.ok() ? 0 : 1;
}

bool make_filter(const audit_cli_options& o, audit::record_filter& filter) {
  const auto time = [](const std::string& text, const char* flag, std::optional<std::int64_t>& out) {
    if (text.empty()) return true;
    out = audit::parse_time_us(text);
    if (!out) std::cerr << "phigate audit: " << flag << " '" << text << "' is not an ISO 8601 time\n";
    return out.has_value();
  };
  if (!time(o.since, "--since", filter.since_us) || !time(o.until, "--until", filter.until_us)) return false;
  if (!o.identity.empty()) filter.person = o.identity;
  return true;
}

int run_export(const audit_cli_options& o) {
  log_location where;
  audit::record_filter filter;
  if (!locate(o, where) || !make_filter(o, filter)) return 2;
  auto store = open_store(where.store);
  if (!store) return 2;
  const auto format = o.format == "csv" ? audit::export_format::csv : audit::export_format::jsonl;
  if (auto problem = audit::export_records(*store, filter, format, std::cout); !problem.empty()) {
    std::cerr << "phigate audit export: " << problem << "\n";
    return 2;
  }
  return 0;
}

int run_tail(const audit_cli_options& o) {
  log_location where;
  audit::record_filter filter;
  if (!locate(o, where) || !make_filter(o, filter)) return 2;
  auto store = open_store(where.store);
  if (!store) return 2;
  audit::chain_head head;
  if (auto problem = store->head(head); !problem.empty()) {
    std::cerr << "phigate audit tail: " << problem << "\n";
    return 2;
  }
  filter.after_seq = head.seq > o.lines ? head.seq - o.lines : 0;
  const auto format = o.format == "csv" ? audit::export_format::csv : audit::export_format::jsonl;
  if (format == audit::export_format::csv) std::cout << audit::csv_header();
  for (;;) {
    std::vector<audit::stored_record> records;
    if (auto problem = store->read(filter, records); !problem.empty()) {
      std::cerr << "phigate audit tail: " << problem << "\n";
      return 2;
    }
    for (const auto& r : records)
      std::cout << (format == audit::export_format::csv ? audit::to_csv_lines(r)
                                                        : audit::to_json_line(r) + "\n");
    std::cout.flush();
    if (!records.empty()) filter.after_seq = records.back().seq;
    if (!o.follow) return 0;
    std::this_thread::sleep_for(tail_poll_interval);
  }
}

void add_location(CLI::App* cmd, audit_cli_options& o) {
  auto* config = cmd->add_option("--config,-c", o.config_path, "Gateway config file (its audit: section)");
  auto* store = cmd->add_option("--store", o.store_path, "Audit store (SQLite file)");
  config->excludes(store);
}

}  // namespace

CLI::App* add_audit_command(CLI::App& app, audit_cli_options& o) {
  auto* audit = app.add_subcommand("audit", "Verify, export or follow the audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "Recompute the hash chain and check the signed checkpoints");
  add_location(verify, o);
  verify->add_option("--public-key", o.public_key, "Ed25519 public key (PEM) that signed the checkpoints");
  verify->add_option("--checkpoint-file", o.checkpoint_file, "Checkpoint file shipped from the gateway");
  auto* exp = audit->add_subcommand("export", "Write records as JSON lines or CSV");
  add_location(exp, o);
  exp->add_option("--format", o.format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  exp->add_option("--since", o.since, "Only records at or after this ISO 8601 time (UTC unless an offset)");
  exp->add_option("--until", o.until, "Only records before this ISO 8601 time");
  exp->add_option("--identity", o.identity, "Only records about this person");
  auto* tail = audit->add_subcommand("tail", "Print the newest records; -f follows new ones");
  add_location(tail, o);
  tail->add_option("--format", o.format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  tail->add_option("-n,--lines", o.lines, "How many of the newest records to print first");
  tail->add_option("--identity", o.identity, "Only records about this person");
  tail->add_flag("-f,--follow", o.follow, "Keep printing new records as they are written");
  return audit;
}

int run_audit_command(const CLI::App& audit, const audit_cli_options& options) {
  if (audit.got_subcommand("verify")) return run_verify(options);
  if (audit.got_subcommand("export")) return run_export(options);
  if (audit.got_subcommand("tail")) return run_tail(options);
  return 2;
}

}  // namespace phigate

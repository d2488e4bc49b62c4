// `phigate replay`: run a capture against one or several targets, import a pgbench-style script as a
// capture, or show what a capture holds. main.cpp registers the command and asks it to run.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

namespace phigate::replay {

struct plan;
struct target_outcome;

class replay_command {
 public:
  /// Adds `replay run|import|show` and their options to `app`.
  explicit replay_command(CLI::App& app);
  /// True when the command line chose `replay`.
  bool selected() const { return replay_->parsed(); }
  /// Runs the chosen subcommand; the process exit status.
  int run();

 private:
  int run_replay();
  /// Every round over every target, in rotating order; the per-statement results text when asked for.
  std::string run_rounds(const plan& p, std::vector<target_outcome>& outcomes);
  /// Markdown, SVG, results and JSON files as asked for; "" or the problem.
  std::string write_outputs(const plan& p, const std::vector<target_outcome>& outcomes,
                            const std::string& tables, const std::string& results);
  int run_import();
  int run_show();

  CLI::App* replay_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* show_ = nullptr;

  std::string capture_path_;
  std::vector<std::string> targets_;
  unsigned connections_ = 1;
  unsigned threads_ = 0;
  double pace_ = 0;
  double warmup_s_ = 0;
  unsigned repeat_ = 1;
  double duration_s_ = 0;
  unsigned rounds_ = 1;
  std::string json_path_, markdown_path_, svg_path_, results_path_, title_;
  bool quiet_ = false;

  std::string script_path_, output_path_, mode_ = "simple", user_ = "pgbench", database_ = "postgres";
  unsigned clients_ = 1, transactions_ = 10;
  std::uint64_t seed_ = 1;
  std::vector<std::string> defines_;

  bool show_messages_ = false;
};

}  // namespace phigate::replay

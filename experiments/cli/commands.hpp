// icalign's subcommands, one file each. Each add_* registers its options on the app and a callback
// that does the work; errors are exceptions, reported by main() as "icalign: error: ...".
#pragma once
#include <CLI/CLI.hpp>

namespace cli {

void add_train(CLI::App& app);      // train a transformer from random init
void add_eval(CLI::App& app);       // evaluate a run against the baselines
void add_plot(CLI::App& app);       // draw a run's CSVs
void add_construct(CLI::App& app);  // the explicit construction's experiments
void add_bench(CLI::App& app);      // training speed against PyTorch
void add_sweep(CLI::App& app);      // a grid of runs, trained and evaluated
void add_selfcorrect(CLI::App& app);  // multi-round self-correction with a critic
void add_agree(CLI::App& app);      // agreement with GD and invariance to reward maps

// A number in [lo, hi]; unlike CLI::Range it refuses nan, which compares false with every bound.
inline CLI::Validator number_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !(v >= lo && v <= hi))
          return "must be a number in [" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "], got " + text;
        return {};
      },
      "NUMBER in [" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "]");
}

// <run>/<name> for an --out option: a plain file name inside the run directory, else an error.
std::string file_in_run(const std::string& run, const std::string& name);

// Runs experiments/<script> (python3 + matplotlib) on the given files; throws if it fails.
void run_plot_script(const std::string& script, const std::vector<std::string>& files);

}  // namespace cli

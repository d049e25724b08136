// icalign: the in-context alignment lab's command-line program.
//   icalign train --config FILE [--set section.key=value ...] [--run DIR] [--resume]
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <iostream>

#include "autograd/blas.hpp"
#include "experiments/lab/trainer.hpp"

int main(int argc, char** argv) {
  CLI::App app{"icalign: train transformers on in-context alignment (Wang et al., NeurIPS 2024)"};
  app.require_subcommand(1);

  auto* train = app.add_subcommand("train", "train a transformer from random init");
  std::string config_path, run_dir;
  std::vector<std::string> overrides;
  bool resume = false;
  train->add_option("--config", config_path, "YAML config file")->required()->check(CLI::ExistingFile);
  train->add_option("--set", overrides, "override a config field, e.g. --set model.n_head=4");
  train->add_option("--run", run_dir, "run directory (default: runs/<config name>)");
  train->add_flag("--resume", resume, "continue the run in --run from its last checkpoint");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*train) {
      const lab::RunConfig cfg = lab::load_config(config_path, overrides);
      if (run_dir.empty()) {
        const auto slash = config_path.find_last_of('/'), dot = config_path.find_last_of('.');
        const auto start = slash == std::string::npos ? 0 : slash + 1;
        ::mkdir("runs", 0755);
        run_dir = "runs/" + config_path.substr(start, dot == std::string::npos || dot < start ? std::string::npos : dot - start);
      }
      std::cerr << "BLAS: " << ag::blas::config() << "\n";
      const auto r = lab::train(cfg, run_dir, resume, std::cerr);
      std::cout << "trained " << r.steps << " steps; final loss " << r.last_loss << "; run in " << run_dir << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "icalign: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

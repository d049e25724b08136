// icalign: the in-context alignment lab's command-line program.
//   icalign train --config FILE [--set section.key=value ...] [--run DIR] [--resume]
//   icalign eval  --run DIR [--noise p ...] [--sequences n] [--seed s] [--gd-steps n] [--gd-plain]
//   icalign plot  --run DIR          (a PNG beside each eval*.csv, drawn by experiments/plot_eval.py)
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "autograd/blas.hpp"
#include "experiments/lab/evaluate.hpp"
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

  auto* eval = app.add_subcommand("eval", "evaluate a run against the baselines; writes <run>/eval*.csv");
  std::string eval_run;
  std::vector<double> noises;
  lab::EvalOptions eopt;
  eval->add_option("--run", eval_run, "run directory")->required();
  eval->add_option("--noise", noises, "reward noise levels to evaluate at (default: the run's own)")
      ->check(CLI::Range(0.0, 1.0));
  eval->add_option("--sequences", eopt.sequences, "held-out sequences (mean and standard error over them)")
      ->check(CLI::Range(2, 1 << 20));
  eval->add_option("--seed", eopt.seed, "seed of the held-out sequences");
  eval->add_option("--gd-steps", eopt.gd.steps, "steps of the GD baseline")->check(CLI::Range(0, 100000));
  bool gd_plain = false;
  eval->add_flag("--gd-plain", gd_plain, "plain gradient descent instead of Adam for the GD baseline");

  auto* plot = app.add_subcommand("plot", "draw <run>/eval*.csv as PNG figures (needs python3-matplotlib)");
  std::string plot_run;
  plot->add_option("--run", plot_run, "run directory")->required()->check(CLI::ExistingDirectory);

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
    if (*eval) {
      eopt.gd.adam = !gd_plain;
      if (noises.empty()) noises.push_back(-1);
      for (double p : noises) {
        eopt.reward_noise = p;
        const auto curves = lab::evaluate_run(eval_run, eopt);
        const std::string path = eval_run + (p < 0 ? std::string("/eval.csv") : "/eval_noise" + std::to_string(p).substr(0, 4) + ".csv");
        lab::write_csv(path, curves, eopt.sequences);
        std::printf("1 - cos(answer, y*), mean over %zu held-out sequences%s -> %s\n%4s", eopt.sequences,
                    p < 0 ? "" : (", reward noise " + std::to_string(p).substr(0, 4)).c_str(), path.c_str(), "k");
        for (const auto& c : curves) std::printf(" %16s", c.method.c_str());
        std::printf("\n");
        for (std::size_t i = 0; i < curves[0].mean.size(); ++i) {
          std::printf("%4zu", i + 1);
          for (const auto& c : curves) std::printf(" %9.4f ±%5.3f", c.mean[i], c.sem[i]);
          std::printf("\n");
        }
      }
    }
    if (*plot) {
      std::string csvs;
      for (const auto& entry : std::filesystem::directory_iterator(plot_run)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("eval", 0) == 0 && entry.path().extension() == ".csv") csvs += " '" + entry.path().string() + "'";
      }
      if (csvs.empty()) throw std::runtime_error("no eval*.csv in '" + plot_run + "': run icalign eval first");
      const std::string cmd = "/usr/bin/python3 '" AG_SOURCE_DIR "/experiments/plot_eval.py'" + csvs;
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("plotting failed (is python3-matplotlib installed?)");
    }
  } catch (const std::exception& e) {
    std::cerr << "icalign: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

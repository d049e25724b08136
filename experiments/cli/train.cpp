#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "autograd/blas.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/train/distributed.hpp"
#include "experiments/train/memory.hpp"
#include "experiments/train/trainer.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace cli {

void add_train(CLI::App& app) {
  struct Options {
    std::string config, run;
    std::vector<std::string> overrides;
    bool resume = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("train", "train a transformer from random init");
  cmd->add_option("--config", o->config, "YAML config file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->overrides, "override a config field, e.g. --set model.n_head=4");
  cmd->add_option("--run", o->run, "run directory (default: runs/<config name>)");
  cmd->add_flag("--resume", o->resume, "continue the run in --run from its last checkpoint");
  cmd->callback([o] {
    const lab::RunConfig cfg = lab::load_config(o->config, o->overrides);
    std::string run = o->run;
    if (run.empty()) {
      const auto slash = o->config.find_last_of('/'), dot = o->config.find_last_of('.');
      const auto start = slash == std::string::npos ? 0 : slash + 1;
      nn::make_directories("runs");
      run = "runs/" + o->config.substr(start, dot == std::string::npos || dot < start ? std::string::npos : dot - start);
    }
    lab::refuse_if_too_large(cfg);  // before anything is written
    const lab::Group group = lab::Group::world();  // several processes under mpirun
    const bool fresh = !nn::path_exists(run);
    std::optional<nn::DirectoryLock> lock;
    try {
      std::ostringstream quiet;  // the progress of every rank but the leader
      std::ostream& progress = group.leader() ? std::cerr : quiet;
      if (group.leader()) {
        progress << "GEMM: " << ag::blas::config() << "\n";
        if (!ag::blas::slow_path_warning().empty()) progress << ag::blas::slow_path_warning() << "\n";
        if (group.size() > 1) progress << "data parallel: " << group.size() << " processes\n";
        lock.emplace(lab::lock_run_dir(run, "icalign train"));
      }
      group.barrier();  // the run directory exists before any rank looks into it
      const auto r = lab::train(cfg, run, o->resume, progress, group);
      if (group.leader()) std::cout << "trained " << r.steps << " steps; final loss " << r.last_loss << "; run in " << run << "\n";
    } catch (...) {
      // A start that failed before its first checkpoint leaves no run directory behind: nothing in
      // it could be resumed, and its config.yaml would make the next start look like a second run.
      if (fresh && lock && nn::training_state_dir(run + "/checkpoint").empty()) {
        lock.reset();
        std::filesystem::remove_all(run);
      }
      throw;
    }
  });
}

}  // namespace cli

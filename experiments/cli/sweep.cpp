#include <cstdio>
#include <iostream>
#include <memory>

#include "autograd/blas.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/train/distributed.hpp"
#include "experiments/studies/sweep.hpp"

namespace cli {

void add_sweep(CLI::App& app) {
  struct Options {
    std::string grid, shard = "0/1";
    lab::SweepOptions sweep;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("sweep", "train and evaluate a grid of runs (resumable, shardable); "
                                          "gathers every run's curves into <out>/results.csv");
  cmd->add_option("--grid", o->grid, "grid file (YAML; see experiments/studies/sweep.hpp)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--shard", o->shard, "run only shard i of n: runs whose index mod n is i")->capture_default_str();
  cmd->add_option("--runs-dir", o->sweep.runs_dir, "where the run directories and results.csv go (default: the grid's out)");
  cmd->add_option("--only", o->sweep.only, "train only these runs: names (every seed) or name-sN; results.csv still gathers the whole grid");
  cmd->add_option("--set", o->sweep.overrides, "KEY=VALUE overrides for every run, after the grid's (e.g. training.threads=2)");
  cmd->callback([o] {
    int i = 0, n = 1;
    char rest = 0;
    if (std::sscanf(o->shard.c_str(), "%d/%d%c", &i, &n, &rest) != 2)
      throw std::invalid_argument("--shard must look like i/n (e.g. 0/2), got '" + o->shard + "'");
    // Under mpirun each rank is one shard: rank r of N runs shard r/N, every run in one process.
    const lab::Group group = lab::Group::world();
    if (group.size() > 1) {
      if (o->shard != "0/1") throw std::invalid_argument("--shard is given by the rank under mpirun; leave it out");
      i = group.rank(), n = group.size();
    }
    const lab::Sweep sweep = lab::load_sweep(o->grid, o->sweep);
    if (group.leader()) {
      std::cerr << "GEMM: " << ag::blas::config() << "\n";
      if (!ag::blas::slow_path_warning().empty()) std::cerr << ag::blas::slow_path_warning() << "\n";
    }
    const int trained = lab::run_sweep(sweep, i, n, std::cerr);
    group.barrier();  // every shard's runs are done: the results gathered now are the whole grid's
    if (group.leader()) lab::gather_results(sweep);
    std::cout << "sweep: " << trained << " runs trained in this call" << (n > 1 ? " (shard " + std::to_string(i) + "/" + std::to_string(n) + ")" : "")
              << "; " << sweep.all.size() << " in the grid; results in " << sweep.out << "/results.csv\n";
  });
}

}  // namespace cli

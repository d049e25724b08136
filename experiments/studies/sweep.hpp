// A grid of runs (configs × seeds), each trained and evaluated, resumable and shardable, with every
// run's eval curves gathered into one CSV. `icalign sweep --grid FILE` runs it.
//
// Grid file (YAML):
//   base: experiments/configs/small.yaml      # the config every run starts from
//   out: runs/sweep                            # where run directories and results.csv go
//   seeds: [1, 2, 3]
//   set: [training.train_steps=1500]           # overrides for every run
//   runs:                                      # name: overrides of that run
//     default: []
//     depth1: [model.n_layer=1]
//     heads6: {set: [model.n_head=6], seeds: [1]}   # a run with its own seeds
//   eval_noise: {default: [0, 0.25, 0.5, 0.75, 1]}   # extra reward-noise evaluations, per run name
//   order: runs                                # or seeds: every run's first seed before any second
//
// `out` may start with ~/ (the home directory): long grids keep their runs outside the checkout.
// Run i (in file order, seeds innermost unless order: seeds) belongs to shard i mod n. A run whose directory holds
// `done` is skipped; one with a checkpoint but no `done` is resumed; otherwise it starts afresh.
// So several processes (or machines sharing the directory) can run disjoint shards, and any of
// them can be killed and restarted.
#pragma once
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace lab {

struct SweepRun {
  std::string name;  // "<run>-s<seed>"
  std::string run, dir;
  std::uint64_t seed;
  std::vector<std::string> overrides;
  std::vector<double> eval_noise;

  // -1 (the run's own reward noise, eval.csv) and then each extra level.
  std::vector<double> noise_levels() const {
    std::vector<double> levels{-1.0};
    levels.insert(levels.end(), eval_noise.begin(), eval_noise.end());
    return levels;
  }
};

struct Sweep {
  std::string base, out;
  std::vector<SweepRun> runs;  // the runs to train (after --only)
  std::vector<SweepRun> all;   // every run of the grid: what results.csv gathers
};

// What the command line may change in a grid.
struct SweepOptions {
  std::string runs_dir;                // replaces the grid's `out` when not empty
  std::vector<std::string> overrides;  // appended to every run's overrides (e.g. training.threads=2)
  // When not empty, only these runs: a run name ("depth5", every seed) or a run and seed ("depth5-s1").
  // The grid keeps its order; results.csv still gathers every finished run of the whole grid.
  std::vector<std::string> only;
};

// Parses and checks the grid (unknown keys, a missing base, an empty grid: errors naming the field).
Sweep load_sweep(const std::string& path, const SweepOptions& options = {});

// Runs the runs of shard `shard` of `shards`; writes <out>/results.csv (all finished runs, every
// shard's) after each run. Returns the number of runs this call trained.
int run_sweep(const Sweep& sweep, int shard, int shards, std::ostream& progress);

// Gathers every finished run's eval*.csv into <out>/results.csv:
// run,seed,noise,method,k,mean,sem,n (noise -1: the run's own reward noise).
void gather_results(const Sweep& sweep);

}  // namespace lab

// icalign: the in-context alignment lab's command-line program.
//   icalign train     --config FILE [--set section.key=value ...] [--run DIR] [--resume]
//   icalign eval      --run DIR [--noise p ...] [--sequences n] [--seed s] [--gd-steps n] [--gd-plain]
//   icalign plot      --run DIR          (a PNG beside each eval*.csv, drawn by experiments/analysis/plot_eval.py)
//   icalign construct [--out DIR] [--run DIR]   (the explicit construction: equality, bound, ablations)
//   icalign bench     [--config A C] [--threads 1 2]   (training speed against PyTorch)
//   icalign sweep     --grid FILE [--shard i/n]       (a grid of runs; results.csv)
//   icalign selfcorrect --run DIR [--rounds 12] [--critic-noise 0 0.5 1]   (multi-round self-correction)
//   icalign agree     --run DIR [--sequences n]   (agreement with GD, invariance to reward maps)
// Each subcommand lives in experiments/cli/<name>.cpp.
#include <iostream>

#include "experiments/cli/commands.hpp"
#include "experiments/train/distributed.hpp"
#include "experiments/train/interrupts.hpp"

int main(int argc, char** argv) {
  CLI::App app{"icalign: train transformers on in-context alignment (Wang et al., NeurIPS 2024)"};
  app.require_subcommand(1);
  cli::add_train(app);
  cli::add_eval(app);
  cli::add_plot(app);
  cli::add_construct(app);
  cli::add_bench(app);
  cli::add_sweep(app);
  cli::add_selfcorrect(app);
  cli::add_agree(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lab::Interrupted& e) {
    lab::abort_job(std::string("icalign: ") + e.what(), 128 + e.signal);
  } catch (const std::exception& e) {
    lab::abort_job(std::string("icalign: error: ") + e.what(), 1);  // under MPI: the whole job, not one rank
  }
  lab::finalize_group();
  return 0;
}

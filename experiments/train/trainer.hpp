// Training a transformer from random init on the in-context alignment task, with the paper's loss
// (Plackett-Luce over every prefix) and optimizer (Adam). A run lives in a directory:
//   config.yaml        the resolved configuration
//   log.jsonl          one line per log_every steps: step, loss (mean since the last line), elapsed;
//                      and, every eval_every steps, the error on 256 held-out sequences
//   checkpoint/        the latest training state (nn/train_state.hpp), every checkpoint_every steps
//   snapshots/         with training.snapshot_every: the weights at those steps (step-000250.safetensors)
//   lock               held by the one process writing to the run (nn/dir_lock.hpp)
// A run killed at any moment and restarted with resume = true continues from its last checkpoint
// and ends bit-identical to an uninterrupted run.
#pragma once
#include <iosfwd>
#include <string>

#include "experiments/train/config.hpp"
#include "experiments/train/distributed.hpp"
#include "nn/dir_lock.hpp"

namespace lab {

struct TrainResult {
  long steps = 0;
  double last_loss = 0;  // the mean loss over the last log interval
};

// Creates the run directory if needed (its parent must exist: a missing parent is more likely a
// typo than a wish) and takes its lock; throws nn::DirectoryBusy naming the holder if another
// process has it. Whoever writes to a run directory holds this for as long as it writes.
nn::DirectoryLock lock_run_dir(const std::string& run_dir, const std::string& task);

// The lock of a run directory that must already hold a run (a config.yaml), for eval and selfcorrect.
nn::DirectoryLock lock_existing_run(const std::string& run_dir, const std::string& task);

// Trains the run in run_dir, whose lock the caller holds (its leader, under MPI). With a group of
// several processes (mpirun), each step's micro-batches are spread over them (data_parallel.hpp);
// the leader alone writes the log, the progress and the checkpoints.
// <run_dir>/snapshots/step-000250.safetensors for step 250.
std::string snapshot_path(const std::string& run_dir, long step);

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::ostream& progress,
                  const Group& group = Group::solo());

}  // namespace lab

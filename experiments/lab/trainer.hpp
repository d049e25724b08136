// Training a transformer from random init on the in-context alignment task, with the paper's loss
// (Plackett-Luce over every prefix) and optimizer (Adam). A run lives in a directory:
//   config.yaml        the resolved configuration
//   log.jsonl          one line per log_every steps: step, loss (mean since the last line), elapsed;
//                      and, every eval_every steps, the error on 256 held-out sequences
//   checkpoint/        the latest training state (nn/train_state.hpp), every checkpoint_every steps
// A run killed at any moment and restarted with resume = true continues from its last checkpoint
// and ends bit-identical to an uninterrupted run.
#pragma once
#include <iosfwd>
#include <string>

#include "experiments/lab/config.hpp"

namespace lab {

struct TrainResult {
  long steps = 0;
  double last_loss = 0;  // the mean loss over the last log interval
};

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::ostream& progress);

}  // namespace lab

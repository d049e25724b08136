// A trained run as the studies read it: its config and the model of its newest checkpoint.
#pragma once
#include <memory>
#include <string>

#include "experiments/train/config.hpp"

namespace lab {

struct TrainedRun {
  RunConfig cfg;
  std::unique_ptr<ICAlignTransformer<float>> model;
};

// A run's config and its newest checkpoint's model; clear errors if either is missing or corrupt.
// With `weights` (a .safetensors file, e.g. a snapshot), those weights instead of the checkpoint's.
TrainedRun load_run(const std::string& run_dir, const std::string& weights = "");

}  // namespace lab

#include "experiments/train/run.hpp"

#include <stdexcept>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace lab {

TrainedRun load_run(const std::string& run_dir, const std::string& weights) {
  RunConfig cfg = load_run_config(run_dir);
  std::string file = weights;
  if (file.empty()) {
    std::string state = nn::training_state_dir(run_dir + "/checkpoint");
    // A released model (docs/results/paper_model) ships its weights without the optimizer's state.
    if (state.empty() && nn::path_exists(run_dir + "/checkpoint/model.safetensors")) state = run_dir + "/checkpoint";
    if (state.empty()) throw std::runtime_error("run '" + run_dir + "' has no checkpoint to evaluate");
    file = state + "/model.safetensors";
  }
  ag::Rng unused(0);
  auto model = std::make_unique<ICAlignTransformer<float>>(cfg.model, unused);
  nn::load_safetensors(file, model->named_parameters());
  return {std::move(cfg), std::move(model)};
}

}  // namespace lab

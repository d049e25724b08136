// Evaluation of a trained run against the baselines on the same held-out sequences: the error
// 1 - cos(answer, y*) at each number of in-context examples k = 1..N-1, mean and standard error.
#pragma once
#include <string>
#include <vector>

#include "experiments/lab/baselines.hpp"
#include "experiments/lab/config.hpp"

namespace lab {

struct Curve {
  std::string method;
  std::vector<double> mean, sem;  // index k - 1 for k = 1..N-1
};

struct EvalOptions {
  std::size_t sequences = 1024;
  std::uint64_t seed = 1000003;  // the training data comes from another stream (trainer.cpp)
  double reward_noise = -1;      // < 0: the run's own task.reward_noise
  GdOptions gd;
};

// Loads the run's config and newest checkpoint (clear errors if missing or corrupt) and evaluates the
// model and every baseline. Methods: model, gd, mean_response, best_response, reward_weighted, exact.
std::vector<Curve> evaluate_run(const std::string& run_dir, const EvalOptions& opt);

// CSV with columns method,k,mean,sem,n, written atomically.
void write_csv(const std::string& path, const std::vector<Curve>& curves, std::size_t n);

}  // namespace lab

// Evaluation of a trained run against the baselines on the same held-out sequences: the error
// 1 - cos(answer, y*) at each number of in-context examples k = 1..N-1, mean and standard error.
#pragma once
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "experiments/methods/answerer.hpp"
#include "experiments/train/run.hpp"

namespace lab {

struct Curve {
  std::string method;
  std::vector<double> mean, sem;  // index k - 1 for k = 1..N-1
};

struct EvalOptions {
  std::size_t sequences = 1024;
  std::uint64_t seed = 1000003;  // the training data comes from another stream (trainer.cpp)
  double reward_noise = -1;      // < 0: the run's own task.reward_noise
  std::string responses;         // "line" or "spread"; empty: the run's own task.responses
  GdOptions gd;
  // GD's step budget at reward noise p is int(50 - 25 p), the official evaluation's; false: gd.steps at every p.
  bool gd_steps_by_noise = true;
};

// Appends the mean and standard error of the mean of per-sequence errors e to c.
void summarise(const std::vector<double>& e, Curve& c);

// GD's answer (B, d) from the first k triplets at reward noise p, as the evaluation's "gd" row computes
// it: its initialisation is drawn from a stream seeded with opt.seed + k, the same for every run.
ag::TensorD eval_gd_answers(const Batch<double>& b, std::size_t k, const EvalOptions& opt, double reward_noise);

// Each answerer's error curve 1 - cos(answer, y*) on b over k = 1..N-1 (x-token k has seen k triplets).
std::vector<Curve> curves_over_k(const std::vector<Answerer>& answerers, const Batch<double>& b);

// A loaded run's held-out sequences (seed opt.seed, the run's task or opt.reward_noise) and its
// trained model's answers on them, (B, N, d) in double. One seed gives the same sequences at every
// reward noise level; only the in-context rewards differ.
struct HeldOut {
  RunConfig cfg;
  TaskConfig task;  // the task evaluated on
  Batch<double> batch;
  ag::TensorD answers;
};
HeldOut held_out(const TrainedRun& run, const EvalOptions& opt);

// The model's curve and every baseline's on h's sequences: model, gd, mean_response, best_response,
// reward_weighted, exact.
std::vector<Curve> evaluate(const HeldOut& h, const EvalOptions& opt);

// Loads the run's config and newest checkpoint (clear errors if missing or corrupt) and evaluates it.
std::vector<Curve> evaluate_run(const std::string& run_dir, const EvalOptions& opt);

// The curves as a table, a row per k: "k  method ±sem ...".
void print_curves(std::FILE* out, const std::vector<Curve>& curves);

// The CSV's name inside a run directory: eval.csv at the run's own reward noise (< 0), else
// eval_noise0.25.csv and so on.
std::string eval_csv_name(double reward_noise);

// CSV with columns method,k,mean,sem,n, written atomically.
void write_csv(const std::string& path, const std::vector<Curve>& curves, std::size_t n);

}  // namespace lab

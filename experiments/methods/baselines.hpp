// What a trained model is compared with, on the same held-out sequences (docs/paper.md, "Evaluation"). At k
// in-context examples (responses 0..k-1 with their in-context rewards), each method predicts one
// answer per sequence; its error is 1 - cos(answer, y*).
#pragma once
#include <string>
#include <vector>

#include "experiments/task/task.hpp"

namespace lab {

// 1 - cos(a_b, y*_b) per sequence: a, ystar (B, d) -> B values in [0, 2].
std::vector<double> alignment_error(const ag::TensorD& answers, const ag::TensorD& ystar);

// Simple baselines at k >= 1 examples: (B, d) answers.
ag::TensorD mean_response(const Batch<double>& b, std::size_t k);       // mean of y_0..y_{k-1}
ag::TensorD best_response(const Batch<double>& b, std::size_t k);       // the highest-reward response (top-1)
ag::TensorD reward_weighted(const Batch<double>& b, std::size_t k);     // sum r_i y_i / sum r_i
// Knows the task's form y_i = r_i y* + (1 - r_i) e: two responses with distinct rewards determine y*,
// y* = ((1 - r_2) y_1 - (1 - r_1) y_2) / (r_1 - r_2). Exact with true rewards and k >= 2 — an upper bound on
// what any method can reach; with k = 1 it answers y_1.
ag::TensorD exact_solution(const Batch<double>& b, std::size_t k);

// The construction as an answerer of the task: one GD step on the quadratic PL loss from u0 = 0
// over the first k triplets of b (docs/construction.md); (B, d), zeros below k = 2.
ag::TensorD construction_answers(const Batch<double>& b, std::size_t k);

// The paper's GD baseline: a linear policy answer = W x (W d×d, no bias, PyTorch's default init
// U(±1/sqrt(d))), trained on the PL loss (cosine scores) over the first k responses. Adam, lr 0.1,
// 50 steps by default, as the official evaluation; plain GD as an option. Each sequence has its own W
// (a (B, d, d) tensor with a summed loss: Adam works elementwise, so the runs are independent).
struct GdOptions {
  int steps = 50;
  double lr = 0.1;
  bool adam = true;
};
ag::TensorD gd_answers(const Batch<double>& b, std::size_t k, const GdOptions& opt, ag::Rng& init_rng);

// GD's answer with its initialisation drawn from a stream seeded with seed + k: the rule of every study
// that compares with GD (evaluation, the loop, agreement, the construction's comparison), so that they
// all meet the same GD on the same sequences.
ag::TensorD gd_answers_seeded(const Batch<double>& b, std::size_t k, const GdOptions& opt, std::uint64_t seed);

// Plain gradient descent on the PL loss with the quadratic reward s_j = -β ‖W x - y_j‖² (the theory's
// objective), from W0 (B, d, d), with learning rate eta, for `steps` steps; returns W x (B, d). The
// reference the explicit construction must equal. x (B, d), ys (B, k, d), rs (B, k).
ag::TensorD gd_quadratic_answers(const ag::TensorD& W0, const ag::TensorD& x, const ag::TensorD& ys, const ag::TensorD& rs,
                                 double beta, double eta, int steps);

}  // namespace lab

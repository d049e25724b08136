// The synthetic in-context alignment task of the paper's official code
// (synthetic_experiment/samplers.py + tasks.py; docs/paper.md, "The task").
//
// Per sequence: one query x ~ N(0, I_d), repeated at all N positions; a target map W* and a "bad"
// map W_eps with N(0, 1) entries; y* = x W*, e = x W_eps; rewards r_i ~ U(0, 1); responses
// y_i = r_i y* + (1 - r_i) e, so a higher reward means a response closer to the target.
//
// A variant beyond the paper (task.responses: spread, docs/self_correction.md): every response mixes
// y* with a wrong direction of its own, e_i = x W_i, and is scaled to ‖y*‖; its reward is its quality,
// (1 + cos(y_i, y*)) / 2. The responses then cover every direction around y*, and a critic can score
// any answer the same way, so a model's own answers are in distribution as context.
#pragma once
#include <string>

#include "autograd/autograd.hpp"

namespace lab {

enum class Responses { Line, Spread };

struct TaskConfig {
  Responses responses = Responses::Line;
  std::size_t n_dims = 5;      // d
  std::size_t n_points = 20;   // N
  double reward_noise = 0.0;   // p: each in-context reward is replaced by a fresh U(0,1) with this probability

  void validate() const;  // throws std::invalid_argument naming the field
};

template <class T>
struct Batch {
  ag::Tensor<T> xs;        // (B, N, d) the query, repeated
  ag::Tensor<T> ys;        // (B, N, d) responses
  ag::Tensor<T> rs;        // (B, N)    in-context rewards (noisy when reward_noise > 0)
  ag::Tensor<T> rs_true;   // (B, N)    the mixing weights the responses were built with
  ag::Tensor<T> ystar;     // (B, d)    the target
  ag::Tensor<T> e;         // (B, d)    the bad response (line task; undefined on the spread task)
};

// Draws B sequences. With reward noise p > 0, the B sequences are drawn first, then the noise
// (replace_rewards): one seed gives the same sequences at every p, and the responses keep their true
// mixtures. At p = 0 no noise is drawn.
template <class T>
Batch<T> sample_batch(const TaskConfig& cfg, std::size_t B, ag::Rng& rng);

// The official code's reward noise: each of the n rewards r is replaced, independently with
// probability p, by a fresh U(0, 1) draw. Two draws per reward whatever p, so one stream gives nested
// replacements across p (a reward replaced at p is replaced, by the same value, at every p' > p).
void replace_rewards(double* r, std::size_t n, double p, ag::Rng& rng);

// The bad response e of each sequence (B, d): every y_i lies on the line from e to y*. An error on
// the spread task, whose responses each have a wrong direction of their own.
ag::TensorD bad_responses(const Batch<double>& b);

// "line" or "spread" as a task's Responses; an error naming the allowed values otherwise.
Responses parse_responses(const std::string& name);

// The reward of the spread task for an answer a (d values): (1 + cos(a, y*)) / 2.
double spread_reward(const double* a, const double* ystar, std::size_t d);

}  // namespace lab

#include "experiments/task/task.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace lab {

void TaskConfig::validate() const {
  if (n_dims < 2) throw std::invalid_argument("task.n_dims must be >= 2 (got " + std::to_string(n_dims) + ")");
  if (n_points < 3) throw std::invalid_argument("task.n_points must be >= 3 (got " + std::to_string(n_points) + ")");
  if (!(reward_noise >= 0.0 && reward_noise <= 1.0))
    throw std::invalid_argument("task.reward_noise must be in [0, 1] (got " + std::to_string(reward_noise) + ")");
}

template <class T>
Batch<T> sample_batch(const TaskConfig& cfg, std::size_t B, ag::Rng& rng) {
  cfg.validate();
  const std::size_t N = cfg.n_points, d = cfg.n_dims;
  const bool line = cfg.responses == Responses::Line;
  Batch<T> b{ag::Tensor<T>::empty({B, N, d}), ag::Tensor<T>::empty({B, N, d}), ag::Tensor<T>::empty({B, N}),
             ag::Tensor<T>::empty({B, N}), ag::Tensor<T>::empty({B, d}),
             line ? ag::Tensor<T>::empty({B, d}) : ag::Tensor<T>{}};
  std::vector<double> x(d), W(d * d), We(d * d), ystar(d), e(d), mix(d);
  for (std::size_t s = 0; s < B; ++s) {
    for (auto& v : x) v = rng.normal();
    for (auto& v : W) v = rng.normal();
    for (auto& v : We) v = rng.normal();
    for (std::size_t j = 0; j < d; ++j) {  // row vector times matrix: (x W)_j = sum_i x_i W_ij
      ystar[j] = e[j] = 0;
      for (std::size_t i = 0; i < d; ++i) ystar[j] += x[i] * W[i * d + j], e[j] += x[i] * We[i * d + j];
      b.ystar.data()[s * d + j] = static_cast<T>(ystar[j]);
      if (line) b.e.data()[s * d + j] = static_cast<T>(e[j]);
    }
    const double norm_ystar = std::sqrt(std::inner_product(ystar.begin(), ystar.end(), ystar.begin(), 0.0));
    for (std::size_t n = 0; n < N; ++n) {
      const double r = rng.uniform();
      if (cfg.responses == Responses::Spread) {  // a wrong direction of its own, e = x W_n
        for (auto& v : We) v = rng.normal();
        for (std::size_t j = 0; j < d; ++j) {
          e[j] = 0;
          for (std::size_t i = 0; i < d; ++i) e[j] += x[i] * We[i * d + j];
        }
      }
      for (std::size_t j = 0; j < d; ++j) mix[j] = r * ystar[j] + (1 - r) * e[j];
      double reward = r;
      if (cfg.responses == Responses::Spread) {
        const double norm = std::sqrt(std::inner_product(mix.begin(), mix.end(), mix.begin(), 0.0));
        for (auto& v : mix) v *= norm > 0 ? norm_ystar / norm : 0.0;
        reward = spread_reward(mix.data(), ystar.data(), d);
      }
      b.rs_true.data()[s * N + n] = b.rs.data()[s * N + n] = static_cast<T>(reward);
      for (std::size_t j = 0; j < d; ++j) {
        b.xs.data()[(s * N + n) * d + j] = static_cast<T>(x[j]);
        b.ys.data()[(s * N + n) * d + j] = static_cast<T>(mix[j]);
      }
    }
  }
  if (cfg.reward_noise > 0) {  // after every sequence, so that they do not depend on p
    std::vector<double> r(b.rs.data(), b.rs.data() + B * N);
    replace_rewards(r.data(), r.size(), cfg.reward_noise, rng);
    std::transform(r.begin(), r.end(), b.rs.data(), [](double v) { return static_cast<T>(v); });
  }
  return b;
}

void replace_rewards(double* r, std::size_t n, double p, ag::Rng& rng) {
  for (std::size_t i = 0; i < n; ++i) {
    const bool replaced = rng.uniform() < p;
    const double fresh = rng.uniform();
    if (replaced) r[i] = fresh;
  }
}

template Batch<float> sample_batch(const TaskConfig&, std::size_t, ag::Rng&);
template Batch<double> sample_batch(const TaskConfig&, std::size_t, ag::Rng&);

Responses parse_responses(const std::string& name) {
  if (name == "line") return Responses::Line;
  if (name == "spread") return Responses::Spread;
  throw std::invalid_argument("responses must be line or spread, got '" + name + "'");
}

double spread_reward(const double* a, const double* ystar, std::size_t d) {
  double dot = 0, na = 0, ny = 0;
  for (std::size_t i = 0; i < d; ++i) dot += a[i] * ystar[i], na += a[i] * a[i], ny += ystar[i] * ystar[i];
  return 0.5 + 0.5 * dot / std::sqrt(std::max(na * ny, 1e-300));
}

ag::TensorD bad_responses(const Batch<double>& b) {
  if (!b.e.defined()) throw std::invalid_argument("bad_responses: the spread task has no single bad response e");
  return b.e;
}

}  // namespace lab

#include "experiments/lab/task.hpp"

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
  const auto n_noisy = static_cast<std::size_t>(std::lround(cfg.reward_noise * static_cast<double>(N)));
  Batch<T> b{ag::Tensor<T>::empty({B, N, d}), ag::Tensor<T>::empty({B, N, d}), ag::Tensor<T>::empty({B, N}),
             ag::Tensor<T>::empty({B, N}), ag::Tensor<T>::empty({B, d})};
  std::vector<double> x(d), W(d * d), We(d * d), ystar(d), e(d), mix(d);
  std::vector<std::size_t> order(N);
  for (std::size_t s = 0; s < B; ++s) {
    for (auto& v : x) v = rng.normal();
    for (auto& v : W) v = rng.normal();
    for (auto& v : We) v = rng.normal();
    for (std::size_t j = 0; j < d; ++j) {  // row vector times matrix: (x W)_j = sum_i x_i W_ij
      ystar[j] = e[j] = 0;
      for (std::size_t i = 0; i < d; ++i) ystar[j] += x[i] * W[i * d + j], e[j] += x[i] * We[i * d + j];
      b.ystar.data()[s * d + j] = static_cast<T>(ystar[j]);
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
    // Reward noise: a partial Fisher-Yates shuffle picks n_noisy distinct positions.
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = 0; i < n_noisy; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(rng.uniform() * static_cast<double>(N - i));
      std::swap(order[i], order[std::min(j, N - 1)]);
      b.rs.data()[s * N + order[i]] = static_cast<T>(rng.uniform());
    }
  }
  return b;
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
  const std::size_t B = b.ys.shape()[0], N = b.ys.shape()[1], d = b.ys.shape()[2];
  ag::TensorD e = ag::TensorD::empty({B, d});
  for (std::size_t s = 0; s < B; ++s) {
    const double r0 = b.rs_true.data()[s * N];
    for (std::size_t a = 0; a < d; ++a) {
      const double ystar = b.ystar.data()[s * d + a];
      e.data()[s * d + a] = (b.ys.data()[s * N * d + a] - r0 * ystar) / (1 - r0);
    }
  }
  return e;
}

}  // namespace lab

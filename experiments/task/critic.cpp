#include "experiments/task/critic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace lab {

namespace {

double cos_to(const double* a, const double* y, std::size_t d) {
  double dot = 0, na = 0, ny = 0;
  for (std::size_t i = 0; i < d; ++i) dot += a[i] * y[i], na += a[i] * a[i], ny += y[i] * y[i];
  return dot / std::sqrt(std::max(na * ny, 1e-300));
}

// The reward r of the line's response y_r = e + r (y* - e) whose quality cos(y_r, y*) is `want`.
double line_reward(const double* e, const double* ystar, std::size_t d, double want) {
  std::vector<double> y(d);
  double lo = 0, hi = 1;  // cos(y_r, y*) increases with r
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    for (std::size_t i = 0; i < d; ++i) y[i] = e[i] + mid * (ystar[i] - e[i]);
    (cos_to(y.data(), ystar, d) < want ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

std::vector<double> critic_scores(const TaskConfig& task, const Batch<double>& truth, const ag::TensorD& a) {
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  std::vector<double> score(B);
  const ag::TensorD e = task.responses == Responses::Line ? bad_responses(truth) : ag::TensorD{};
  for (std::size_t s = 0; s < B; ++s) {
    const double *ys = truth.ystar.data() + s * d, *as = a.data() + s * d;
    score[s] = task.responses == Responses::Spread ? spread_reward(as, ys, d)
                                                   : line_reward(e.data() + s * d, ys, d, cos_to(as, ys, d));
  }
  return score;
}

ag::TensorD at_context_length(const Batch<double>& ctx, std::size_t n, const ag::TensorD& a) {
  const std::size_t B = a.shape()[0], d = a.shape()[1], N = ctx.ys.shape()[1];
  ag::TensorD out = ag::TensorD::empty({B, d});
  for (std::size_t s = 0; s < B; ++s) {
    double length = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double* y = ctx.ys.data() + (s * N + j) * d;
      length += std::sqrt(std::inner_product(y, y + d, y, 0.0));
    }
    length /= static_cast<double>(n);
    const double* as = a.data() + s * d;
    const double norm = std::sqrt(std::inner_product(as, as + d, as, 0.0));
    for (std::size_t i = 0; i < d; ++i) out.data()[s * d + i] = norm > 0 ? as[i] * (length / norm) : 0.0;
  }
  return out;
}

ag::TensorD sample_around(const ag::TensorD& a, double sigma, ag::Rng& rng) {
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  ag::TensorD out = ag::TensorD::empty({B, d});
  for (std::size_t s = 0; s < B; ++s) {
    double norm = 0;
    for (std::size_t i = 0; i < d; ++i) norm += a.data()[s * d + i] * a.data()[s * d + i];
    norm = norm > 0 ? std::sqrt(norm) : 1.0;
    for (std::size_t i = 0; i < d; ++i)
      out.data()[s * d + i] = a.data()[s * d + i] / norm + sigma * rng.normal() / std::sqrt(static_cast<double>(d));
  }
  return out;
}

void append_critiqued(const TaskConfig& task, const Batch<double>& truth, Batch<double>& ctx, std::size_t n,
                      const ag::TensorD& a, const CriticOptions& critic, ag::Rng& noise, ag::Rng& explore) {
  const std::size_t B = a.shape()[0], d = a.shape()[1], N = ctx.ys.shape()[1];
  if (n < 1 || n >= N) throw std::invalid_argument("append_critiqued: triplet " + std::to_string(n) + " outside 1.." + std::to_string(N - 1));
  const ag::TensorD response = at_context_length(ctx, n, critic.explore > 0 ? sample_around(a, critic.explore, explore) : a);
  const std::vector<double> score = critic_scores(task, truth, response);
  std::vector<double> reported = score;
  if (critic.constant >= 0)
    std::fill(reported.begin(), reported.end(), critic.constant);
  else
    replace_rewards(reported.data(), B, critic.noise, noise);
  for (std::size_t s = 0; s < B; ++s) {
    std::copy_n(response.data() + s * d, d, ctx.ys.data() + (s * N + n) * d);
    ctx.rs.data()[s * N + n] = reported[s];
    ctx.rs_true.data()[s * N + n] = score[s];
  }
}

}  // namespace lab

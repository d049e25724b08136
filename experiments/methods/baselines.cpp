#include "experiments/methods/baselines.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "experiments/model/construction.hpp"
#include "experiments/task/losses.hpp"
#include "nn/optim.hpp"

namespace lab {
namespace {

struct Dims {
  std::size_t B, N, d;
};
Dims dims(const Batch<double>& b, std::size_t k) {
  const Dims s{b.ys.shape()[0], b.ys.shape()[1], b.ys.shape()[2]};
  if (k < 1 || k > s.N) throw std::invalid_argument("baseline: k must be in 1.." + std::to_string(s.N) + ", got " + std::to_string(k));
  return s;
}
const double* response(const Batch<double>& b, const Dims& s, std::size_t seq, std::size_t i) {
  return b.ys.data() + (seq * s.N + i) * s.d;
}
double reward(const Batch<double>& b, const Dims& s, std::size_t seq, std::size_t i) { return b.rs.data()[seq * s.N + i]; }

// answer[seq] = sum_i w(seq, i) y_i over the first k responses
template <class W>
ag::TensorD weighted(const Batch<double>& b, std::size_t k, W w) {
  const Dims s = dims(b, k);
  ag::TensorD a = ag::TensorD::zeros({s.B, s.d});
  for (std::size_t seq = 0; seq < s.B; ++seq)
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < s.d; ++j) a.data()[seq * s.d + j] += w(seq, i) * response(b, s, seq, i)[j];
  return a;
}

}  // namespace

std::vector<double> alignment_error(const ag::TensorD& answers, const ag::TensorD& ystar) {
  return (1.0 - ag::cosine_similarity(answers, ystar, -1)).to_vector();
}

ag::TensorD mean_response(const Batch<double>& b, std::size_t k) {
  return weighted(b, k, [k](std::size_t, std::size_t) { return 1.0 / static_cast<double>(k); });
}

ag::TensorD best_response(const Batch<double>& b, std::size_t k) {
  const Dims s = dims(b, k);
  return weighted(b, k, [&](std::size_t seq, std::size_t i) {
    std::size_t best = 0;  // the first of the highest rewards
    for (std::size_t m = 1; m < k; ++m)
      if (reward(b, s, seq, m) > reward(b, s, seq, best)) best = m;
    return i == best ? 1.0 : 0.0;
  });
}

ag::TensorD reward_weighted(const Batch<double>& b, std::size_t k) {
  const Dims s = dims(b, k);
  return weighted(b, k, [&](std::size_t seq, std::size_t i) {
    double total = 0;
    for (std::size_t m = 0; m < k; ++m) total += reward(b, s, seq, m);
    return total > 0 ? reward(b, s, seq, i) / total : 1.0 / static_cast<double>(k);
  });
}

ag::TensorD exact_solution(const Batch<double>& b, std::size_t k) {
  const Dims s = dims(b, k);
  if (k == 1) return weighted(b, 1, [](std::size_t, std::size_t) { return 1.0; });
  return weighted(b, 2, [&](std::size_t seq, std::size_t i) {
    const double r1 = reward(b, s, seq, 0), r2 = reward(b, s, seq, 1);
    if (r1 == r2) return 0.5;  // not identifiable from these two: fall back to their mean
    return i == 0 ? (1 - r2) / (r1 - r2) : -(1 - r1) / (r1 - r2);
  });
}

ag::TensorD gd_answers(const Batch<double>& b, std::size_t k, const GdOptions& opt, ag::Rng& init_rng) {
  const Dims s = dims(b, k);
  const long B = static_cast<long>(s.B), d = static_cast<long>(s.d);
  const double bound = 1.0 / std::sqrt(static_cast<double>(s.d));
  ag::TensorD W = ag::rand_uniform<double>({s.B, s.d, s.d}, init_rng, -bound, bound);  // (B, out, in)
  W.requires_grad_();
  const ag::TensorD x = ag::reshape(ag::slice(b.xs, 1, 0, 1), {B, d, 1});  // (B, d, 1)
  const ag::TensorD ys = ag::slice(b.ys, 1, 0, k), rs = ag::slice(b.rs, 1, 0, k);
  auto answer = [&] { return ag::reshape(ag::matmul(W, x), {B, d}); };  // W x: (B, d)
  std::unique_ptr<nn::Optimizer<double>> optimizer;
  if (opt.adam) optimizer = std::make_unique<nn::Adam<double>>(nn::NamedParams<double>{{"W", W}}, opt.lr);
  else optimizer = std::make_unique<nn::SGD<double>>(nn::NamedParams<double>{{"W", W}}, opt.lr);
  for (int step = 0; step < opt.steps; ++step) {
    optimizer->zero_grad();
    ag::sum(pl_loss_context(answer(), ys, rs)).backward();  // summed: each W gets its own sequence's gradient
    optimizer->step();
  }
  ag::NoGradGuard no_grad;
  return answer().detach();
}

ag::TensorD gd_quadratic_answers(const ag::TensorD& W0, const ag::TensorD& x, const ag::TensorD& ys, const ag::TensorD& rs,
                                 double beta, double eta, int steps) {
  if (!ag::grad_enabled()) throw std::logic_error("gd_quadratic_answers: needs autograd, but runs under a NoGradGuard");
  const long B = static_cast<long>(x.shape()[0]), d = static_cast<long>(x.shape()[1]);
  if (W0.shape() != ag::Shape{x.shape()[0], x.shape()[1], x.shape()[1]})
    throw ag::ShapeError("gd_quadratic_answers: W0 must be (B, d, d) for x " + ag::shape_str(x.shape()) + ", got " +
                         ag::shape_str(W0.shape()));
  ag::TensorD W = ag::TensorD::from_vector(W0.shape(), W0.to_vector());  // a copy: W0 stays as it was
  W.requires_grad_();
  const ag::TensorD xcol = ag::reshape(x, {B, d, 1});
  auto answer = [&] { return ag::reshape(ag::matmul(W, xcol), {B, d}); };
  nn::SGD<double> sgd(nn::NamedParams<double>{{"W", W}}, eta);
  for (int step = 0; step < steps; ++step) {
    sgd.zero_grad();
    ag::sum(pl_loss_context_quadratic(answer(), ys, rs, beta)).backward();
    sgd.step();
  }
  ag::NoGradGuard no_grad;
  return answer().detach();
}

ag::TensorD gd_answers_seeded(const Batch<double>& b, std::size_t k, const GdOptions& opt, std::uint64_t seed) {
  ag::Rng init(seed + k);
  return gd_answers(b, k, opt, init);
}

ag::TensorD construction_answers(const Batch<double>& b, std::size_t k) {
  const std::size_t B = b.xs.shape()[0], d = b.xs.shape()[2];
  ag::TensorD u0 = ag::TensorD::zeros({B, d});
  if (k < 2) return u0;
  ConstructionConfig cfg;
  cfg.n_responses = k, cfg.n_dims = d, cfg.min_gap = 1e-6;
  return answers(cfg, u0, ag::slice(b.ys, 1, 0, k), ag::slice(b.rs, 1, 0, k));
}

}  // namespace lab

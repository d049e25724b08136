#include "autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "autograd/rng.hpp"

namespace ag {
namespace {

// Analytic d(sum(seed * f))/d(inputs), one gradient buffer per input (zeros if none arrived).
std::vector<std::vector<double>> analytic_grads(const DoubleFn& f, const std::vector<TensorD>& inputs,
                                                const TensorD& seed) {
  for (auto x : inputs) x.zero_grad();
  const TensorD y = f(inputs);
  if (y.requires_grad()) y.backward(seed);
  std::vector<std::vector<double>> g;
  for (const auto& x : inputs) g.push_back(x.has_grad() ? x.grad().to_vector() : std::vector<double>(x.numel(), 0.0));
  return g;
}

std::vector<double> eval(const DoubleFn& f, const std::vector<TensorD>& inputs) {
  NoGradGuard no_grad;
  return f(inputs).to_vector();
}

bool within(double a, double n, const GradcheckOptions& o) { return std::abs(a - n) <= o.atol + o.rtol * std::abs(n); }

}  // namespace

GradcheckResult gradcheck(const DoubleFn& f, const std::vector<TensorD>& inputs, const GradcheckOptions& opt) {
  std::vector<TensorD> xs;
  for (auto x : inputs) xs.push_back(x.requires_grad_());
  Shape out_shape;
  {
    NoGradGuard no_grad;
    out_shape = f(xs).shape();
  }
  const std::size_t m = numel(out_shape);

  // Analytic Jacobian, row j = gradient of output element j.
  std::vector<std::vector<std::vector<double>>> rows;  // [j][input][k]
  for (std::size_t j = 0; j < m; ++j) {
    TensorD seed = TensorD::zeros(out_shape);
    seed.data()[j] = 1.0;
    rows.push_back(analytic_grads(f, xs, seed));
  }

  GradcheckResult res;
  double worst = 0;  // largest excess over the tolerance
  for (std::size_t i = 0; i < xs.size(); ++i) {
    double* p = xs[i].data();
    for (std::size_t k = 0; k < xs[i].numel(); ++k) {
      const double orig = p[k];
      p[k] = orig + opt.eps;
      const auto plus = eval(f, xs);
      p[k] = orig - opt.eps;
      const auto minus = eval(f, xs);
      p[k] = orig;
      for (std::size_t j = 0; j < m; ++j) {
        const double n = (plus[j] - minus[j]) / (2 * opt.eps), a = rows[j][i][k];
        const double excess = std::abs(a - n) - (opt.atol + opt.rtol * std::abs(n));
        if ((!within(a, n, opt) || std::isnan(a) != std::isnan(n)) && (res.ok || excess > worst)) {
          worst = excess;
          res.ok = false;
          std::ostringstream os;
          os << "gradcheck failed: input " << i << " of shape " << shape_str(xs[i].shape()) << ", element " << k
             << ", output element " << j << " of " << shape_str(out_shape) << ": analytic " << a << " vs numeric "
             << n << " (|a-n| = " << std::abs(a - n) << ", allowed " << opt.atol + opt.rtol * std::abs(n) << ")";
          res.message = os.str();
        }
      }
    }
  }
  return res;
}

GradcheckResult gradcheck_random_direction(const DoubleFn& f, const std::vector<TensorD>& inputs, std::uint64_t seed,
                                           const GradcheckOptions& opt) {
  Rng rng(seed);
  std::vector<TensorD> xs;
  for (auto x : inputs) xs.push_back(x.requires_grad_());
  Shape out_shape;
  {
    NoGradGuard no_grad;
    out_shape = f(xs).shape();
  }
  const TensorD v = randn<double>(out_shape, rng);
  std::vector<TensorD> us;
  for (const auto& x : xs) us.push_back(randn<double>(x.shape(), rng));

  const auto grads = analytic_grads(f, xs, v);
  double analytic = 0;
  for (std::size_t i = 0; i < xs.size(); ++i)
    for (std::size_t k = 0; k < xs[i].numel(); ++k) analytic += us[i].data()[k] * grads[i][k];

  auto shifted = [&](double h) {
    std::vector<std::vector<double>> saved;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      saved.push_back(xs[i].to_vector());
      for (std::size_t k = 0; k < xs[i].numel(); ++k) xs[i].data()[k] += h * us[i].data()[k];
    }
    auto y = eval(f, xs);
    for (std::size_t i = 0; i < xs.size(); ++i) std::copy(saved[i].begin(), saved[i].end(), xs[i].data());
    return y;
  };
  const auto plus = shifted(opt.eps), minus = shifted(-opt.eps);
  double numeric = 0;
  for (std::size_t j = 0; j < plus.size(); ++j) numeric += v.data()[j] * (plus[j] - minus[j]) / (2 * opt.eps);

  GradcheckResult res;
  if (!within(analytic, numeric, opt)) {
    res.ok = false;
    std::ostringstream os;
    os << "random-direction gradcheck failed (seed " << seed << "): <u, J^T v> = " << analytic
       << " vs finite differences " << numeric;
    res.message = os.str();
  }
  return res;
}

}  // namespace ag

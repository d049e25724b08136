// Forward values against independent, obviously-correct loops (the gradchecks then tie each
// backward to its forward).
#include <cmath>

#include "testing.hpp"

using namespace agtest;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

TEST_CASE("matmul equals a naive triple loop (2-D, folded and broadcast batch, float and double)", "[values]") {
  const TensorD a = randd({2, 3, 5, 4}, 1), b = randd({3, 4, 6}, 2);
  const TensorD c = ag::matmul(a, b);
  REQUIRE(c.shape() == ag::Shape{2, 3, 5, 6});
  for (std::size_t p = 0; p < 2; ++p)
    for (std::size_t q = 0; q < 3; ++q)
      for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 6; ++j) {
          double s = 0;
          for (std::size_t k = 0; k < 4; ++k) s += a.data()[((p * 3 + q) * 5 + i) * 4 + k] * b.data()[(q * 4 + k) * 6 + j];
          CHECK_THAT(c.data()[((p * 3 + q) * 5 + i) * 6 + j], WithinAbs(s, 1e-12));
        }
  // A 2-D right operand with more rows than one parallel block (256).
  const TensorF x = randf({600, 7}, 3), w = randf({7, 3}, 4);
  const TensorF y = ag::matmul(x, w);
  for (std::size_t i = 0; i < 600; i += 37)
    for (std::size_t j = 0; j < 3; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < 7; ++k) s += double(x.data()[i * 7 + k]) * w.data()[k * 3 + j];
      CHECK_THAT(y.data()[i * 3 + j], WithinAbs(s, 1e-5));
    }
}

TEST_CASE("linear equals matmul with the transposed weight plus bias", "[values]") {
  const TensorD x = randd({2, 3, 4}, 5), w = randd({6, 4}, 6), b = randd({6}, 7);
  const auto y = ag::linear(x, w, b).to_vector(), ref = (ag::matmul(x, ag::transpose(w, 0, 1)) + b).to_vector();
  for (std::size_t i = 0; i < y.size(); ++i) CHECK_THAT(y[i], WithinAbs(ref[i], 1e-12));
}

TEST_CASE("softmax and log_softmax rows", "[values]") {
  const TensorD x = TensorD::from_vector({2, 3}, {1, 2, 3, 1000, 1000, -1000});  // large: must not overflow
  const auto p = ag::softmax(x, -1).to_vector(), lp = ag::log_softmax(x, -1).to_vector();
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK_THAT(p[0], WithinAbs(std::exp(1.0) / z, 1e-15));
  CHECK_THAT(p[2], WithinAbs(std::exp(3.0) / z, 1e-15));
  CHECK_THAT(p[3], WithinAbs(0.5, 1e-15));
  CHECK_THAT(p[5], WithinAbs(0.0, 1e-300));
  CHECK_THAT(lp[1], WithinAbs(2.0 - std::log(z), 1e-14));
  CHECK_THAT(lp[5], WithinAbs(-2000.0 - std::log(2.0), 1e-9));  // finite where log(softmax) is -inf
}

TEST_CASE("layer_norm is exact for rows with a large mean (two-pass variance)", "[values]") {
  const TensorF x = TensorF::from_vector({1, 4}, {10000.0f, 10001.0f, 10002.0f, 10003.0f});
  const auto y = ag::layer_norm(x, TensorF::ones({4}), TensorF::zeros({4}), 0.0f).to_vector();
  const double sd = std::sqrt(1.25);
  CHECK_THAT(y[0], WithinAbs(-1.5 / sd, 1e-5));
  CHECK_THAT(y[3], WithinAbs(1.5 / sd, 1e-5));
}

TEST_CASE("gelu matches the tanh formula, and relu, sigmoid", "[values]") {
  const TensorD x = TensorD::from_vector({4}, {-3.0, -0.5, 0.0, 2.0});
  const auto g = ag::gelu(x).to_vector();
  for (std::size_t i = 0; i < 4; ++i) {
    const double v = x.data()[i];
    CHECK_THAT(g[i], WithinAbs(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-14));
  }
  CHECK(ag::relu(x).to_vector() == std::vector<double>{0, 0, 0, 2});
  CHECK_THAT(ag::sigmoid(x).to_vector()[1], WithinAbs(1 / (1 + std::exp(0.5)), 1e-15));
}

TEST_CASE("softplus is log(1 + e^x), without overflow for large x and without losing small values", "[values]") {
  const TensorD x = TensorD::from_vector({5}, {-40.0, -1.0, 0.0, 3.0, 1000.0});
  const auto y = ag::softplus(x).to_vector();
  CHECK_THAT(y[0], WithinRel(std::exp(-40.0), 1e-12));  // log(1 + tiny) = tiny: log1p keeps it
  CHECK_THAT(y[1], WithinAbs(std::log1p(std::exp(-1.0)), 1e-15));
  CHECK_THAT(y[2], WithinAbs(std::log(2.0), 1e-15));
  CHECK_THAT(y[3], WithinAbs(std::log1p(std::exp(3.0)), 1e-14));
  CHECK(y[4] == 1000.0);  // e^1000 overflows; the written form never computes it
  CHECK(std::isfinite(ag::softplus(TensorF::from_vector({1}, {200.0f})).item()));
}

// GELU is computed as v · σ(2u) (autograd/kernels.hpp), the tanh form's own function. In float the
// tanh form itself loses digits for v < 0, where 1 + tanh u cancels; v · σ(2u) keeps them, down to
// v = −8 where gelu(v) is about −3e-21.
TEST_CASE("gelu in float is within a few ulp of the tanh formula in long double, v in [-8, 8]", "[values]") {
  const std::size_t n = 16001;
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = -8.0f + 16.0f * static_cast<float>(i) / static_cast<float>(n - 1);
  const auto g = ag::gelu(TensorF::from_vector({n}, v)).to_vector();
  double worst = 0, worst_tanh_form = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const long double x = v[i], u = std::sqrt(2.0L / M_PI) * (x + 0.044715L * x * x * x);
    const long double ref = x / (1 + std::exp(-2 * u));  // = x/2 (1 + tanh u), without its cancellation
    const float tanh_form = 0.5f * v[i] * (1 + std::tanh(static_cast<float>(u)));  // the formula as written, in float
    if (ref == 0) continue;
    // Relative error per unit of the function's condition (about 1 + |2u| for v < 0: a rounding of u
    // moves exp(-2u) by |2u| times as much), so that the bound is a few ulp everywhere.
    const long double cond = 1 + std::fabs(2 * u);
    worst = std::max(worst, static_cast<double>(std::fabs((g[i] - ref) / ref) / cond));
    worst_tanh_form = std::max(worst_tanh_form, static_cast<double>(std::fabs((tanh_form - ref) / ref) / cond));
  }
  INFO("worst relative error per unit of condition: ours " << worst << ", the tanh form in float " << worst_tanh_form);
  CHECK(worst < 1e-6);  // about 8 ulp
  CHECK(worst_tanh_form > 10 * worst);
}

TEST_CASE("permute, gather, slice, concat, max", "[values]") {
  const TensorD x = TensorD::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(ag::transpose(x, 0, 1).to_vector() == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(ag::gather(x, 1, ag::Index{{2, 2}, {2, 0, 1, 1}}).to_vector() == std::vector<double>{3, 1, 5, 5});
  CHECK(ag::slice(x, 1, 1, 3).to_vector() == std::vector<double>{2, 3, 5, 6});
  CHECK(ag::concat<double>({x, x}, 0).shape() == ag::Shape{4, 3});
  CHECK(ag::concat<double>({x, x}, 1).to_vector() == std::vector<double>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  CHECK(ag::stack<double>({x, x}, 1).shape() == ag::Shape{2, 2, 3});
  CHECK(ag::max(x, 0).to_vector() == std::vector<double>{4, 5, 6});
  CHECK(ag::sum(x, {0, 1}).item() == 21);
  CHECK(ag::mean(x, {1}, true).to_vector() == std::vector<double>{2, 5});
}

TEST_CASE("cosine_similarity values and the zero vector", "[values]") {
  const TensorD a = TensorD::from_vector({2, 2}, {1, 0, 0, 0}), b = TensorD::from_vector({2, 2}, {1, 1, 1, 1});
  const auto c = ag::cosine_similarity(a, b, 1).to_vector();
  CHECK_THAT(c[0], WithinAbs(1 / std::sqrt(2.0), 1e-15));
  CHECK(c[1] == 0.0);  // not NaN
}

TEST_CASE("float sums accumulate in double", "[values]") {
  const TensorF x = TensorF::full({20000000}, 0.1f);
  CHECK_THAT(ag::sum(x).item(), WithinAbs(2000000.0, 1.0));  // a float accumulator gives 2097152
}

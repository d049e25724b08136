// Optimizers, clipping and schedules against hand-computed steps, and a short training run.
#include <cmath>

#include "nn/optim.hpp"
#include "testing.hpp"

using namespace agtest;
using Catch::Matchers::WithinAbs;

namespace {
// A parameter holding `value` whose gradient is `grad`.
TensorD param_with_grad(const ag::Shape& s, std::vector<double> value, std::vector<double> grad) {
  TensorD p = TensorD::from_vector(s, std::move(value)).requires_grad_();
  ag::sum(p * TensorD::from_vector(s, std::move(grad))).backward();
  return p;
}
}  // namespace

TEST_CASE("SGD with momentum: two steps by hand", "[nn][optim]") {
  TensorD p = param_with_grad({2}, {1.0, 2.0}, {0.5, -1.0});
  nn::SGD<double> opt({{"p", p}}, 0.1, 0.9);
  opt.step();  // b = g
  CHECK(p.to_vector() == std::vector<double>{1.0 - 0.05, 2.0 + 0.1});
  opt.step();  // b = 0.9 g + g = 1.9 g
  CHECK_THAT(p.data()[0], WithinAbs(0.95 - 0.1 * 1.9 * 0.5, 1e-15));
  CHECK_THAT(p.data()[1], WithinAbs(2.1 + 0.1 * 1.9, 1e-15));
}

TEST_CASE("Adam: two steps by hand", "[nn][optim]") {
  TensorD p = param_with_grad({2}, {1.0, -1.0}, {0.2, -3.0});
  nn::Adam<double> opt({{"p", p}}, 0.01);
  opt.step();  // m̂ = g, v̂ = g²: the step is lr * g / (|g| + eps)
  CHECK_THAT(p.data()[0], WithinAbs(1.0 - 0.01 * 0.2 / (0.2 + 1e-8), 1e-14));
  CHECK_THAT(p.data()[1], WithinAbs(-1.0 + 0.01 * 3.0 / (3.0 + 1e-8), 1e-14));
  opt.step();  // same gradient again: m̂ = g, v̂ = g² still
  CHECK_THAT(p.data()[0], WithinAbs(1.0 - 2 * 0.01 * 0.2 / (0.2 + 1e-8), 1e-14));
}

TEST_CASE("AdamW decays weights of rank >= 2 only, decoupled from the gradient", "[nn][optim]") {
  TensorD w = param_with_grad({2, 2}, {1, 2, 3, 4}, {0, 0, 0, 0});
  TensorD b = param_with_grad({2}, {1, 2}, {0, 0});
  nn::Adam<double> opt({{"w", w}, {"b", b}}, 0.1, 0.9, 0.999, 1e-8, 0.5);
  opt.step();
  const std::vector<double> expected{0.95, 1.9, 2.85, 3.8};
  for (std::size_t k = 0; k < 4; ++k) CHECK_THAT(w.data()[k], WithinAbs(expected[k], 1e-15));
  CHECK(b.to_vector() == std::vector<double>{1, 2});
}

TEST_CASE("clip_grad_norm scales to the global norm", "[nn][optim]") {
  TensorD a = param_with_grad({1}, {0}, {3.0}), b = param_with_grad({1}, {0}, {4.0});
  CHECK_THAT(nn::clip_grad_norm<double>({a, b}, 10.0), WithinAbs(5.0, 1e-15));
  CHECK(a.grad().item() == 3.0);  // under the limit: untouched
  CHECK_THAT(nn::clip_grad_norm<double>({a, b}, 1.0), WithinAbs(5.0, 1e-15));
  CHECK_THAT(a.grad().item(), WithinAbs(0.6, 1e-6));
  CHECK_THAT(b.grad().item(), WithinAbs(0.8, 1e-6));
}

TEST_CASE("warmup + cosine schedule", "[nn][optim]") {
  CHECK_THAT(nn::warmup_cosine_lr(0, 1.0, 10, 110, 0.1), WithinAbs(0.1, 1e-15));
  CHECK_THAT(nn::warmup_cosine_lr(9, 1.0, 10, 110, 0.1), WithinAbs(1.0, 1e-15));
  CHECK_THAT(nn::warmup_cosine_lr(60, 1.0, 10, 110, 0.1), WithinAbs(0.55, 1e-15));
  CHECK_THAT(nn::warmup_cosine_lr(110, 1.0, 10, 110, 0.1), WithinAbs(0.1, 1e-15));
  CHECK(nn::warmup_cosine_lr(5, 0.3, 0, 100, 0.3) == 0.3);  // constant
}

TEST_CASE("Adam trains a tiny transformer: the loss falls", "[nn][optim]") {
  ag::Rng rng(7);
  const TinyNet<float> model(2, 16, rng);
  const TensorF x = randf({8, 4, 16}, 1), target = randf({8, 4, 16}, 4);
  nn::Adam<float> opt(model.named_parameters(), 3e-3);
  float first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    const TensorF d = model(x) - target;
    const TensorF loss = ag::mean(d * d);
    opt.zero_grad();
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  CHECK(last < 0.5f * first);
}

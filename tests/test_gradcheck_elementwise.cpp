// Double-precision gradient checks of every elementwise op, on shapes that broadcast and on
// inputs used more than once.
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;

TEST_CASE("gradcheck: binary ops with broadcasting", "[gradcheck][elementwise]") {
  // (2,3,4) against (3,1), (4), (1,1,4) and (2,1,1): every way a dim can be stretched or missing.
  const TensorD a = randd({2, 3, 4}, 1);
  for (const ag::Shape& bs : {ag::Shape{2, 3, 4}, ag::Shape{3, 1}, ag::Shape{4}, ag::Shape{1, 1, 4}, ag::Shape{2, 1, 1}}) {
    const TensorD b = uniformd(bs, 2, 0.5, 2.0);  // away from 0: div is smooth there
    INFO("b shape " << ag::shape_str(bs));
    CHECK_GRADS([](const V& x) { return ag::add(x[0], x[1]); }, a, b);
    CHECK_GRADS([](const V& x) { return ag::sub(x[0], x[1]); }, a, b);
    CHECK_GRADS([](const V& x) { return ag::mul(x[0], x[1]); }, a, b);
    CHECK_GRADS([](const V& x) { return ag::div(x[0], x[1]); }, a, b);
    CHECK_GRADS([](const V& x) { return ag::div(x[1], x[0] * x[0] + 1.0); }, a, b);  // broadcast on the left
  }
}

TEST_CASE("gradcheck: both operands broadcast", "[gradcheck][elementwise]") {
  CHECK_GRADS([](const V& x) { return ag::mul(x[0], x[1]); }, randd({3, 1}, 3), randd({1, 4}, 4));
  CHECK_GRADS([](const V& x) { return ag::broadcast_to(x[0], {2, 3, 4}); }, randd({3, 1}, 5));
}

TEST_CASE("gradcheck: a reused input accumulates (y = x*x + x)", "[gradcheck][elementwise]") {
  CHECK_GRADS([](const V& x) { return x[0] * x[0] + x[0]; }, randd({3, 4}, 6));
  CHECK_GRADS([](const V& x) { return ag::sum(ag::exp(x[0]) * ag::tanh(x[0]) - x[0] / (x[0] * x[0] + 1.0)); },
              randd({5}, 7));
}

TEST_CASE("gradcheck: scalar variants", "[gradcheck][elementwise]") {
  const TensorD x = uniformd({2, 3}, 8, 0.5, 2.0);
  CHECK_GRADS([](const V& v) { return v[0] + 2.5; }, x);
  CHECK_GRADS([](const V& v) { return v[0] - 2.5; }, x);
  CHECK_GRADS([](const V& v) { return 2.5 - v[0]; }, x);
  CHECK_GRADS([](const V& v) { return v[0] * -1.5; }, x);
  CHECK_GRADS([](const V& v) { return v[0] / 4.0; }, x);
  CHECK_GRADS([](const V& v) { return 3.0 / v[0]; }, x);
  CHECK_GRADS([](const V& v) { return -v[0]; }, x);
}

TEST_CASE("gradcheck: unary math", "[gradcheck][elementwise]") {
  const TensorD x = randd({3, 5}, 9, 1.5);
  const TensorD pos = uniformd({3, 5}, 10, 0.2, 3.0);
  CHECK_GRADS([](const V& v) { return ag::exp(v[0]); }, x);
  CHECK_GRADS([](const V& v) { return ag::log(v[0]); }, pos);
  CHECK_GRADS([](const V& v) { return ag::sqrt(v[0]); }, pos);
  CHECK_GRADS([](const V& v) { return ag::pow(v[0], 3.0); }, x);
  CHECK_GRADS([](const V& v) { return ag::pow(v[0], -0.5); }, pos);
  CHECK_GRADS([](const V& v) { return ag::tanh(v[0]); }, x);
  CHECK_GRADS([](const V& v) { return ag::sigmoid(v[0]); }, x);
  CHECK_GRADS([](const V& v) { return ag::gelu(v[0]); }, x);
  CHECK_GRADS([](const V& v) { return ag::softplus(v[0]); }, x);
  // softplus of an input used twice, and broadcast against another input
  CHECK_GRADS([](const V& v) { return ag::softplus(v[0] * v[0] - v[1]); }, x, randd({1, 5}, 12));
}

TEST_CASE("gradcheck: relu away from its kink", "[gradcheck][elementwise]") {
  // Finite differences are meaningless at 0; keep every input at least 0.1 away from it.
  TensorD x = randd({4, 6}, 11);
  for (std::size_t k = 0; k < x.numel(); ++k) x.data()[k] += x.data()[k] >= 0 ? 0.1 : -0.1;
  CHECK_GRADS([](const V& v) { return ag::relu(v[0]); }, x);
}

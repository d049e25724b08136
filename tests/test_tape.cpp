// The tape's contract: order, accumulation, release of saved tensors, no recursion, grad modes.
#include <memory>

#include "testing.hpp"

using namespace agtest;

TEST_CASE("backward seeds 1 and accumulates into a reused input", "[tape]") {
  TensorD x = TensorD::from_vector({2}, {3.0, -2.0}).requires_grad_();
  const TensorD y = ag::sum(x * x + x);  // dy/dx = 2x + 1
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{7.0, -3.0});
}

TEST_CASE("gradients accumulate across backward calls until zero_grad", "[tape]") {
  TensorD x = TensorD::from_vector({1}, {2.0}).requires_grad_();
  ag::sum(x * 3.0).backward();
  ag::sum(x * 3.0).backward();
  CHECK(x.grad().item() == 6.0);
  x.zero_grad();
  CHECK_FALSE(x.has_grad());
}

TEST_CASE("micrograd's counter-example: b = a + a, c = b + b", "[tape]") {
  TensorD a = TensorD::scalar(1.0).requires_grad_();
  const TensorD b = a + a, c = b + b;
  c.backward();
  CHECK(a.grad().item() == 4.0);
}

TEST_CASE("the tape is empty after backward and has released what it saved", "[tape]") {
  ag::Tape::current().clear();
  TensorD x = randd({4, 4}, 1).requires_grad_();
  std::weak_ptr<ag::TensorImpl<double>> hidden;
  {
    const TensorD h = ag::exp(x);  // exp saves its output h
    hidden = h.impl_ptr();
    const TensorD loss = ag::sum(h * h);
    CHECK(ag::Tape::current().size() == 3);
    loss.backward();
    CHECK(ag::Tape::current().size() == 0);
  }
  CHECK(hidden.expired());  // nothing (no node, no cycle) keeps the intermediate alive
}

TEST_CASE("a chain of 100,000 ops backpropagates without recursion", "[tape]") {
  TensorD x = TensorD::scalar(1.0).requires_grad_();
  TensorD y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0 + 1e-6;
  CHECK(ag::Tape::current().size() == 200000);
  y.backward();
  CHECK(x.grad().item() == 1.0);
  CHECK(ag::Tape::current().size() == 0);
}

TEST_CASE("NoGradGuard records nothing and restores the previous mode", "[tape]") {
  TensorD x = randd({3}, 2).requires_grad_();
  {
    ag::NoGradGuard guard;
    {
      ag::NoGradGuard nested;
    }
    CHECK_FALSE(ag::grad_enabled());
    const TensorD y = ag::exp(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(ag::Tape::current().size() == 0);
  }
  CHECK(ag::grad_enabled());
  CHECK(ag::exp(x).requires_grad());
  ag::Tape::current().clear();
}

TEST_CASE("detach shares storage and cuts the graph", "[tape]") {
  TensorD x = randd({3}, 3).requires_grad_();
  const TensorD d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.data() == x.data());
  const TensorD y = ag::sum(x * d);  // d/dx = d (no gradient flows through d)
  y.backward();
  CHECK(x.grad().to_vector() == d.to_vector());
}

TEST_CASE("ops on tensors that need no grad record nothing", "[tape]") {
  ag::Tape::current().clear();
  const TensorD a = randd({3}, 4), b = randd({3}, 5);
  const TensorD c = ag::matmul(ag::reshape(a, {1, 3}), ag::reshape(b, {3, 1}));
  CHECK_FALSE(c.requires_grad());
  CHECK(ag::Tape::current().size() == 0);
}

TEST_CASE("gradcheck itself fails on a wrong backward and names the element", "[tape][gradcheck]") {
  // An op recorded through the public mechanism with a deliberately wrong derivative: d(x^2) = x.
  auto bad_square = [](const TensorD& x) {
    TensorD y = TensorD::from_vector(x.shape(), (x * x).detach().to_vector());
    y.impl().requires_grad = true;
    ag::Tape::current().record("bad_square", y.impl_ptr(), [xi = x.impl_ptr(), yi = y.impl_ptr().get()] {
      for (std::size_t k = 0; k < ag::numel(xi->shape); ++k) {
        if (!xi->grad) xi->grad = std::make_shared<ag::Buffer<double>>(xt::zeros<double>({ag::numel(xi->shape)}));
        (*xi->grad)[k] += yi->grad->data()[k] * xi->data->data()[k];
      }
    });
    return y;
  };
  const auto r = ag::gradcheck([&](const std::vector<TensorD>& v) { return bad_square(v[0]); }, {randd({2, 2}, 6)});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.message, Catch::Contains("input 0") && Catch::Contains("analytic"));
}

TEST_CASE("a second backward through a consumed graph throws instead of doing nothing", "[tape]") {
  TensorD x = TensorD::from_vector({2}, {1.0, 2.0}).requires_grad_();
  const TensorD loss = ag::sum(x * x);
  loss.backward();
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("no longer on the tape"));
  CHECK(x.grad().to_vector() == std::vector<double>{2.0, 4.0});  // the refused call changed nothing

  // Two losses on one tape: the first backward consumes the tape, the second loss's graph with it.
  x.zero_grad();
  const TensorD a = ag::sum(x * 3.0), b = ag::sum(x * x);
  a.backward();
  CHECK_THROWS_WITH(b.backward(), Catch::Contains("no longer on the tape"));
  CHECK(x.grad().to_vector() == std::vector<double>{3.0, 3.0});

  // clear() consumes it too; a graph built afterwards differentiates as usual.
  const TensorD c = ag::sum(x * 2.0);
  ag::Tape::current().clear();
  CHECK_THROWS_WITH(c.backward(), Catch::Contains("no longer on the tape"));
  x.zero_grad();
  ag::sum(x * 2.0).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2.0, 2.0});
}

// The two traces of docs/autograd.md §3, with the numbers the page writes.
TEST_CASE("docs, worked by hand: a broadcast multiply and a 3-element softmax backward", "[tape][docs]") {
  TensorD a = TensorD::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  TensorD b = TensorD::from_vector({3}, {10, 20, 30}).requires_grad_();
  const TensorD y = ag::sum(a * b);
  CHECK(y.item() == 460.0);
  y.backward();
  CHECK(a.grad().to_vector() == std::vector<double>{10, 20, 30, 10, 20, 30});
  CHECK(b.grad().to_vector() == std::vector<double>{5, 7, 9});

  TensorD x = TensorD::from_vector({3}, {1, 2, 3}).requires_grad_();
  const TensorD s = ag::softmax(x, 0);
  const std::vector<double> want_y{0.0900, 0.2447, 0.6652}, want_dx{0.1418, 0.1408, -0.2826};
  for (std::size_t i = 0; i < 3; ++i) CHECK_THAT(s.to_vector()[i], Catch::Matchers::WithinAbs(want_y[i], 5e-5));
  ag::sum(s * TensorD::from_vector({3}, {1, 0, -1})).backward();  // upstream gradient dy = [1, 0, -1]
  const auto dx = x.grad().to_vector();
  for (std::size_t i = 0; i < 3; ++i) CHECK_THAT(dx[i], Catch::Matchers::WithinAbs(want_dx[i], 5e-5));
  CHECK_THAT(dx[0] + dx[1] + dx[2], Catch::Matchers::WithinAbs(0.0, 1e-15));
}

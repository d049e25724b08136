// Gradient checks of reductions and the row-wise nn ops, plus a small composite model.
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;

TEST_CASE("gradcheck: sum and mean over each axis, with and without keepdim", "[gradcheck][reduce]") {
  const TensorD x = randd({2, 3, 4}, 1);
  CHECK_GRADS([](const V& v) { return ag::sum(v[0]); }, x);
  CHECK_GRADS([](const V& v) { return ag::mean(v[0]); }, x);
  for (long axis : {0L, 1L, 2L, -1L})
    for (bool keep : {false, true}) {
      INFO("axis " << axis << " keepdim " << keep);
      CHECK_GRADS([=](const V& v) { return ag::sum(v[0], {axis}, keep); }, x);
      CHECK_GRADS([=](const V& v) { return ag::mean(v[0], {axis}, keep); }, x);
      CHECK_GRADS([=](const V& v) { return ag::max(v[0], axis, keep); }, x);
    }
  CHECK_GRADS([](const V& v) { return ag::sum(v[0], {0, 2}, true); }, x);
  CHECK_GRADS([](const V& v) { return ag::mean(v[0], {2, 0}); }, x);
}

TEST_CASE("gradcheck: softmax and log_softmax along each axis", "[gradcheck][nn]") {
  const TensorD x = randd({2, 3, 4}, 3, 2.0);
  for (long axis : {0L, 1L, 2L}) {
    INFO("axis " << axis);
    CHECK_GRADS([=](const V& v) { return ag::softmax(v[0], axis); }, x);
    CHECK_GRADS([=](const V& v) { return ag::log_softmax(v[0], axis); }, x);
  }
}

TEST_CASE("gradcheck: layer_norm (x, gamma, beta), including a large row mean", "[gradcheck][nn]") {
  const TensorD g = randd({5}, 5), b = randd({5}, 6);
  CHECK_GRADS([](const V& v) { return ag::layer_norm(v[0], v[1], v[2], 1e-5); }, randd({2, 3, 5}, 4), g, b);
  TensorD shifted = randd({3, 5}, 7);
  for (std::size_t k = 0; k < shifted.numel(); ++k) shifted.data()[k] += 100.0;
  CHECK_GRADS([](const V& v) { return ag::layer_norm(v[0], v[1], v[2], 1e-5); }, shifted, g, b);
}

TEST_CASE("max on ties: the value, and the gradient to the first maximum only", "[reduce]") {
  TensorD x = TensorD::from_vector({2, 4}, {1, 3, 3, 2, 5, 5, 5, 0});
  x.requires_grad_();
  const TensorD y = ag::max(x, 1);
  CHECK(y.to_vector() == std::vector<double>{3, 5});
  ag::sum(y * TensorD::from_vector({2}, {2, 7})).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{0, 2, 0, 0, 7, 0, 0, 0});
}

TEST_CASE("gradcheck: masked_fill alone, where a leak into masked positions would show", "[gradcheck][nn]") {
  const ag::Mask m = ag::causal_mask(4);
  // No softmax after it: a gradient that leaked into the masked positions would change the result.
  CHECK_GRADS([&m](const V& v) { return ag::masked_fill(v[0], m, 0.5) * v[1]; }, randd({2, 4, 4}, 9), randd({4, 4}, 10));
}

TEST_CASE("gradcheck: masked_fill with a broadcast causal mask", "[gradcheck][nn]") {
  const ag::Mask m = ag::causal_mask(4);
  CHECK_GRADS([&m](const V& v) { return ag::softmax(ag::masked_fill(v[0], m, -1e9), -1); }, randd({2, 4, 4}, 8));
}

TEST_CASE("gradcheck: cosine_similarity along each axis, broadcast, and at a zero vector", "[gradcheck][nn]") {
  const TensorD a = randd({2, 3, 4}, 9), b = randd({2, 3, 4}, 10);
  for (long axis : {0L, 1L, 2L}) {
    INFO("axis " << axis);
    CHECK_GRADS([=](const V& v) { return ag::cosine_similarity(v[0], v[1], axis); }, a, b);
  }
  CHECK_GRADS([](const V& v) { return ag::cosine_similarity(v[0], v[1], -1); }, a, randd({3, 4}, 11));
  // At a zero vector the norm is clamped to eps, and the function is linear in b while |b| < eps.
  // A cosine eps of 1e-3 keeps the finite-difference steps (1e-6) inside that clamped region.
  CHECK_GRADS([](const V& v) { return ag::cosine_similarity(v[0], v[1], -1, 1e-3); }, randd({2, 4}, 12),
              TensorD::zeros({2, 4}));
}

TEST_CASE("gradcheck: a 2-layer MLP with softmax cross-entropy", "[gradcheck][composite]") {
  const TensorD X = randd({6, 3}, 13);
  const ag::Index labels{{6, 1}, {0, 2, 1, 1, 0, 2}};
  auto f = [&](const V& p) {
    const TensorD h = ag::tanh(ag::matmul(X, p[0]) + p[1]);
    const TensorD logits = ag::matmul(h, p[2]) + p[3];
    return -ag::mean(ag::gather(ag::log_softmax(logits, -1), 1, labels));
  };
  CHECK_GRADS(f, randd({3, 5}, 14), randd({5}, 15), randd({5, 3}, 16), randd({3}, 17));
}

TEST_CASE("random-direction gradcheck: one attention head on larger inputs", "[gradcheck][composite]") {
  // (B,T,C) = (3,16,12): 576 inputs; the full Jacobian would be slow, one direction is not.
  const ag::Mask causal = ag::causal_mask(16);
  auto f = [&](const V& p) {
    const TensorD q = ag::matmul(p[0], p[1]), k = ag::matmul(p[0], p[2]);
    const TensorD att = ag::softmax(ag::masked_fill(ag::matmul(q, ag::transpose(k, 1, 2)) / std::sqrt(12.0), causal, -1e9), -1);
    return ag::layer_norm(ag::matmul(att, p[0]) + p[0], p[3], p[4], 1e-5);
  };
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto r = ag::gradcheck_random_direction(f, {randd({3, 16, 12}, 18), randd({12, 12}, 19, 0.3),
                                                      randd({12, 12}, 20, 0.3), randd({12}, 21), randd({12}, 22)},
                                                  seed);
    INFO(r.message);
    CHECK(r.ok);
  }
}

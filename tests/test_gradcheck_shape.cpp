// Gradient checks of matmul and the shape ops.
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;

TEST_CASE("gradcheck: matmul 2-D, folded batch, batched and broadcast batch", "[gradcheck][matmul]") {
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], x[1]); }, randd({3, 4}, 1), randd({4, 2}, 2));
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], x[1]); }, randd({2, 3, 4}, 3), randd({4, 5}, 4));
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], x[1]); }, randd({2, 3, 4}, 5), randd({2, 4, 2}, 6));
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], x[1]); }, randd({2, 1, 3, 4}, 7), randd({3, 4, 2}, 8));
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], x[1]); }, randd({3, 4}, 9), randd({2, 4, 2}, 10));
  // reuse: x @ x^T
  CHECK_GRADS([](const V& x) { return ag::matmul(x[0], ag::transpose(x[0], 0, 1)); }, randd({3, 4}, 11));
}

TEST_CASE("gradcheck: linear with and without bias, folded batch, reused input", "[gradcheck][matmul]") {
  CHECK_GRADS([](const V& x) { return ag::linear(x[0], x[1], x[2]); }, randd({2, 3, 4}, 30), randd({5, 4}, 31), randd({5}, 32));
  CHECK_GRADS([](const V& x) { return ag::linear(x[0], x[1]); }, randd({3, 4}, 33), randd({2, 4}, 34));
  CHECK_GRADS([](const V& x) { return ag::linear(x[0], x[0]); }, randd({4, 4}, 35));  // x · xᵀ
}

TEST_CASE("gradcheck: fused attention, softmax and linear, causal and full", "[gradcheck][attention]") {
  for (bool softmax : {true, false})
    for (bool causal : {true, false}) {
      INFO("softmax " << softmax << " causal " << causal);
      CHECK_GRADS([=](const V& x) { return ag::attention(x[0], x[1], x[2], causal, softmax); }, randd({2, 2, 4, 3}, 40),
                  randd({2, 2, 4, 3}, 41), randd({2, 2, 4, 3}, 42));
      CHECK_GRADS([=](const V& x) { return ag::attention(x[0], x[0], x[0], causal, softmax); }, randd({1, 2, 3, 2}, 43));
      // in place from a fused projection (B, T, 3C): 2 heads of 3, read with a row stride of 18
      CHECK_GRADS([=](const V& x) { return ag::attention_qkv(x[0], 2, causal, softmax); }, randd({2, 4, 18}, 44));
      // T = 33: the causal kernel cuts the rows into two blocks (17, 16) and skips the one above the diagonal
      CHECK_GRADS([=](const V& x) { return ag::attention(x[0], x[1], x[0], causal, softmax); }, randd({1, 1, 33, 2}, 47),
                  randd({1, 1, 33, 2}, 48));
    }
}

TEST_CASE("attention_qkv equals attention on the sliced and permuted heads", "[attention]") {
  const TensorD qkv = randd({3, 5, 24}, 45), w = randd({3, 5, 8}, 46);  // C = 8, 2 heads of 4
  auto heads = [&](std::size_t which) {
    return ag::permute(ag::reshape(ag::slice(qkv, 2, which * 8, which * 8 + 8), {3, 5, 2, 4}), {0, 2, 1, 3});
  };
  for (bool causal : {true, false}) {
    const auto a = ag::attention_qkv(qkv, 2, causal).to_vector();
    const auto b = ag::reshape(ag::permute(ag::attention(heads(0), heads(1), heads(2), causal), {0, 2, 1, 3}), {3, 5, 8}).to_vector();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK_THAT(a[i], Catch::Matchers::WithinAbs(b[i], 1e-14));
  }
}

TEST_CASE("gradcheck: reshape, permute, transpose", "[gradcheck][shape]") {
  const TensorD x = randd({2, 3, 4}, 12);
  CHECK_GRADS([](const V& v) { return ag::reshape(v[0], {4, -1}); }, x);
  CHECK_GRADS([](const V& v) { return ag::permute(v[0], {2, 0, 1}); }, x);
  CHECK_GRADS([](const V& v) { return ag::transpose(v[0], -1, 0); }, x);
  CHECK_GRADS([](const V& v) { return ag::reshape(v[0], {6, 4}) * ag::reshape(v[0], {6, 4}); }, x);
}

TEST_CASE("gradcheck: slice, concat, stack", "[gradcheck][shape]") {
  const TensorD x = randd({3, 5, 2}, 13), y = randd({3, 2, 2}, 14);
  for (long axis : {0L, 1L, 2L}) {
    INFO("axis " << axis);
    CHECK_GRADS([axis](const V& v) { return ag::slice(v[0], axis, 1, 2); }, x);
  }
  CHECK_GRADS([](const V& v) { return ag::concat<double>({v[0], v[1], v[0]}, 1); }, x, y);
  CHECK_GRADS([](const V& v) { return ag::concat<double>({v[0], v[0]}, -1); }, y);
  CHECK_GRADS([](const V& v) { return ag::stack<double>({v[0], v[1]}, 0); }, y, randd({3, 2, 2}, 15));
  CHECK_GRADS([](const V& v) { return ag::stack<double>({v[0], v[1]}, 3); }, y, randd({3, 2, 2}, 16));
}

TEST_CASE("gradcheck: index_select and gather with repeated indices", "[gradcheck][shape]") {
  const TensorD x = randd({4, 3}, 17);
  CHECK_GRADS([](const V& v) { return ag::index_select(v[0], 0, {3, 0, 3, 1}); }, x);
  CHECK_GRADS([](const V& v) { return ag::index_select(v[0], 1, {2, 2}); }, x);
  const ag::Index idx{{2, 3}, {0, 3, 3, 1, 1, 0}};
  CHECK_GRADS([&idx](const V& v) { return ag::gather(v[0], 0, idx); }, x);
  const ag::Index idx1{{4, 1}, {2, 0, 1, 2}};
  CHECK_GRADS([&idx1](const V& v) { return ag::gather(v[0], 1, idx1); }, x);
}

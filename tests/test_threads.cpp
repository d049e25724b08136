// Results are bitwise identical for 1 and 2 threads: every parallel kernel, forward and backward,
// on sizes large enough to be split into several chunks.
#include "testing.hpp"

using namespace agtest;

namespace {

struct Run {
  std::vector<float> loss;
  std::vector<std::vector<float>> grads;
};

Run run_with_threads(int threads) {
  ag::set_num_threads(threads);
  std::vector<TensorF> p{randf({128, 40, 48}, 1), randf({48, 48}, 2, 0.2), randf({48}, 3), randf({48}, 4)};
  for (auto& t : p) t.requires_grad_();
  const ag::Mask causal = ag::causal_mask(40);
  const TensorF h = ag::layer_norm(p[0], p[2], p[3], 1e-5f);                  // rows, dgamma/dbeta partials
  const TensorF q = ag::gelu(ag::matmul(h, p[1]));  // folded GEMM (5120 rows: dW splits K), elementwise
  const TensorF att = ag::softmax(ag::masked_fill(ag::matmul(q, ag::transpose(h, 1, 2)), causal, -1e9f), -1);
  const TensorF heads = ag::reshape(q, {128, 4, 40, 12});                      // fused attention, 512 (b, h) tasks
  const TensorF fused = ag::reshape(ag::attention(heads, heads, heads, true), {128, 40, 48});
  const TensorF qkv = ag::concat<float>({q, h, q}, 2);                         // (128, 40, 144)
  const TensorF y = ag::linear(ag::matmul(att, q) + fused + ag::attention_qkv(qkv, 4, true), p[1], p[2]);  // batched GEMM
  const TensorF c = ag::cosine_similarity(y, ag::tanh(y), -1);
  const TensorF loss = ag::mean(ag::exp(c)) + ag::sum(ag::max(ag::log_softmax(y, 2), 2)) * 1e-3f;
  loss.backward();
  Run r{{loss.item()}, {}};
  for (auto& t : p) r.grads.push_back(t.grad().to_vector());
  ag::set_num_threads(0);
  return r;
}

}  // namespace

TEST_CASE("1 and 2 threads give bitwise identical values and gradients", "[threads]") {
  REQUIRE_TWO_THREADS_OR_SKIP();
  const Run one = run_with_threads(1), two = run_with_threads(2);
  CHECK(one.loss == two.loss);
  for (std::size_t i = 0; i < one.grads.size(); ++i) {
    INFO("parameter " << i);
    CHECK(one.grads[i] == two.grads[i]);
  }
}

// The fused sublayer ops (fused_sublayers.cpp, and linear's residual form): double-precision gradient
// checks, inputs used twice, and equality with the ops they fuse.
#include <functional>
#include <string>

#include "testing.hpp"

using namespace agtest;
using Catch::Matchers::Contains;
using V = std::vector<TensorD>;

TEST_CASE("gradcheck: linear with a residual, and with x as its own residual", "[gradcheck][fused]") {
  CHECK_GRADS([](const V& x) { return ag::linear(x[0], x[1], x[2], x[3]); }, randd({2, 3, 4}, 1), randd({5, 4}, 2),
              randd({5}, 3), randd({2, 3, 5}, 4));
  CHECK_GRADS([](const V& x) { return ag::linear(x[0], x[1], x[2], x[0]); }, randd({3, 4}, 5), randd({4, 4}, 6), randd({4}, 7));
}

TEST_CASE("gradcheck: ln_linear and gelu_linear, inputs reused", "[gradcheck][fused]") {
  CHECK_GRADS([](const V& x) { return ag::ln_linear(x[0], x[1], x[2], x[3], x[4], 1e-5); }, randd({2, 3, 6}, 8),
              randd({6}, 9), randd({6}, 10), randd({4, 6}, 11), randd({4}, 12));
  // the same (6) vector as gamma and as beta, and a row mean of 100 (LayerNorm's cancellation)
  CHECK_GRADS([](const V& x) { return ag::ln_linear(x[0] + 100.0, x[1], x[1], x[2], x[1], 1e-5); }, randd({3, 6}, 13),
              randd({6}, 14), randd({6, 6}, 15));
  CHECK_GRADS([](const V& x) { return ag::gelu_linear(x[0], x[1], x[2], x[3]); }, randd({2, 3, 8}, 16), randd({4, 8}, 17),
              randd({4}, 18), randd({2, 3, 4}, 19));
  CHECK_GRADS([](const V& x) { return ag::gelu_linear(x[0], x[1], x[2], x[0]); }, randd({3, 5}, 20), randd({5, 5}, 21),
              randd({5}, 22));  // a is its own residual
}

TEST_CASE("gradcheck: ln_mlp, inputs reused", "[gradcheck][fused]") {
  CHECK_GRADS([](const V& x) { return ag::ln_mlp(x[0], x[1], x[2], x[3], x[4], x[5], x[6], 1e-5); }, randd({2, 3, 6}, 50),
              randd({6}, 51), randd({6}, 52), randd({8, 6}, 53), randd({8}, 54), randd({6, 8}, 55), randd({6}, 56));
  // hidden width = C, so one (6, 6) matrix serves as W1 and W2, and one (6) vector as γ, β, b1 and b2
  CHECK_GRADS([](const V& x) { return ag::ln_mlp(x[0], x[1], x[1], x[2], x[1], x[2], x[1], 1e-5); }, randd({3, 6}, 57),
              randd({6}, 58), randd({6, 6}, 59));
}

TEST_CASE("fused sublayers equal the ops they fuse", "[fused]") {
  const TensorD x = randd({3, 4, 6}, 23), g = randd({6}, 24), b = randd({6}, 25), w = randd({8, 6}, 26), c = randd({8}, 27);
  const TensorD w2 = randd({6, 8}, 28), c2 = randd({6}, 29);
  auto same = [](const TensorD& p, const TensorD& q) {
    REQUIRE(p.shape() == q.shape());
    for (std::size_t i = 0; i < p.numel(); ++i) CHECK_THAT(p.data()[i], Catch::Matchers::WithinAbs(q.data()[i], 1e-13));
  };
  same(ag::ln_linear(x, g, b, w, c, 1e-5), ag::linear(ag::layer_norm(x, g, b, 1e-5), w, c));
  const TensorD a = ag::ln_linear(x, g, b, w, c, 1e-5);
  same(ag::gelu_linear(a, w2, c2, x), x + ag::linear(ag::gelu(a), w2, c2));
  same(ag::linear(a, w2, c2, x), x + ag::linear(a, w2, c2));
  same(ag::ln_mlp(x, g, b, w, c, w2, c2, 1e-5), x + ag::linear(ag::gelu(a), w2, c2));
}

// The fused sublayers run in tiles of 128 rows, their parameter gradients in near-equal chunks of at
// most 1024 rows, a multiple of 4 of them, added in order (fused_sublayers.cpp): 2307 rows make 4
// chunks of 577 rows, the last of 576, each ending in a short tile. y = op(inputs) is used twice (times two random weightings), so the second backward
// adds to the gradients the first one wrote. Compares the output and every input's gradient of the
// fused op against the composition of reference ops, to 1e-11 relative.
void check_fused_over_tiles(const std::vector<TensorD*>& inputs, const std::function<TensorD(bool fused)>& op,
                            const std::string& names) {
  for (TensorD* t : inputs) t->requires_grad_();
  auto run = [&](bool fused) {
    const ag::ReferencePath path(!fused);  // the reference shares no kernel with the fused op: plain GEMMs and LayerNorm
    for (TensorD* t : inputs) t->zero_grad();
    const TensorD y = op(fused);
    ag::sum(y * randd(y.shape(), 70) + op(fused) * randd(y.shape(), 71)).backward();
    std::vector<std::vector<double>> out{y.to_vector()};
    for (TensorD* t : inputs) out.push_back(t->grad().to_vector());
    return out;
  };
  const auto fused = run(true), reference = run(false);
  for (std::size_t i = 0; i < fused.size(); ++i) {
    INFO("output 0, then the gradients of " << names << ": " << i);
    REQUIRE(fused[i].size() == reference[i].size());
    for (std::size_t j = 0; j < fused[i].size(); ++j)
      CHECK_THAT(fused[i][j], Catch::Matchers::WithinAbs(reference[i][j], 1e-11 * (1 + std::fabs(reference[i][j]))));
  }
}

TEST_CASE("gelu_linear over many tiles and weight chunks equals the ops it fuses, values and gradients", "[fused]") {
  TensorD a = randd({2307, 12}, 30), w = randd({5, 12}, 31), c = randd({5}, 32), r = randd({2307, 5}, 33);
  check_fused_over_tiles({&a, &w, &c, &r}, [&](bool fused) {
    return fused ? ag::gelu_linear(a, w, c, r) : r + ag::linear(ag::gelu(a), w, c);
  }, "a, W, b, residual");
}

TEST_CASE("ln_linear over many tiles and weight chunks equals the ops it fuses, values and gradients", "[fused]") {
  TensorD x = randd({2307, 12}, 40), g = randd({12}, 41), bt = randd({12}, 42), w = randd({5, 12}, 43), c = randd({5}, 44);
  check_fused_over_tiles({&x, &g, &bt, &w, &c}, [&](bool fused) {
    return fused ? ag::ln_linear(x, g, bt, w, c, 1e-5) : ag::linear(ag::layer_norm(x, g, bt, 1e-5), w, c);
  }, "x, gamma, beta, W, b");
}

// The same op on both paths: the row kernels (16 lanes, parallel chunks, partial dγ and dβ added in
// chunk order) against the plain loops of the reference path. C = 37 leaves a short last lane batch.
TEST_CASE("layer_norm's row kernels equal its plain loops, values and gradients", "[fused][reference]") {
  TensorD x = randd({2307, 37}, 45), g = randd({37}, 46), bt = randd({37}, 47);
  check_fused_over_tiles({&x, &g, &bt}, [&](bool) { return ag::layer_norm(x, g, bt, 1e-5); }, "x, gamma, beta");
}

// ln_mlp runs both backward tiles in turn on each tile of rows; x is the LayerNorm's input and the residual.
TEST_CASE("ln_mlp over many tiles and weight chunks equals the ops it fuses, values and gradients", "[fused]") {
  TensorD x = randd({2307, 6}, 60), g = randd({6}, 61), bt = randd({6}, 62), w1 = randd({10, 6}, 63), b1 = randd({10}, 64);
  TensorD w2 = randd({6, 10}, 65), b2 = randd({6}, 66);
  check_fused_over_tiles({&x, &g, &bt, &w1, &b1, &w2, &b2}, [&](bool fused) {
    return fused ? ag::ln_mlp(x, g, bt, w1, b1, w2, b2, 1e-5)
                 : x + ag::linear(ag::gelu(ag::linear(ag::layer_norm(x, g, bt, 1e-5), w1, b1)), w2, b2);
  }, "x, gamma, beta, W1, b1, W2, b2");
}

TEST_CASE("fused sublayers name the op and the shapes on bad input", "[fused][errors]") {
  CHECK_THROWS_WITH(ag::ln_linear(randd({2, 6}, 1), randd({5}, 2), randd({5}, 3), randd({4, 6}, 4), randd({4}, 5), 1e-5),
                    Contains("ln_linear") && Contains("(5)"));
  CHECK_THROWS_WITH(ag::gelu_linear(randd({2, 6}, 1), randd({4, 6}, 4), randd({4}, 5), randd({2, 6}, 6)),
                    Contains("gelu_linear") && Contains("(2, 4)") && Contains("(2, 6)"));
  CHECK_THROWS_WITH(ag::ln_mlp(randd({2, 6}, 1), randd({6}, 2), randd({6}, 3), randd({8, 6}, 4), randd({8}, 5),
                               randd({5, 8}, 6), randd({5}, 7), 1e-5),
                    Contains("ln_mlp") && Contains("residual"));
  CHECK_THROWS_WITH(ag::ln_mlp(randd({2, 6}, 1), randd({6}, 2), randd({6}, 3), randd({8, 5}, 4), randd({8}, 5),
                               randd({6, 8}, 6), randd({6}, 7), 1e-5),
                    Contains("ln_mlp") && Contains("(8, 5)"));  // W1 does not take x's 6 features
  CHECK_THROWS_WITH(ag::ln_mlp(randd({2, 6}, 1), randd({5}, 2), randd({6}, 3), randd({8, 6}, 4), randd({8}, 5),
                               randd({6, 8}, 6), randd({6}, 7), 1e-5),
                    Contains("ln_mlp") && Contains("gamma"));
  CHECK_THROWS_WITH(ag::linear(randd({2, 6}, 1), randd({4, 6}, 4), randd({4}, 5), randd({3, 4}, 6)),
                    Contains("linear") && Contains("residual"));
}

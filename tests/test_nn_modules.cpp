// nn modules: gradient checks (double) of every module, and the fused block and attention against
// their module-by-module reference. The task's whole model is tested in test_lab_model.cpp.
#include <cmath>

#include "nn/block.hpp"
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;

namespace {

nn::BlockSpec spec(std::size_t n_embd, std::size_t n_head, nn::AttentionKind kind, bool ffn) {
  nn::BlockSpec s;
  s.n_embd = n_embd, s.n_head = n_head, s.attention = kind, s.ffn = ffn;
  return s;
}

}  // namespace

TEST_CASE("gradcheck: Linear, Embedding, LayerNorm, MLP", "[nn][gradcheck]") {
  ag::Rng rng(1);
  const nn::Linear<double> lin(4, 3, rng), lin_nb(4, 3, rng, false);
  check_module_grads([&](const TensorD& x) { return lin(x); }, randd({2, 3, 4}, 2), lin);
  check_module_grads([&](const TensorD& x) { return lin_nb(x); }, randd({2, 4}, 3), lin_nb);
  const nn::Embedding<double> emb(5, 3, rng);
  check_module_grads([&](const TensorD& x) { return emb({4, 0, 4}) * x; }, randd({3, 3}, 4), emb);
  nn::LayerNorm<double> ln(4);
  for (auto& p : ln.parameters()) std::copy_n(randd({4}, 5).data(), 4, p.data());  // not just 1 and 0
  check_module_grads([&](const TensorD& x) { return ln(x); }, randd({2, 3, 4}, 6), ln);
  const nn::MLP<double> mlp(4, rng);
  check_module_grads([&](const TensorD& x) { return mlp(x); }, randd({2, 4}, 7), mlp);
}

TEST_CASE("gradcheck: self-attention, softmax and linear, causal and full", "[nn][gradcheck]") {
  for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear})
    for (bool causal : {true, false}) {
      INFO("softmax " << (kind == nn::AttentionKind::Softmax) << " causal " << causal);
      ag::Rng rng(8);
      const nn::SelfAttention<double> attn(6, 2, kind, causal, rng);
      check_module_grads([&](const TensorD& x) { return attn(x); }, randd({2, 4, 6}, 9), attn);
    }
}

TEST_CASE("gradcheck: pre-LN Block with and without FFN", "[nn][gradcheck]") {
  for (bool ffn : {true, false}) {
    INFO("ffn " << ffn);
    ag::Rng rng(30);
    const nn::Block<double> block(spec(6, 2, nn::AttentionKind::Softmax, ffn), rng);
    check_module_grads([&](const TensorD& x) { return block(x); }, randd({2, 3, 6}, 31), block);
  }
}

TEST_CASE("gradcheck: pre-LN Block with a softplus FFN (it runs module by module: no fused path)", "[nn][gradcheck]") {
  nn::BlockSpec s = spec(6, 2, nn::AttentionKind::Softmax, true);
  s.activation = nn::Activation::Softplus;
  ag::Rng rng(34);
  const nn::Block<double> block(s, rng);
  check_module_grads([&](const TensorD& x) { return block(x); }, randd({2, 3, 6}, 35), block);
}

TEST_CASE("gradcheck: Block without LayerNorm, with a ReLU FFN of its own width (the construction's)", "[nn][gradcheck]") {
  nn::BlockSpec spec;
  spec.n_embd = 6, spec.n_head = 2, spec.causal = false, spec.layer_norm = false, spec.ffn_hidden = 10;
  spec.activation = nn::Activation::Relu;
  ag::Rng rng(32);
  const nn::Block<double> block(spec, rng);
  CHECK(block.named_parameters().size() == 8);  // c_attn, c_proj, c_fc, mlp_proj: weight and bias each, no ln_*
  CHECK(block.mlp->c_fc.weight.shape() == ag::Shape{10, 6});
  const TensorD x = randd({2, 3, 6}, 33);
  check_module_grads([&](const TensorD& v) { return block(v); }, x, block);
  // ReLU, not GELU: with x = 0 and zero attention the output is x + mlp_proj(relu(c_fc bias)) exactly
  const TensorD zero = ag::TensorD::zeros({1, 1, 6});
  for (auto& p : block.attn.parameters()) std::fill(p.data(), p.data() + p.numel(), 0.0);
  std::vector<double> expect(6, 0.0);
  const auto& b1 = block.mlp->c_fc.bias;
  for (std::size_t o = 0; o < 6; ++o) {
    expect[o] = block.mlp->mlp_proj.bias.data()[o];
    for (std::size_t i = 0; i < 10; ++i) expect[o] += block.mlp->mlp_proj.weight.data()[o * 10 + i] * std::max(0.0, b1.data()[i]);
  }
  const auto got = block(zero).to_vector();
  for (std::size_t o = 0; o < 6; ++o) CHECK_THAT(got[o], Catch::Matchers::WithinAbs(expect[o], 1e-15));
}

TEST_CASE("fused pre-LN Block equals the Block run module by module, values and gradients", "[nn][fused]") {
  for (bool ffn : {true, false})
    for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear}) {
      INFO("ffn " << ffn << " softmax " << (kind == nn::AttentionKind::Softmax));
      ag::Rng rng(40);
      nn::Block<double> block(spec(12, 3, kind, ffn), rng);
      for (auto& p : block.parameters())  // LayerNorm's 1 and 0 would hide a swapped gamma and beta
        for (std::size_t i = 0; i < p.numel(); ++i) p.data()[i] += 0.1 * rng.normal();
      const TensorD x = randd({2, 5, 12}, 41), w = randd({2, 5, 12}, 42);
      auto run = [&](bool fused) {
        const ag::ReferencePath path(!fused);  // the reference: module by module, plain GEMMs and LayerNorm
        block.zero_grad();
        TensorD xi = TensorD::from_vector(x.shape(), x.to_vector());
        xi.requires_grad_();
        const TensorD y = block(xi);
        ag::sum(y * w).backward();
        std::vector<std::vector<double>> r{y.to_vector(), xi.grad().to_vector()};
        for (auto& p : block.parameters()) r.push_back(p.grad().to_vector());
        return r;
      };
      const auto fused = run(true), composed = run(false);
      REQUIRE(fused.size() == composed.size());
      for (std::size_t i = 0; i < fused.size(); ++i) {
        INFO("output, dx, then the parameters' gradients: #" << i);
        REQUIRE(fused[i].size() == composed[i].size());
        for (std::size_t k = 0; k < fused[i].size(); ++k) CHECK_THAT(fused[i][k], Catch::Matchers::WithinAbs(composed[i][k], 1e-12));
      }
    }
}

TEST_CASE("fused attention equals the composition of primitive ops, values and gradients", "[nn][attention]") {
  // T = 70 cuts the causal rows into three uneven blocks (24, 24, 22) that skip the upper triangle.
  for (std::size_t T : {7, 70})
    for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear})
      for (bool causal : {true, false}) {
        INFO("T " << T << " softmax " << (kind == nn::AttentionKind::Softmax) << " causal " << causal);
        ag::Rng rng(20);
        nn::SelfAttention<double> attn(12, 3, kind, causal, rng);
        const TensorD x = randd({2, T, 12}, 21), w = randd({2, T, 12}, 22);
        auto run = [&](bool fused) {
          const ag::ReferencePath path(!fused);  // the reference: primitive ops, plain GEMMs
          attn.zero_grad();
          const TensorD y = attn(x);
          ag::sum(y * w).backward();
          std::vector<std::vector<double>> r{y.to_vector()};
          for (auto& p : attn.parameters()) r.push_back(p.grad().to_vector());
          return r;
        };
        const auto fused = run(true), composed = run(false);
        REQUIRE(fused.size() == composed.size());
        for (std::size_t i = 0; i < fused.size(); ++i) {
          REQUIRE(fused[i].size() == composed[i].size());
          for (std::size_t k = 0; k < fused[i].size(); ++k) CHECK_THAT(fused[i][k], Catch::Matchers::WithinAbs(composed[i][k], 1e-12));
        }
      }
}

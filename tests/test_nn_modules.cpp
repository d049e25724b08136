// nn modules: gradient checks (double) of every module and of a whole tiny model in every variant,
// PyTorch-compatible names and counts, GPT-2 init, causality, config errors.
#include <cmath>

#include "nn/transformer.hpp"
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;

namespace {

// Checks d f(x) / d(x and every parameter of m): the parameters are gradcheck inputs too, so
// their storage is what the finite differences perturb.
template <class F>
void check_module(F f, const TensorD& x, const nn::Module<double>& m) {
  std::vector<TensorD> inputs{x};
  for (auto& p : m.parameters()) inputs.push_back(p);
  const auto r = ag::gradcheck([&](const V& v) { return f(v[0]); }, inputs);
  INFO(r.message);
  CHECK(r.ok);
}

nn::ModelConfig tiny(nn::AttentionKind kind, bool causal, bool ffn) {
  nn::ModelConfig c;
  c.n_dims = 3, c.n_points = 4, c.n_embd = 8, c.n_layer = 2, c.n_head = 2;
  c.attention = kind, c.causal = causal, c.ffn = ffn;
  return c;
}

}  // namespace

TEST_CASE("gradcheck: Linear, Embedding, LayerNorm, MLP", "[nn][gradcheck]") {
  ag::Rng rng(1);
  const nn::Linear<double> lin(4, 3, rng), lin_nb(4, 3, rng, false);
  check_module([&](const TensorD& x) { return lin(x); }, randd({2, 3, 4}, 2), lin);
  check_module([&](const TensorD& x) { return lin_nb(x); }, randd({2, 4}, 3), lin_nb);
  const nn::Embedding<double> emb(5, 3, rng);
  check_module([&](const TensorD& x) { return emb({4, 0, 4}) * x; }, randd({3, 3}, 4), emb);
  nn::LayerNorm<double> ln(4);
  for (auto& p : ln.parameters()) std::copy_n(randd({4}, 5).data(), 4, p.data());  // not just 1 and 0
  check_module([&](const TensorD& x) { return ln(x); }, randd({2, 3, 4}, 6), ln);
  const nn::MLP<double> mlp(4, rng);
  check_module([&](const TensorD& x) { return mlp(x); }, randd({2, 4}, 7), mlp);
}

TEST_CASE("gradcheck: self-attention, softmax and linear, causal and full", "[nn][gradcheck]") {
  for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear})
    for (bool causal : {true, false}) {
      INFO("softmax " << (kind == nn::AttentionKind::Softmax) << " causal " << causal);
      ag::Rng rng(8);
      const nn::SelfAttention<double> attn(6, 2, kind, causal, rng);
      check_module([&](const TensorD& x) { return attn(x); }, randd({2, 4, 6}, 9), attn);
    }
}

TEST_CASE("gradcheck: pre-LN Block with and without FFN", "[nn][gradcheck]") {
  for (bool ffn : {true, false}) {
    INFO("ffn " << ffn);
    nn::ModelConfig c = tiny(nn::AttentionKind::Softmax, true, ffn);
    c.n_embd = 6;
    ag::Rng rng(30);
    const nn::Block<double> block(c, rng);
    check_module([&](const TensorD& x) { return block(x); }, randd({2, 3, 6}, 31), block);
  }
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
  check_module([&](const TensorD& v) { return block(v); }, x, block);
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
      nn::ModelConfig c = tiny(kind, true, ffn);
      c.n_embd = 12, c.n_head = 3;
      ag::Rng rng(40);
      nn::Block<double> block(c, rng);
      for (auto& p : block.parameters())  // LayerNorm's 1 and 0 would hide a swapped gamma and beta
        for (std::size_t i = 0; i < p.numel(); ++i) p.data()[i] += 0.1 * rng.normal();
      const TensorD x = randd({2, 5, 12}, 41), w = randd({2, 5, 12}, 42);
      auto run = [&](bool fused) {
        block.fused = block.attn.fused = fused;
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
      for (std::size_t i = 0; i < fused.size(); ++i) {
        INFO("output, dx, then the parameters' gradients: #" << i);
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
          attn.fused = fused;
          attn.zero_grad();
          const TensorD y = attn(x);
          ag::sum(y * w).backward();
          std::vector<std::vector<double>> r{y.to_vector()};
          for (auto& p : attn.parameters()) r.push_back(p.grad().to_vector());
          return r;
        };
        const auto fused = run(true), composed = run(false);
        for (std::size_t i = 0; i < fused.size(); ++i)
          for (std::size_t k = 0; k < fused[i].size(); ++k) CHECK_THAT(fused[i][k], Catch::Matchers::WithinAbs(composed[i][k], 1e-12));
      }
}

TEST_CASE("gradcheck: a whole tiny model (2 layers, C=8, 2 heads, 4 triplets) in every variant", "[nn][gradcheck]") {
  const TensorD xs = randd({2, 4, 3}, 10), ys = randd({2, 4, 3}, 11), rs = uniformd({2, 4}, 12, 0, 1);
  const TensorD w = randd({2, 4, 3}, 13);
  for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear})
    for (bool causal : {true, false})
      for (bool ffn : {true, false}) {
        INFO("softmax " << (kind == nn::AttentionKind::Softmax) << " causal " << causal << " ffn " << ffn);
        ag::Rng rng(14);
        const nn::ICAlignTransformer<double> model(tiny(kind, causal, ffn), rng);
        // A scalar loss of the predictions, through every parameter and the responses.
        check_module([&](const TensorD& y) { return ag::sum(model(xs, y, rs) * w); }, ys, model);
      }
}

TEST_CASE("parameter names and layouts match the PyTorch reference", "[nn]") {
  ag::Rng rng(0);
  nn::ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_layer = 1;
  const nn::ICAlignTransformer<float> model(c, rng);
  std::vector<std::string> names;
  for (auto& [n, p] : model.named_parameters()) names.push_back(n + ag::shape_str(p.shape()));
  const std::vector<std::string> expected{
      "_read_in.weight(8, 3)", "_read_in.bias(8)",  "wpe.weight(12, 8)",     "h.0.ln_1.weight(8)",
      "h.0.ln_1.bias(8)",      "h.0.c_attn.weight(24, 8)", "h.0.c_attn.bias(24)", "h.0.c_proj.weight(8, 8)",
      "h.0.c_proj.bias(8)",    "h.0.ln_2.weight(8)", "h.0.ln_2.bias(8)",      "h.0.c_fc.weight(32, 8)",
      "h.0.c_fc.bias(32)",     "h.0.mlp_proj.weight(8, 32)", "h.0.mlp_proj.bias(8)", "ln_f.weight(8)",
      "ln_f.bias(8)",          "_read_out.weight(3, 8)", "_read_out.bias(3)"};
  CHECK(names == expected);
}

TEST_CASE("parameter count of the paper's configuration matches the formula", "[nn]") {
  ag::Rng rng(0);
  const nn::ModelConfig c;  // 20 layers, 96 dims, 3 heads, d = 5, N = 20
  const nn::ICAlignTransformer<float> model(c, rng);
  const std::size_t C = 96, d = 5, L = 20, T = 60;
  const std::size_t per_block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C);
  CHECK(model.num_parameters() == (d * C + C) + T * C + L * per_block + 2 * C + (C * d + d));
}

TEST_CASE("GPT-2 initialisation: zero biases, unit gains, residual projections scaled", "[nn]") {
  ag::Rng rng(3);
  nn::ModelConfig c;
  c.n_layer = 8, c.n_embd = 64, c.n_head = 4;
  const nn::ICAlignTransformer<double> model(c, rng);
  auto stddev = [](const TensorD& t) {
    double s = 0;
    for (double v : t.to_vector()) s += v * v;
    return std::sqrt(s / static_cast<double>(t.numel()));
  };
  for (auto& [name, p] : model.named_parameters()) {
    INFO(name);
    if (name == "h.3.c_attn.bias" || name == "ln_f.bias") CHECK(stddev(p) == 0.0);
    if (name == "h.3.ln_1.weight") CHECK(p.to_vector() == std::vector<double>(64, 1.0));
    if (name == "h.3.c_fc.weight") CHECK(std::abs(stddev(p) - 0.02) < 0.001);
    if (name == "h.3.mlp_proj.weight") CHECK(std::abs(stddev(p) - 0.02 / std::sqrt(16.0)) < 0.0003);
  }
}

TEST_CASE("the same seed gives the same model", "[nn]") {
  ag::Rng a(42), b(42);
  const nn::ICAlignTransformer<float> m1(tiny(nn::AttentionKind::Softmax, true, true), a);
  const nn::ICAlignTransformer<float> m2(tiny(nn::AttentionKind::Softmax, true, true), b);
  const auto p1 = m1.parameters(), p2 = m2.parameters();
  for (std::size_t i = 0; i < p1.size(); ++i) CHECK(p1[i].to_vector() == p2[i].to_vector());
}

TEST_CASE("causal model: the prediction at x-token n ignores triplets n and later", "[nn]") {
  ag::Rng rng(5);
  const nn::ICAlignTransformer<double> model(tiny(nn::AttentionKind::Softmax, true, true), rng);
  const TensorD xs = randd({1, 4, 3}, 15), ys = randd({1, 4, 3}, 16), rs = uniformd({1, 4}, 17, 0, 1);
  TensorD ys2 = TensorD::from_vector(ys.shape(), ys.to_vector());
  for (std::size_t k = 2 * 3; k < 4 * 3; ++k) ys2.data()[k] += 1.0;  // change responses 2 and 3
  const auto p1 = model(xs, ys, rs).to_vector(), p2 = model(xs, ys2, rs).to_vector();
  // x-tokens 0..2 (token positions 0, 3, 6) precede response 2 (position 7): unchanged, bit for bit.
  for (std::size_t k = 0; k < 3 * 3; ++k) CHECK(p1[k] == p2[k]);
  bool moved = false;
  for (std::size_t k = 3 * 3; k < 4 * 3; ++k) moved = moved || p1[k] != p2[k];
  CHECK(moved);
}

TEST_CASE("bad configurations are errors naming the field", "[nn][errors]") {
  ag::Rng rng(0);
  nn::ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_head = 3;
  CHECK_THROWS_WITH(nn::ICAlignTransformer<float>(c, rng), Catch::Contains("model.n_embd (8)") && Catch::Contains("model.n_head (3)"));
  c.n_head = 0;
  CHECK_THROWS_WITH(nn::ICAlignTransformer<float>(c, rng), Catch::Contains("model.n_head"));
  const nn::ICAlignTransformer<float> m(tiny(nn::AttentionKind::Softmax, true, true), rng);
  CHECK_THROWS_WITH(m(randf({1, 5, 3}, 1), randf({1, 5, 3}, 2), randf({1, 5}, 3)), Catch::Contains("n_points=4"));
}

TEST_CASE("a model's output and every gradient are bitwise equal with 1 and 2 threads (fused blocks)", "[nn][threads]") {
  nn::ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_dims = 5, c.n_points = 20, c.n_embd = 32, c.n_head = 2;  // 64 sequences: 3840 rows, tiled GEMMs
  auto run = [&](int threads) {
    ag::set_num_threads(threads);
    ag::Rng rng(50);
    const nn::ICAlignTransformer<float> model(c, rng);
    const TensorF xs = randf({64, 20, 5}, 51), ys = randf({64, 20, 5}, 52), rs = randf({64, 20}, 53);
    const TensorF y = model(xs, ys, rs);
    ag::sum(y * y).backward();
    std::vector<std::vector<float>> r{y.to_vector()};
    for (auto& p : model.parameters()) r.push_back(p.grad().to_vector());
    ag::set_num_threads(0);
    return r;
  };
  CHECK(run(1) == run(2));
}

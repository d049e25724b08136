// The task's transformer (experiments/model/model.hpp): a gradient check of the whole tiny model in
// every variant, PyTorch-compatible names and counts, GPT-2 init, causality, config errors, threads.
#include <cmath>

#include "autograd/blas.hpp"
#include "experiments/train/data_parallel.hpp"
#include "experiments/model/model.hpp"
#include "testing.hpp"

using namespace agtest;
using V = std::vector<TensorD>;
using lab::ICAlignTransformer;
using lab::ModelConfig;

namespace {

// 2 layers, C = 8, 2 heads, 4 triplets of d = 3.
ModelConfig tiny(nn::AttentionKind kind, bool causal, bool ffn) {
  ModelConfig c;
  c.n_dims = 3, c.n_points = 4, c.n_embd = 8, c.n_layer = 2, c.n_head = 2;
  c.attention = kind, c.causal = causal, c.ffn = ffn;
  return c;
}

}  // namespace

TEST_CASE("gradcheck: a whole tiny model (2 layers, C=8, 2 heads, 4 triplets) in every variant", "[lab][gradcheck]") {
  const TensorD xs = randd({2, 4, 3}, 10), ys = randd({2, 4, 3}, 11), rs = uniformd({2, 4}, 12, 0, 1);
  const TensorD w = randd({2, 4, 3}, 13);
  for (auto kind : {nn::AttentionKind::Softmax, nn::AttentionKind::Linear})
    for (bool causal : {true, false})
      for (bool ffn : {true, false}) {
        INFO("softmax " << (kind == nn::AttentionKind::Softmax) << " causal " << causal << " ffn " << ffn);
        ag::Rng rng(14);
        const ICAlignTransformer<double> model(tiny(kind, causal, ffn), rng);
        // A scalar loss of the predictions, through every parameter and the responses.
        check_module_grads([&](const TensorD& y) { return ag::sum(model(xs, y, rs) * w); }, ys, model);
      }
}

TEST_CASE("parameter names and layouts match the PyTorch reference", "[lab]") {
  ag::Rng rng(0);
  ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_layer = 1;
  const ICAlignTransformer<float> model(c, rng);
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

TEST_CASE("parameter count of the paper's configuration matches the formula", "[lab]") {
  ag::Rng rng(0);
  const ModelConfig c;  // 20 layers, 96 dims, 3 heads, d = 5, N = 20
  const ICAlignTransformer<float> model(c, rng);
  const std::size_t C = 96, d = 5, L = 20, T = 60;
  const std::size_t per_block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C);
  CHECK(model.num_parameters() == (d * C + C) + T * C + L * per_block + 2 * C + (C * d + d));
}

TEST_CASE("GPT-2 initialisation: zero biases, unit gains, residual projections scaled", "[lab]") {
  ag::Rng rng(3);
  ModelConfig c;
  c.n_layer = 8, c.n_embd = 64, c.n_head = 4;
  const ICAlignTransformer<double> model(c, rng);
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

TEST_CASE("the same seed gives the same model", "[lab]") {
  ag::Rng a(42), b(42);
  const ICAlignTransformer<float> m1(tiny(nn::AttentionKind::Softmax, true, true), a);
  const ICAlignTransformer<float> m2(tiny(nn::AttentionKind::Softmax, true, true), b);
  const auto p1 = m1.parameters(), p2 = m2.parameters();
  for (std::size_t i = 0; i < p1.size(); ++i) CHECK(p1[i].to_vector() == p2[i].to_vector());
}

TEST_CASE("causal model: the prediction at x-token n ignores triplets n and later", "[lab]") {
  ag::Rng rng(5);
  const ICAlignTransformer<double> model(tiny(nn::AttentionKind::Softmax, true, true), rng);
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

TEST_CASE("bad configurations are errors naming the field", "[lab][errors]") {
  ag::Rng rng(0);
  ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_head = 3;
  CHECK_THROWS_WITH(ICAlignTransformer<float>(c, rng), Catch::Contains("model.n_embd (8)") && Catch::Contains("model.n_head (3)"));
  c.n_head = 0;
  CHECK_THROWS_WITH(ICAlignTransformer<float>(c, rng), Catch::Contains("model.n_head"));
  const ICAlignTransformer<float> m(tiny(nn::AttentionKind::Softmax, true, true), rng);
  CHECK_THROWS_WITH(m(randf({1, 5, 3}, 1), randf({1, 5, 3}, 2), randf({1, 5}, 3)), Catch::Contains("n_points=4"));
}

TEST_CASE("a model's output and every gradient are bitwise equal with 1 and 2 threads (fused blocks)", "[lab][threads]") {
  REQUIRE_TWO_THREADS_OR_SKIP();
  ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_dims = 5, c.n_points = 20, c.n_embd = 32, c.n_head = 2;  // 64 sequences: 3840 rows, tiled GEMMs
  auto run = [&](int threads) {
    ag::set_num_threads(threads);
    ag::Rng rng(50);
    const ICAlignTransformer<float> model(c, rng);
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

namespace {

// Loss and every gradient of a training step (PL-style scalar of the predictions) at a training
// shape: 72 sequences of 20 triplets = 4320 rows, so every weight gradient takes the split-K path,
// the projections take row tiles with the bias in the tile, and causal attention runs in two blocks.
template <class T>
std::vector<std::vector<double>> step_gradients(ICAlignTransformer<T>& model) {
  ag::Rng data(61);
  const auto xs = ag::randn<T>({72, 20, 5}, data), ys = ag::randn<T>({72, 20, 5}, data);
  const auto rs = ag::rand_uniform<T>({72, 20}, data), w = ag::randn<T>({72, 20, 5}, data);
  model.zero_grad();
  const auto pred = model(xs, ys, rs);
  ag::sum(pred * w).backward();
  std::vector<std::vector<double>> out;
  for (const auto& p : model.parameters()) {
    const auto g = p.grad().to_vector();
    out.emplace_back(g.begin(), g.end());
  }
  return out;
}

}  // namespace

TEST_CASE("a training step's gradients at training shapes equal the untiled double reference, both backends", "[lab][fast]") {
  ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  c.n_dims = 5, c.n_points = 20, c.n_embd = 32, c.n_head = 2;
  ag::Rng r1(60), r2(60);
  ICAlignTransformer<double> ref(c, r1);
  ICAlignTransformer<float> fast(c, r2);
  auto pr = ref.parameters();
  const auto pf = fast.parameters();
  for (std::size_t i = 0; i < pr.size(); ++i)  // the same weights, representable in float
    for (std::size_t k = 0; k < pr[i].numel(); ++k) pr[i].data()[k] = pf[i].data()[k];

  const auto backend = ag::blas::backend();
  std::vector<std::vector<double>> want;
  {
    const ag::ReferencePath path;  // the reference: module by module, plain loops in double
    want = step_gradients(ref);
  }
  for (auto b : {ag::blas::Backend::Xsmm, ag::blas::Backend::OpenBLAS}) {
  INFO("backend " << (b == ag::blas::Backend::Xsmm ? "xsmm" : "openblas"));
  ag::blas::set_backend(b);
  const auto tiled_double = step_gradients(ref), tiled_float = step_gradients(fast);
  REQUIRE(want.size() == tiled_float.size());
  const double K = 72 * 60;  // the longest sum in the step (a weight gradient over every row)
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("parameter " << ref.named_parameters()[i].first);
    REQUIRE(want[i].size() == tiled_float[i].size());
    double scale = 0, err_d = 0, err_f = 0;
    for (double v : want[i]) scale = std::max(scale, std::abs(v));
    for (std::size_t k = 0; k < want[i].size(); ++k) {
      err_d = std::max(err_d, std::abs(tiled_double[i][k] - want[i][k]));
      err_f = std::max(err_f, std::abs(tiled_float[i][k] - want[i][k]));
    }
    // Rounding of a K-term sum, relative to the gradient's size: eps_double · K for the double
    // tiling (a reordered sum), and float's eps · K, with a factor 8 of room, for float.
    CHECK(err_d <= 8 * K * 1.1e-16 * scale + 1e-300);
    CHECK(err_f <= 8 * K * 6e-8 * scale);
  }
  }
  ag::blas::set_backend(backend);
}

TEST_CASE("micro-batches: the mean of their gradients is the whole batch's gradient", "[lab][data_parallel]") {
  ModelConfig c = tiny(nn::AttentionKind::Softmax, true, true);
  ag::Rng init(70), data(71);
  const ICAlignTransformer<float> model(c, init);
  lab::TaskConfig task;
  task.n_dims = c.n_dims, task.n_points = c.n_points;
  const auto batch = lab::sample_batch<float>(task, 12, data);
  lab::TrainConfig tc;
  tc.batch_size = 12;
  auto gradients = [&](std::size_t m) {
    tc.micro_batches = m;
    const lab::StepGradient g = lab::data_parallel_gradient(model, batch, tc, lab::Group::solo(), false);
    std::vector<std::vector<float>> out{{static_cast<float>(g.loss)}};
    for (const auto& p : model.parameters()) out.push_back(p.grad().to_vector());
    return out;
  };
  const auto whole = gradients(1);
  for (std::size_t m : {2, 3, 4}) {
    INFO("micro_batches " << m);
    const auto split = gradients(m);
    for (std::size_t i = 0; i < whole.size(); ++i)
      for (std::size_t k = 0; k < whole[i].size(); ++k) CHECK(split[i][k] == Approx(whole[i][k]).epsilon(1e-4).margin(1e-6));
  }
  tc.micro_batches = 5;  // 12 sequences do not split into 5
  const lab::RunConfig bad{c, task, tc};
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("must be divisible by training.micro_batches (5)"));
}

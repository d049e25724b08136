// Writes what the PyTorch cross-check (torch_crosscheck.py) needs, for one model variant: our
// model's weights, a batch, our predictions, our parameter gradients of loss = sum(pred * w), and
// the Plackett-Luce and Bradley-Terry losses of the predictions with their gradients.
// Usage: torch_crosscheck_dump OUT_DIR float32|float64 [softmax|linear] [causal|full] [ffn|noffn|softplus]
#include <cstdio>
#include <string>

#include "experiments/task/losses.hpp"
#include "nn/checkpoint.hpp"
#include "experiments/model/model.hpp"

namespace {

template <class T>
int dump(const std::string& dir, lab::ModelConfig c) {
  // small, but every dimension distinct and > 1 so a transposed layout would show
  c.n_dims = 5, c.n_points = 6, c.n_embd = 12, c.n_layer = 2, c.n_head = 3;
  ag::Rng rng(2024);
  const lab::ICAlignTransformer<T> model(c, rng);
  const ag::Tensor<T> xs = ag::randn<T>({3, 6, 5}, rng), ys = ag::randn<T>({3, 6, 5}, rng);
  const ag::Tensor<T> rs = ag::rand_uniform<T>({3, 6}, rng), w = ag::randn<T>({3, 6, 5}, rng);
  const ag::Tensor<T> pred = model(xs, ys, rs);
  ag::sum(pred * w).backward();

  nn::NamedParams<T> io{{"xs", xs}, {"ys", ys}, {"rs", rs}, {"w", w}, {"pred", pred.detach()}};
  for (const auto& [name, p] : model.named_parameters()) io.emplace_back("grad." + name, p.grad());
  ag::Tensor<T> leaf = pred.detach();
  leaf.requires_grad_();
  const ag::Tensor<T> pl = lab::pl_loss(leaf, ys, rs);
  pl.backward();
  io.emplace_back("pl_loss", pl.detach());
  io.emplace_back("pl_grad", leaf.grad());
  ag::Tensor<T> leaf_bt = pred.detach();
  leaf_bt.requires_grad_();
  const ag::Tensor<T> bt = lab::bt_loss(leaf_bt, ys, rs);
  bt.backward();
  io.emplace_back("bt_loss", bt.detach());
  io.emplace_back("bt_grad", leaf_bt.grad());
  nn::save_safetensors(dir + "/model.safetensors", model.named_parameters(), c.to_metadata());
  nn::save_safetensors(dir + "/io.safetensors", io);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto arg = [&](int i, const char* fallback) { return std::string(argc > i ? argv[i] : fallback); };
  const std::string dtype = arg(2, ""), attention = arg(3, "softmax"), mask = arg(4, "causal"), ffn = arg(5, "ffn");
  if (argc < 3 || argc > 6 || (dtype != "float32" && dtype != "float64") || (attention != "softmax" && attention != "linear") ||
      (mask != "causal" && mask != "full") || (ffn != "ffn" && ffn != "noffn" && ffn != "softplus")) {
    std::fprintf(stderr, "usage: %s OUT_DIR float32|float64 [softmax|linear] [causal|full] [ffn|noffn|softplus]\n", argv[0]);
    return 2;
  }
  lab::ModelConfig c;
  c.attention = attention == "softmax" ? nn::AttentionKind::Softmax : nn::AttentionKind::Linear;
  c.causal = mask == "causal";
  c.ffn = ffn != "noffn";
  if (ffn == "softplus") c.activation = nn::Activation::Softplus;  // the FFN with softplus instead of GELU
  return dtype == "float32" ? dump<float>(argv[1], c) : dump<double>(argv[1], c);
}

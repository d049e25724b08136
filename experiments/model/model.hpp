// The GPT-2-style transformer of the in-context alignment task (its PyTorch twin:
// python/icalign_torch/model.py): read-in Linear(d -> C) on each token, learned positional embedding, n_layer
// pre-LN blocks (nn/block.hpp), final LayerNorm, read-out Linear(C -> d); predictions read at the
// x tokens.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "experiments/task/task.hpp"
#include "nn/block.hpp"

namespace lab {

struct ModelConfig {
  std::size_t n_dims = 5;       // d: size of x, y and the reward token
  std::size_t n_points = 20;    // N: (x, y, r) triplets per sequence; 3N tokens (positions)
  std::size_t n_embd = 96;      // C
  std::size_t n_layer = 20;
  std::size_t n_head = 3;
  nn::AttentionKind attention = nn::AttentionKind::Softmax;
  bool ffn = true;              // false: the paper's ablation without the MLP sublayer
  nn::Activation activation = nn::Activation::Gelu;  // the MLP's: gelu (GPT-2's) or softplus
  bool causal = true;

  // Throws std::invalid_argument naming the field and what is allowed.
  void validate() const;

  // As "model.<field>" -> value strings, for checkpoint metadata; equal configs give equal maps.
  std::map<std::string, std::string> to_metadata() const;

  nn::BlockSpec block_spec() const;  // pre-LN GELU blocks of this width, heads, attention
};

template <class T>
class ICAlignTransformer : public nn::Module<T> {
 public:
  ICAlignTransformer(const ModelConfig& cfg, ag::Rng& rng);

  // xs, ys (B, N, d), rs (B, N) -> predictions at the N x tokens (B, N, d)
  ag::Tensor<T> operator()(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) const;

  const ModelConfig& config() const { return cfg_; }

  nn::Linear<T> read_in;
  nn::Embedding<T> wpe;
  std::vector<std::unique_ptr<nn::Block<T>>> h;
  nn::LayerNorm<T> ln_f;
  nn::Linear<T> read_out;

 private:
  ModelConfig cfg_;
};

// The 3N tokens (x_1, y_1, [r_1, 0, ..., 0], x_2, ...) of each sequence: (B, 3N, d). Built from
// differentiable ops, so gradients reach xs, ys and rs too.
template <class T>
ag::Tensor<T> interleave_tokens(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs);

// The model's answers at every x-token of b, (B, N, d) in double, computed without a tape in chunks.
ag::TensorD model_answers(const ICAlignTransformer<float>& model, const Batch<double>& b);

}  // namespace lab

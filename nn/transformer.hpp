// The GPT-2-style transformer of the in-context alignment task (../shared/reference/icalign_torch.py,
// ICAlignTransformer): read-in Linear(d -> C) on each token, learned positional embedding, n_layer
// pre-LN blocks, final LayerNorm, read-out Linear(C -> d); predictions read at the x tokens.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/attention.hpp"

namespace nn {

struct ModelConfig {
  std::size_t n_dims = 5;       // d: size of x, y and the reward token
  std::size_t n_points = 20;    // N: (x, y, r) triplets per sequence; 3N tokens
  std::size_t n_embd = 96;      // C
  std::size_t n_layer = 20;
  std::size_t n_head = 3;
  AttentionKind attention = AttentionKind::Softmax;
  bool ffn = true;              // false: the paper's ablation without the MLP sublayer
  bool causal = true;

  // Throws std::invalid_argument naming the field and what is allowed.
  void validate() const;

  // As "model.<field>" -> value strings, for checkpoint metadata; equal configs give equal maps.
  std::map<std::string, std::string> to_metadata() const;
};

// MLP sublayer: C -> 4C -> GELU (tanh form) -> C.
template <class T>
class MLP : public Module<T> {
 public:
  MLP(std::size_t n_embd, ag::Rng& rng) : c_fc(n_embd, 4 * n_embd, rng), mlp_proj(4 * n_embd, n_embd, rng) {
    this->register_module("c_fc", c_fc);
    this->register_module("mlp_proj", mlp_proj);
  }
  ag::Tensor<T> operator()(const ag::Tensor<T>& x) const { return mlp_proj(ag::gelu(c_fc(x))); }

  Linear<T> c_fc, mlp_proj;
};

// Pre-LN block: x + attn(ln_1 x), then x + mlp(ln_2 x). Without FFN: only the attention sublayer.
template <class T>
class Block : public Module<T> {
 public:
  Block(const ModelConfig& cfg, ag::Rng& rng)
      : ln_1(cfg.n_embd), attn(cfg.n_embd, cfg.n_head, cfg.attention, cfg.causal, rng) {
    this->register_module("ln_1", ln_1);
    this->register_module("", attn);  // h.{i}.c_attn.*, h.{i}.c_proj.*, as in the reference
    if (cfg.ffn) {
      ln_2 = std::make_unique<LayerNorm<T>>(cfg.n_embd);
      mlp = std::make_unique<MLP<T>>(cfg.n_embd, rng);
      this->register_module("ln_2", *ln_2);
      this->register_module("", *mlp);
    }
  }
  ag::Tensor<T> operator()(ag::Tensor<T> x) const {  // (B, T, C) -> (B, T, C)
    x = x + attn(ln_1(x));
    if (mlp) x = x + (*mlp)((*ln_2)(x));
    return x;
  }

  LayerNorm<T> ln_1;
  SelfAttention<T> attn;
  std::unique_ptr<LayerNorm<T>> ln_2;
  std::unique_ptr<MLP<T>> mlp;
};

template <class T>
class ICAlignTransformer : public Module<T> {
 public:
  ICAlignTransformer(const ModelConfig& cfg, ag::Rng& rng);

  // xs, ys (B, N, d), rs (B, N) -> predictions at the N x tokens (B, N, d)
  ag::Tensor<T> operator()(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) const;

  const ModelConfig& config() const { return cfg_; }

  Linear<T> read_in;
  Embedding<T> wpe;
  std::vector<std::unique_ptr<Block<T>>> h;
  LayerNorm<T> ln_f;
  Linear<T> read_out;

 private:
  ModelConfig cfg_;
};

// The 3N tokens (x_1, y_1, [r_1, 0, ..., 0], x_2, ...) of each sequence: (B, 3N, d). Built from
// differentiable ops, so gradients reach xs, ys and rs too.
template <class T>
ag::Tensor<T> interleave_tokens(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs);

}  // namespace nn

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

enum class Activation { Gelu, Relu };

// What one block is made of. The trained models use from_model(cfg): pre-LN, GELU, 4C hidden. The
// explicit construction (experiments/lab/construction.hpp) uses no LayerNorm and a ReLU FFN of its own
// width, so its hand-set weights act on the residual stream directly.
struct BlockSpec {
  std::size_t n_embd = 96, n_head = 3;
  AttentionKind attention = AttentionKind::Softmax;
  bool causal = true;
  bool ffn = true;
  bool layer_norm = true;
  std::size_t ffn_hidden = 0;  // 0: 4 n_embd
  Activation activation = Activation::Gelu;

  static BlockSpec from_model(const ModelConfig& cfg) {
    BlockSpec s;
    s.n_embd = cfg.n_embd, s.n_head = cfg.n_head, s.attention = cfg.attention, s.causal = cfg.causal, s.ffn = cfg.ffn;
    return s;
  }
  std::size_t hidden() const { return ffn_hidden ? ffn_hidden : 4 * n_embd; }
};

// MLP sublayer: C -> hidden -> activation -> C (GPT-2: hidden 4C, GELU in its tanh form).
template <class T>
class MLP : public Module<T> {
 public:
  MLP(std::size_t n_embd, ag::Rng& rng) : MLP(n_embd, 4 * n_embd, Activation::Gelu, rng) {}
  MLP(std::size_t n_embd, std::size_t hidden, Activation act, ag::Rng& rng)
      : c_fc(n_embd, hidden, rng), mlp_proj(hidden, n_embd, rng), act_(act) {
    this->register_module("c_fc", c_fc);
    this->register_module("mlp_proj", mlp_proj);
  }
  ag::Tensor<T> operator()(const ag::Tensor<T>& x) const {
    const ag::Tensor<T> a = c_fc(x);
    return mlp_proj(act_ == Activation::Gelu ? ag::gelu(a) : ag::relu(a));
  }

  Activation activation() const { return act_; }

  Linear<T> c_fc, mlp_proj;

 private:
  Activation act_;
};

// Pre-LN block: x + attn(ln_1 x), then x + mlp(ln_2 x). Without FFN: only the attention sublayer.
// Without LayerNorm: x + attn(x), then x + mlp(x).
//
// The pre-LN GELU block runs as four fused ops (ops_fused.cpp, ops_attention.cpp):
//   qkv = ln_linear(x; ln_1, c_attn)    x = linear(attention_qkv(qkv); c_proj) + x
//   a   = ln_linear(x; ln_2, c_fc)      x = gelu_linear(a; mlp_proj) + x
// which keep 6 activations per layer for backward instead of 11. `fused = false` runs the same
// block module by module: the reference it is tested against.
template <class T>
class Block : public Module<T> {
 public:
  Block(const ModelConfig& cfg, ag::Rng& rng) : Block(BlockSpec::from_model(cfg), rng) {}
  Block(const BlockSpec& spec, ag::Rng& rng) : attn(spec.n_embd, spec.n_head, spec.attention, spec.causal, rng) {
    if (spec.layer_norm) {
      ln_1 = std::make_unique<LayerNorm<T>>(spec.n_embd);
      this->register_module("ln_1", *ln_1);
    }
    this->register_module("", attn);  // h.{i}.c_attn.*, h.{i}.c_proj.*, as in the reference
    if (spec.ffn) {
      if (spec.layer_norm) {
        ln_2 = std::make_unique<LayerNorm<T>>(spec.n_embd);
        this->register_module("ln_2", *ln_2);
      }
      mlp = std::make_unique<MLP<T>>(spec.n_embd, spec.hidden(), spec.activation, rng);
      this->register_module("", *mlp);
    }
  }
  ag::Tensor<T> operator()(ag::Tensor<T> x) const {  // (B, T, C) -> (B, T, C)
    if (fused && ln_1 && (!mlp || mlp->activation() == Activation::Gelu)) {
      const auto qkv = ag::ln_linear(x, ln_1->weight, ln_1->bias, attn.c_attn.weight, attn.c_attn.bias, ln_1->eps());
      const bool softmax = attn.kind() == AttentionKind::Softmax;
      x = ag::linear(ag::attention_qkv(qkv, attn.n_head(), attn.causal(), softmax), attn.c_proj.weight, attn.c_proj.bias, x);
      if (!mlp) return x;
      const auto a = ag::ln_linear(x, ln_2->weight, ln_2->bias, mlp->c_fc.weight, mlp->c_fc.bias, ln_2->eps());
      return ag::gelu_linear(a, mlp->mlp_proj.weight, mlp->mlp_proj.bias, x);
    }
    x = x + attn(ln_1 ? (*ln_1)(x) : x);
    if (mlp) x = x + (*mlp)(ln_2 ? (*ln_2)(x) : x);
    return x;
  }

  bool fused = true;  // false: module by module (and set attn.fused = false for the composed attention too)

  std::unique_ptr<LayerNorm<T>> ln_1;
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

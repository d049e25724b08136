// A GPT-2 transformer block and its MLP sublayer, generic over width, heads, attention kind,
// masking, LayerNorm and activation (BlockSpec). Models are stacks of these; the task's model is in
// experiments/model/model.hpp.
#pragma once
#include <memory>

#include "nn/attention.hpp"

namespace nn {

enum class Activation { Gelu, Relu, Softplus };

// What one block is made of. The defaults are GPT-2's: pre-LN, GELU, 4C hidden. The explicit
// construction (experiments/model/construction.hpp) uses no LayerNorm and a ReLU FFN of its own
// width, so its hand-set weights act on the residual stream directly.
struct BlockSpec {
  std::size_t n_embd = 96, n_head = 3;
  AttentionKind attention = AttentionKind::Softmax;
  bool causal = true;
  bool ffn = true;
  bool layer_norm = true;
  std::size_t ffn_hidden = 0;  // 0: 4 n_embd
  Activation activation = Activation::Gelu;

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
    switch (act_) {
      case Activation::Gelu: return mlp_proj(ag::gelu(a));
      case Activation::Relu: return mlp_proj(ag::relu(a));
      case Activation::Softplus: return mlp_proj(ag::softplus(a));
    }
    throw std::logic_error("MLP: unknown activation");
  }

  Activation activation() const { return act_; }

  Linear<T> c_fc, mlp_proj;

 private:
  Activation act_;
};

// Pre-LN block: x + attn(ln_1 x), then x + mlp(ln_2 x). Without FFN: only the attention sublayer.
// Without LayerNorm: x + attn(x), then x + mlp(x).
//
// The pre-LN GELU block runs as four fused ops (fused_sublayers.cpp, fused_attention.cpp):
//   qkv = ln_linear(x; ln_1, c_attn)    x = linear(attention_qkv(qkv); c_proj) + x
//   x = ln_mlp(x; ln_2, c_fc, mlp_proj) = x + mlp_proj(gelu(c_fc(ln_2 x)))
// which keep 6 activations per layer for backward instead of 11. On the reference path
// (autograd/reference.hpp) the same block runs module by module: the reference it is tested against.
template <class T>
class Block : public Module<T> {
 public:
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
    if (!ag::reference_path() && ln_1 && (!mlp || mlp->activation() == Activation::Gelu)) {
      const auto qkv = ag::ln_linear(x, ln_1->weight, ln_1->bias, attn.c_attn.weight, attn.c_attn.bias, ln_1->eps());
      const bool softmax = attn.kind() == AttentionKind::Softmax;
      x = ag::linear(ag::attention_qkv(qkv, attn.n_head(), attn.causal(), softmax), attn.c_proj.weight, attn.c_proj.bias, x);
      if (!mlp) return x;
      return ag::ln_mlp(x, ln_2->weight, ln_2->bias, mlp->c_fc.weight, mlp->c_fc.bias, mlp->mlp_proj.weight,
                        mlp->mlp_proj.bias, ln_2->eps());
    }
    x = x + attn(ln_1 ? (*ln_1)(x) : x);
    if (mlp) x = x + (*mlp)(ln_2 ? (*ln_2)(x) : x);
    return x;
  }

  std::unique_ptr<LayerNorm<T>> ln_1;
  SelfAttention<T> attn;
  std::unique_ptr<LayerNorm<T>> ln_2;
  std::unique_ptr<MLP<T>> mlp;
};

}  // namespace nn

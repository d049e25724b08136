// Multi-head self-attention, as GPT-2 (one q,k,v projection, scale 1/sqrt(head size)), with the
// paper's ablation: "linear" attention uses the scaled scores q·kᵀ/sqrt(hs) directly, no softmax.
#pragma once
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "autograd/reference.hpp"
#include "nn/layers.hpp"

namespace nn {

enum class AttentionKind { Softmax, Linear };

template <class T>
class SelfAttention : public Module<T> {
 public:
  SelfAttention(std::size_t n_embd, std::size_t n_head, AttentionKind kind, bool causal, ag::Rng& rng)
      : c_attn(n_embd, 3 * n_embd, rng), c_proj(n_embd, n_embd, rng), n_embd_(n_embd), n_head_(n_head),
        kind_(kind), causal_(causal) {
    if (n_head == 0 || n_embd % n_head != 0)
      throw std::invalid_argument("SelfAttention: n_embd (" + std::to_string(n_embd) +
                                  ") must be a positive multiple of n_head (" + std::to_string(n_head) + ")");
    this->register_module("c_attn", c_attn);
    this->register_module("c_proj", c_proj);
  }

  // x (B, T, C) -> (B, T, C)
  ag::Tensor<T> operator()(const ag::Tensor<T>& x) const {
    const ag::Tensor<T> qkv = c_attn(x);  // (B, T, 3C)
    const bool sm = kind_ == AttentionKind::Softmax;
    return c_proj(ag::reference_path() ? composed(qkv) : ag::attention_qkv(qkv, n_head_, causal_, sm));
  }

  // The reference path (autograd/reference.hpp), from primitive ops: what the fused kernel is tested against.
  ag::Tensor<T> composed(const ag::Tensor<T>& qkv) const {
    const long B = static_cast<long>(qkv.shape()[0]), Tn = static_cast<long>(qkv.shape()[1]);
    const long C = static_cast<long>(n_embd_), H = static_cast<long>(n_head_), HS = C / H;
    auto head = [&](long which) {  // (B, T, C) slab -> (B, H, T, HS)
      const auto part = ag::slice(qkv, 2, static_cast<std::size_t>(which * C), static_cast<std::size_t>((which + 1) * C));
      return ag::permute(ag::reshape(part, {B, Tn, H, HS}), {0, 2, 1, 3});
    };
    const ag::Tensor<T> q = head(0), k = head(1), v = head(2);
    ag::Tensor<T> att = ag::matmul(q, ag::transpose(k, -1, -2)) * (T(1) / std::sqrt(static_cast<T>(HS)));  // (B, H, T, T)
    if (kind_ == AttentionKind::Softmax) {
      if (causal_) att = ag::masked_fill(att, ag::causal_mask(static_cast<std::size_t>(Tn)), -std::numeric_limits<T>::infinity());
      att = ag::softmax(att, -1);
    } else if (causal_) {
      att = ag::masked_fill(att, ag::causal_mask(static_cast<std::size_t>(Tn)), T(0));  // linear: future tokens weigh 0
    }
    return ag::reshape(ag::permute(ag::matmul(att, v), {0, 2, 1, 3}), {B, Tn, C});  // (B, T, C)
  }

  std::size_t n_head() const { return n_head_; }
  bool causal() const { return causal_; }
  AttentionKind kind() const { return kind_; }

  Linear<T> c_attn, c_proj;

 private:
  std::size_t n_embd_, n_head_;
  AttentionKind kind_;
  bool causal_;
};

}  // namespace nn

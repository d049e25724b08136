// Every differentiable op of the engine. Each is defined in an ops_*.cpp file as a forward/backward
// pair side by side, and each has a double-precision gradient check in tests/.
//
// Conventions: axes may be negative (counted from the end); elementwise binary ops broadcast like
// NumPy; every op returns a new contiguous tensor (reshape and detach share storage). Bad shapes
// throw ag::ShapeError naming the op and the shapes.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag {

// Integer indices (not differentiated), row-major with a shape, for gather.
struct Index {
  Shape shape;
  std::vector<std::size_t> values;
};

// A boolean mask, broadcastable to the tensor it is applied to; nonzero = "fill here".
struct Mask {
  Shape shape;
  std::vector<std::uint8_t> values;
};

// ---------------------------------------------------------------- elementwise (ops_elementwise.cpp)
template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> add(const Tensor<T>& x, T s);
template <class T> Tensor<T> mul(const Tensor<T>& x, T s);
template <class T> Tensor<T> rsub(T s, const Tensor<T>& x);  // s - x
template <class T> Tensor<T> rdiv(T s, const Tensor<T>& x);  // s / x
template <class T> Tensor<T> neg(const Tensor<T>& x);
template <class T> Tensor<T> pow(const Tensor<T>& x, T p);
template <class T> Tensor<T> exp(const Tensor<T>& x);
template <class T> Tensor<T> log(const Tensor<T>& x);
template <class T> Tensor<T> sqrt(const Tensor<T>& x);
template <class T> Tensor<T> tanh(const Tensor<T>& x);
template <class T> Tensor<T> sigmoid(const Tensor<T>& x);
template <class T> Tensor<T> relu(const Tensor<T>& x);
template <class T> Tensor<T> softplus(const Tensor<T>& x);  // log(1 + e^x), a smooth relu
template <class T> Tensor<T> gelu(const Tensor<T>& x);  // tanh approximation, as GPT-2
template <class T> Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);

// ---------------------------------------------------------------- matmul (ops_matmul.cpp)
// (M,K)@(K,N) and batched (...,M,K)@(...,K,N) with broadcast batch dims; a 1-D operand is not
// promoted (reshape it explicitly).
template <class T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);
// x (..., IN) · Wᵀ + b with W (OUT, IN) as PyTorch stores it; pass an undefined b for no bias.
template <class T> Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                                    const Tensor<T>& residual = Tensor<T>());

// ---------------------------------------------------------------- fused sublayers (fused_sublayers.cpp)
// LN(x) Wᵀ + b, keeping only x and LN's row statistics for backward (LN(x) is recomputed).
template <class T>
Tensor<T> ln_linear(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w,
                    const Tensor<T>& b, T eps);
// residual + gelu(a) Wᵀ + b, keeping a for backward (gelu(a) is recomputed).
template <class T>
Tensor<T> gelu_linear(const Tensor<T>& a, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& residual);
// x + gelu(LN(x) W1ᵀ + b1) W2ᵀ + b2, the pre-LN MLP sublayer in row tiles: ln_linear and gelu_linear
// in one op, keeping x, LN's row statistics and the hidden pre-activation for backward.
template <class T>
Tensor<T> ln_mlp(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w1,
                 const Tensor<T>& b1, const Tensor<T>& w2, const Tensor<T>& b2, T eps);

// ---------------------------------------------------------------- shape (ops_shape.cpp)
template <class T> Tensor<T> reshape(const Tensor<T>& x, const std::vector<long>& shape);  // one -1 allowed
template <class T> Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& perm);
template <class T> Tensor<T> transpose(const Tensor<T>& x, long axis0, long axis1);
template <class T> Tensor<T> slice(const Tensor<T>& x, long axis, std::size_t start, std::size_t end);
template <class T> Tensor<T> concat(const std::vector<Tensor<T>>& xs, long axis);
template <class T> Tensor<T> stack(const std::vector<Tensor<T>>& xs, long axis);
template <class T> Tensor<T> index_select(const Tensor<T>& x, long axis, const std::vector<std::size_t>& index);
template <class T> Tensor<T> gather(const Tensor<T>& x, long axis, const Index& index);  // torch.gather

// ---------------------------------------------------------------- reductions (ops_reduce.cpp)
template <class T> Tensor<T> sum(const Tensor<T>& x);  // all elements -> shape ()
template <class T> Tensor<T> sum(const Tensor<T>& x, const std::vector<long>& axes, bool keepdim = false);
template <class T> Tensor<T> mean(const Tensor<T>& x);
template <class T> Tensor<T> mean(const Tensor<T>& x, const std::vector<long>& axes, bool keepdim = false);
template <class T> Tensor<T> max(const Tensor<T>& x, long axis, bool keepdim = false);  // grad to the first max

// ---------------------------------------------------------------- nn ops (ops_nn.cpp)
template <class T> Tensor<T> softmax(const Tensor<T>& x, long axis);
template <class T> Tensor<T> log_softmax(const Tensor<T>& x, long axis);
// Normalises over the last axis of x (..., C); gamma and beta have shape (C).
template <class T> Tensor<T> layer_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, T eps);
template <class T> Tensor<T> masked_fill(const Tensor<T>& x, const Mask& mask, T value);
Mask causal_mask(std::size_t n);  // (n, n), set strictly above the diagonal: position i sees j <= i
// sum(a*b, axis) / (max(|a|, eps) * max(|b|, eps)), with broadcasting of a and b.
template <class T> Tensor<T> cosine_similarity(const Tensor<T>& a, const Tensor<T>& b, long axis, T eps = T(1e-8));

// ---------------------------------------------------------------- fused attention (fused_attention.cpp)
// q, k, v (B, H, T, HS) -> (B, H, T, HS): softmax(q kᵀ / sqrt(HS), causal mask) v, or with
// softmax = false the paper's linear attention (scores used directly, masked scores 0).
template <class T>
Tensor<T> attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, bool causal, bool softmax = true);
// The same, reading q, k, v in place from a fused projection qkv (B, T, 3C) split into n_head heads
// of C / n_head (GPT-2's layout), and returning (B, T, C) with the heads side by side.
template <class T>
Tensor<T> attention_qkv(const Tensor<T>& qkv, std::size_t n_head, bool causal, bool softmax = true);

// ---------------------------------------------------------------- operators
template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
template <class T> Tensor<T> operator+(const Tensor<T>& x, T s) { return add(x, s); }
template <class T> Tensor<T> operator+(T s, const Tensor<T>& x) { return add(x, s); }
template <class T> Tensor<T> operator-(const Tensor<T>& x, T s) { return add(x, -s); }
template <class T> Tensor<T> operator-(T s, const Tensor<T>& x) { return rsub(s, x); }
template <class T> Tensor<T> operator*(const Tensor<T>& x, T s) { return mul(x, s); }
template <class T> Tensor<T> operator*(T s, const Tensor<T>& x) { return mul(x, s); }
template <class T> Tensor<T> operator/(const Tensor<T>& x, T s) { return mul(x, T(1) / s); }
template <class T> Tensor<T> operator/(T s, const Tensor<T>& x) { return rdiv(s, x); }

}  // namespace ag

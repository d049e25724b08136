// Kernels shared by a reference op and the fused ops built from it (fused_sublayers.cpp): the shape
// checks of linear and LayerNorm, linear's GEMMs, the tanh-form GELU and its derivative as xtensor
// expressions and as loops over SIMD batches, and LayerNorm's row loops. Internal to the engine.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include <xsimd/xsimd.hpp>
#include <xtensor/xmath.hpp>

#include "autograd/blas.hpp"
#include "autograd/op_util.hpp"

namespace ag::detail {

// The shape checks of a linear layer and of LayerNorm's parameters, shared by the reference ops
// (linear, layer_norm) and the fused ones built from them. x (..., IN), W (OUT, IN), b (OUT) or
// none, residual of the output's shape or none; returns the output's shape (..., OUT).
inline Shape check_linear(const char* op, const Shape& x, const Shape& w, const Shape* b, const Shape* residual) {
  if (x.empty() || w.size() != 2 || x.back() != w[1] || (b && *b != Shape{w[0]}))
    throw ShapeError(std::string(op) + ": x " + shape_str(x) + " needs weight (OUT, " +
                     (x.empty() ? "?" : std::to_string(x.back())) + ") and bias (OUT), got weight " + shape_str(w) +
                     (b ? " and bias " + shape_str(*b) : ""));
  Shape out = x;
  out.back() = w[0];
  if (residual && *residual != out)
    throw ShapeError(std::string(op) + ": the residual must have the output's shape " + shape_str(out) + ", got " +
                     shape_str(*residual));
  return out;
}
// x (..., C) needs gamma and beta of shape (C).
inline void check_layer_norm(const char* op, const Shape& x, const Shape& gamma, const Shape& beta) {
  if (x.empty() || gamma != Shape{x.back()} || beta != gamma)
    throw ShapeError(std::string(op) + ": x " + shape_str(x) + " needs gamma and beta of shape (C) = (" +
                     (x.empty() ? "?" : std::to_string(x.back())) + "), got gamma " + shape_str(gamma) + " and beta " +
                     shape_str(beta));
}

// y (R, OUT) = x (R, IN) · Wᵀ + b + beta · y, with W stored (OUT, IN) as in PyTorch: one GEMM with a
// transpose flag, no transposed copy of W. b may be null.
template <class T>
void linear_forward(const T* x, const T* w, const T* b, std::size_t R, std::size_t IN, std::size_t OUT, T beta, T* y) {
  blas::gemm_parallel<T>(false, true, R, OUT, IN, T(1), x, IN, w, IN, beta, y, OUT, b);
}

// dW (OUT, IN) = dw.beta · dW + dyᵀ · x,  db (OUT) += Σ_r dy,  then dx (R, IN) = dx.beta · dx + dy · W.
// Any target may be null.
template <class T>
void linear_backward(const T* g, const T* x, const T* w, std::size_t R, std::size_t IN, std::size_t OUT, GradTarget<T> dx,
                     GradTarget<T> dw, T* db) {
  if (dw) blas::gemm_parallel<T>(true, false, OUT, IN, R, T(1), g, OUT, x, IN, dw.beta, dw.ptr, IN);
  if (db) add_column_sums(R, OUT, db, [g, OUT](std::size_t r, std::size_t c) { return g[r * OUT + c]; });
  if (dx) blas::gemm_parallel<T>(false, false, R, IN, OUT, T(1), g, OUT, w, IN, dx.beta, dx.ptr, IN);
}

// GELU, tanh form (GPT-2): y = v/2 · (1 + tanh u),  u = sqrt(2/π) · (v + 0.044715 v³). Since
// (1 + tanh u)/2 = σ(2u), it is computed as y = v · s with s = σ(2u) = 1 / (1 + exp(−2u)):
//   dy/dv = s + 2 v · s (1 − s) · sqrt(2/π) · (1 + 3 · 0.044715 v²)
// The same function, but one exp and a division instead of xsimd's tanh (which evaluates both of
// its branches), and accurate in float where the tanh form is not: for v < 0, 1 + tanh u cancels,
// down to 0 where tanh u rounds to −1 (tests/test_forward_values.cpp measures both against long double).
// The functions take xtensor expressions (the reference op) or xsimd batches (the fused tiles' loops
// below); `exp` is found by argument-dependent lookup, xt::exp or xsimd::exp. On expressions they
// return a lazy xtensor expression; evaluate it while its arguments are alive. An expression keeps its
// lvalue operands by reference and its rvalue operands by value, so the constants are written as
// temporaries, and `grad` copies s into the expression (S(s)) rather than referring to its own
// parameter, which would dangle once it returns.
struct Gelu {
  static constexpr double kK = 0.7978845608028654, kC = 0.044715;  // sqrt(2/π), and the cubic's weight

  template <class E>
  static auto sigmoid_2u(const E& v) {
    using T = typename E::value_type;
    return T(1) / (T(1) + exp(T(-2 * kK) * (v + T(kC) * v * v * v)));
  }
  template <class E>
  auto operator()(const E& v) const {
    return v * sigmoid_2u(v);
  }
  // dy · gelu'(v), given s = σ(2u) (the fused gelu_linear computes s once for both y and dy/dv).
  template <class G, class E, class S>
  static auto grad(const G& g, const E& v, S s) {
    using T = typename E::value_type;
    return g * (S(s) + T(2) * v * S(s) * (T(1) - S(s)) * T(kK) * (T(1) + T(3 * kC) * v * v));
  }
};
struct GeluGrad {  // dy · gelu'(v), for unary()
  template <class G, class E>
  auto operator()(const G& g, const E& v) const { return Gelu::grad(g, v, Gelu::sigmoid_2u(v)); }
};

// f(i, count) for the SIMD batches of n contiguous elements, i = 0, W, 2W, ...; count = W but for a
// short last batch. load and store move `count` elements, the short batch through an aligned buffer,
// so every element goes through the same vector code (xsimd's exp, not the scalar one).
// The fused tiles' elementwise passes use these: xtensor's expression loops reload each operand's
// address from the stack on every batch, and GELU's passes are a visible part of a training step.
template <class T, class F>
void for_each_batch(std::size_t n, F&& f) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  std::size_t i = 0;
  for (; i + W <= n; i += W) f(i, W);
  if (i < n) f(i, n - i);
}
template <class T>
xsimd::batch<T> load(const T* p, std::size_t count) {
  if (count == xsimd::batch<T>::size) return xsimd::batch<T>::load_unaligned(p);
  alignas(64) T buf[xsimd::batch<T>::size] = {};
  std::copy(p, p + count, buf);
  return xsimd::batch<T>::load_aligned(buf);
}
template <class T>
void store(const xsimd::batch<T>& b, T* p, std::size_t count) {
  if (count == xsimd::batch<T>::size) return b.store_unaligned(p);
  alignas(64) T buf[xsimd::batch<T>::size];
  b.store_aligned(buf);
  std::copy(buf, buf + count, p);
}

// h = gelu(v) over n elements.
template <class T>
void gelu_into(const T* v, std::size_t n, T* h) {
  for_each_batch<T>(n, [&](std::size_t i, std::size_t c) {
    const auto x = load(v + i, c);
    store(x * Gelu::sigmoid_2u(x), h + i, c);
  });
}
// s = σ(2u) and h = gelu(v) = v · s over n elements, for a backward that needs both.
template <class T>
void gelu_and_sigmoid_into(const T* v, std::size_t n, T* s, T* h) {
  for_each_batch<T>(n, [&](std::size_t i, std::size_t c) {
    const auto x = load(v + i, c);
    const auto sx = Gelu::sigmoid_2u(x);
    store(sx, s + i, c);
    store(x * sx, h + i, c);
  });
}
// d = d.beta · d + g · gelu'(v), given s = σ(2u), over n elements (d fresh when beta = 0: assigned).
template <class T>
void gelu_grad_into(const T* g, const T* v, const T* s, std::size_t n, GradTarget<T> d) {
  for_each_batch<T>(n, [&](std::size_t i, std::size_t c) {
    const auto grad = Gelu::grad(load(g + i, c), load(v + i, c), load(s + i, c));
    store(d.beta == T(0) ? grad : load(d.ptr + i, c) + grad, d.ptr + i, c);
  });
}

// LayerNorm of R rows of C: y = (x - mean) · rstd · γ + β, with mean and rstd of each row stored.
// Row sums go through lane_sum (vectorised, in a fixed order).
template <class T>
void layer_norm_rows(const T* x, const T* gamma, const T* beta, T eps, std::size_t R, std::size_t C, T* y, T* mean,
                     T* rstd) {
  parallel_chunks(R, rows_per_chunk(C), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      const T m = lane_sum<T>(C, [&](std::size_t c) { return xr[c]; }) / static_cast<T>(C);
      const T v = lane_sum<T>(C, [&](std::size_t c) { return (xr[c] - m) * (xr[c] - m); }) / static_cast<T>(C);
      const T s = T(1) / std::sqrt(v + eps);
      mean[r] = m, rstd[r] = s;
      for (std::size_t c = 0; c < C; ++c) y[r * C + c] = (xr[c] - m) * s * gamma[c] + beta[c];
    }
  });
}

// The same y from stored statistics: how fused ops recompute LN(x) in backward instead of keeping it.
template <class T>
void layer_norm_apply(const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd, std::size_t R, std::size_t C,
                      T* y) {
  parallel_chunks(R, rows_per_chunk(C), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t c = 0; c < C; ++c) y[r * C + c] = (x[r * C + c] - mean[r]) * rstd[r] * gamma[c] + beta[c];
  });
}

// Backward of rows [r0, r1), with n = (x - mean) · rstd and dn = dy · γ:
//   dβ += Σ_r dy,  dγ += Σ_r dy · n,  dx += rstd · (dn - mean_c(dn) - n · mean_c(dn · n))
// dγ and dβ go into partial sums pg and pb (C each, in T so the loop vectorises), which the caller
// owns per fixed chunk of rows and adds in chunk order. Both row means come from one loop over 16
// lanes, in a fixed order (one pass over the row, where two lane_sum calls would make two). Any of dx,
// pg, pb may be null.
template <class T>
void layer_norm_backward_rows(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd, std::size_t r0,
                              std::size_t r1, std::size_t C, GradTarget<T> dx, T* pg, T* pb) {
  constexpr std::size_t L = 16;
  for (std::size_t r = r0; r < r1; ++r) {
    const T *gr = g + r * C, *xr = x + r * C;
    const T m = mean[r], s = rstd[r];
    if (pg)
      for (std::size_t c = 0; c < C; ++c) pg[c] += gr[c] * (xr[c] - m) * s;
    if (pb)
      for (std::size_t c = 0; c < C; ++c) pb[c] += gr[c];
    if (!dx) continue;
    T dn_lane[L] = {}, dn_n_lane[L] = {};  // lanes of Σ dn and Σ dn · n
    const auto add = [&](std::size_t l, std::size_t c) {
      const T dn = gr[c] * gamma[c];
      dn_lane[l] += dn;
      dn_n_lane[l] += dn * (xr[c] - m) * s;
    };
    std::size_t c0 = 0;
    for (; c0 + L <= C; c0 += L)
      for (std::size_t l = 0; l < L; ++l) add(l, c0 + l);
    for (std::size_t l = 0; c0 + l < C; ++l) add(l, c0 + l);
    T dn_sum = 0, dn_n_sum = 0;
    for (std::size_t l = 0; l < L; ++l) dn_sum += dn_lane[l], dn_n_sum += dn_n_lane[l];
    const T dn_mean = dn_sum / static_cast<T>(C), dn_n_mean = dn_n_sum / static_cast<T>(C);
    T* d = dx.ptr + r * C;
    if (dx.beta == T(0))
      for (std::size_t c = 0; c < C; ++c) d[c] = s * (gr[c] * gamma[c] - dn_mean - (xr[c] - m) * s * dn_n_mean);
    else
      for (std::size_t c = 0; c < C; ++c) d[c] += s * (gr[c] * gamma[c] - dn_mean - (xr[c] - m) * s * dn_n_mean);
  }
}

// dst[i] = dst.beta · dst[i] + the sum of n partials of `size` elements, added in their order: how
// per-chunk partial sums become one result that does not depend on the thread count.
template <class T>
void add_in_order(std::size_t n, std::size_t size, const T* partial, GradTarget<T> dst) {
  for (std::size_t i = 0; i < size; ++i) {
    T sum = partial[i];
    for (std::size_t c = 1; c < n; ++c) sum += partial[c * size + i];
    dst.ptr[i] = dst.beta == T(0) ? sum : dst.beta * dst.ptr[i] + sum;
  }
}

// LayerNorm's backward over all R rows, in fixed chunks of rows with partial dγ, dβ each. Any of
// dx, dgamma, dbeta may be null.
template <class T>
void layer_norm_backward(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd, std::size_t R, std::size_t C,
                         GradTarget<T> dx, T* dgamma, T* dbeta) {
  const std::size_t chunk = rows_per_chunk(C), n_chunks = (R + chunk - 1) / chunk;
  std::vector<T> partial(n_chunks * 2 * C, T(0));  // per chunk: dγ (C), then dβ (C)
  parallel_chunks(R, chunk, [&](std::size_t r0, std::size_t r1) {
    T* p = &partial[r0 / chunk * 2 * C];
    layer_norm_backward_rows(g, x, gamma, mean, rstd, r0, r1, C, dx, dgamma ? p : nullptr, dbeta ? p + C : nullptr);
  });
  if (dgamma || dbeta) {
    std::vector<T> sum(2 * C);
    add_in_order(n_chunks, 2 * C, partial.data(), GradTarget<T>{sum.data(), T(0)});
    for (std::size_t c = 0; c < C; ++c) {
      if (dgamma) dgamma[c] += sum[c];
      if (dbeta) dbeta[c] += sum[C + c];
    }
  }
}

}  // namespace ag::detail

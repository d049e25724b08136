// Fused sublayers of a pre-LN transformer block, llm.c style: each is one op with its own backward,
// and what is cheap to recompute is recomputed in backward instead of kept alive until then.
//
//   ln_linear(x, γ, β, W, b)            y = LN(x) Wᵀ + b                    keeps x, mean, rstd (not LN(x))
//   gelu_linear(a, W, b, residual)      y = residual + gelu(a) Wᵀ + b       keeps a (not gelu(a))
//   ln_mlp(x, γ, β, W1, b1, W2, b2)     y = x + gelu(LN(x) W1ᵀ + b1) W2ᵀ + b2
//                                       keeps x, mean, rstd and u = LN(x) W1ᵀ + b1
//
// ln_mlp is the whole MLP sublayer: ln_linear followed by gelu_linear, tile by tile, so that u is
// turned into gelu(u) while it is in cache in forward, and du never leaves the cache in backward.
// Together with ln_linear, attention_qkv and linear(h, W, b, residual) it makes a block keep 6
// tensors per layer instead of 11 (docs/performance.md). Backward, with n = LN(x), h = gelu(a):
//   ln_linear:   dW += dyᵀ n,  db += Σ dy,  dn = dy W,  then LayerNorm's backward from dn
//   gelu_linear: dW += dyᵀ h,  db += Σ dy,  da += (dy W) ⊙ gelu'(a),  dresidual += dy
//
// A fast path: each op must equal the composition on its right above, values and gradients, computed
// on the reference path (reference.hpp). Checked by tests/test_gradcheck_fused.cpp (gradchecks with
// reused inputs, each op over many tiles and chunks) and, in a whole block, tests/test_nn_modules.cpp.
#include <tbb/parallel_for.h>

#include "autograd/kernels.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

// The ops work on tiles of rows: what they recompute (gelu(a), LN(x)) is made for one tile
// (kTileRows rows) in a scratch buffer that stays in cache, used by the tile's GEMMs and dropped.
// Made for all rows at once, gelu(a) would be a (R, IN) buffer written and read back twice in forward
// and five times in backward (docs/performance.md, "What each change bought").
constexpr std::size_t kTileRows = 128;
// Parameter gradients sum over all rows: each fixed chunk of rows adds its tiles into partials of its
// own, and the partials are added in chunk order, so they do not depend on the thread count. Chunks
// are near-equal, of at most kWeightChunkRows, and a multiple of 4 in number (balanced_block): config
// A's 15360 rows make 16 chunks of 960.
constexpr std::size_t kWeightChunkRows = 1024;

namespace {

// Scratch buffers are aligned: xtensor computes the unaligned head of a destination with scalar
// std::exp, whose last bit differs from xsimd's; with malloc's addresses the result would depend on
// the thread count.
template <class T>
Buffer<T> scratch(std::size_t n) {
  return Buffer<T>::from_shape({n});
}

// Per-chunk partial sums of several gradients, each of its own size, added in chunk order at the end
// into their targets, in the order given (a target with beta = 0 is assigned, so it must come before
// any later target of the same tensor).
template <class T>
class ChunkPartials {
 public:
  ChunkPartials(std::size_t n_chunks, std::vector<std::pair<GradTarget<T>, std::size_t>> targets)
      : n_chunks_(n_chunks), targets_(std::move(targets)) {
    std::size_t total = 0;
    for (const auto& [target, size] : targets_) offsets_.push_back(total), total += target ? n_chunks * size : 0;
    partial_.assign(total, T(0));
  }
  T* at(std::size_t chunk, std::size_t which) {
    const auto& [target, size] = targets_[which];
    return target ? partial_.data() + offsets_[which] + chunk * size : nullptr;
  }
  void add_to_targets() {
    for (std::size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i].first) add_in_order(n_chunks_, targets_[i].second, partial_.data() + offsets_[i], targets_[i].first);
  }

 private:
  std::size_t n_chunks_;
  std::vector<std::pair<GradTarget<T>, std::size_t>> targets_;
  std::vector<std::size_t> offsets_;
  std::vector<T> partial_;
};

inline std::size_t weight_chunk_rows(std::size_t R) { return std::max<std::size_t>(1, balanced_block(R, kWeightChunkRows)); }
inline std::size_t weight_chunks(std::size_t R) { return (R + weight_chunk_rows(R) - 1) / weight_chunk_rows(R); }

// f(c, r0, rows) for each fixed chunk c of rows [r0, r0 + rows), in parallel.
template <class F>
void for_each_weight_chunk(std::size_t R, F&& f) {
  const std::size_t len = weight_chunk_rows(R);
  tbb::parallel_for(std::size_t(0), weight_chunks(R), [&](std::size_t c) {
    const std::size_t r0 = c * len;
    f(c, r0, std::min(R, r0 + len) - r0);
  });
}

// A grad sink is added to: as a target, beta = 1.
template <class T>
GradTarget<T> sink_target(T* sink) {
  return {sink, T(1)};
}
// The target's rows from r0 on, for a gradient of rows `width` wide (a null target stays null).
template <class T>
GradTarget<T> rows_from(GradTarget<T> d, std::size_t r0, std::size_t width) {
  return d ? GradTarget<T>{d.ptr + r0 * width, d.beta} : d;
}

// sums[c] += Σ_r g[r, c]: a bias gradient's share of one tile, into its chunk's partial.
template <class T>
void add_column_sums_into(const T* g, std::size_t rows, std::size_t cols, T* sums) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) sums[c] += g[r * cols + c];
}

// ---------------------------------------------------------------- one tile of rows, forward

// y (n, OUT) = gelu(a) (n, IN) · Wᵀ + b + residual; wt is Wᵀ (IN, OUT), h scratch of n · IN.
template <class T>
void gelu_linear_tile(const T* a, const T* wt, const T* b, const T* residual, std::size_t n, std::size_t IN,
                      std::size_t OUT, T* y, T* h) {
  gelu_into(a, n * IN, h);
  blas::gemm<T>(false, false, n, OUT, IN, T(1), h, IN, wt, OUT, T(0), y, OUT, b);
  for (std::size_t i = 0; i < n * OUT; ++i) y[i] += residual[i];
}

// ---------------------------------------------------------------- one tile of rows, backward
// g is the tile's dy; `first` says the tile is its chunk's first, whose dW partial is assigned.

// gelu_linear: s = σ(2u) and h = gelu(a) = a · s (see Gelu), dW (+)= dyᵀ h, db += Σ dy, dh = dy W
// (over h), da (+)= dh ⊙ gelu'(a) from the same s. s and h are scratch of n · IN.
template <class T>
void gelu_linear_backward_tile(const T* g, const T* a, const T* w, std::size_t n, std::size_t IN, std::size_t OUT,
                               bool first, GradTarget<T> da, T* dw, T* db, T* s, T* h) {
  if (db) add_column_sums_into(g, n, OUT, db);
  if (!dw && !da) return;
  gelu_and_sigmoid_into(a, n * IN, s, h);
  if (dw) blas::gemm<T>(true, false, OUT, IN, n, T(1), g, OUT, h, IN, T(!first), dw, IN);
  if (!da) return;
  blas::gemm<T>(false, false, n, IN, OUT, T(1), g, OUT, w, IN, T(0), h, IN);  // dh
  gelu_grad_into(h, a, s, n * IN, da);
}

// ln_linear: n = LN(x) from the stored statistics, dW (+)= dyᵀ n, db += Σ dy, dn = dy W (over n),
// then LayerNorm's backward into dx and the dγ, dβ partials. nbuf is scratch of n · C.
template <class T>
void ln_linear_backward_tile(const T* g, const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd,
                             const T* w, std::size_t n, std::size_t C, std::size_t OUT, bool first, GradTarget<T> dx,
                             T* dw, T* db, T* dgamma, T* dbeta, T* nbuf) {
  if (dw) {
    layer_norm_apply(x, gamma, beta, mean, rstd, n, C, nbuf);
    blas::gemm<T>(true, false, OUT, C, n, T(1), g, OUT, nbuf, C, T(!first), dw, C);
  }
  if (db) add_column_sums_into(g, n, OUT, db);
  if (!dx && !dgamma && !dbeta) return;
  blas::gemm<T>(false, false, n, C, OUT, T(1), g, OUT, w, C, T(0), nbuf, C);  // dn
  layer_norm_backward_rows(nbuf, x, gamma, mean, rstd, 0, n, C, dx, dgamma, dbeta);
}

// Wᵀ (IN, OUT) of W (OUT, IN), packed once per op: libxsmm's kernels cannot transpose their B.
template <class T>
std::vector<T> transposed(const Tensor<T>& w) {
  const std::size_t OUT = w.shape()[0], IN = w.shape()[1];
  std::vector<T> wt(IN * OUT);
  blas::transpose(w.data(), IN, OUT, IN, wt.data());
  return wt;
}

}  // namespace

template <class T>
Tensor<T> ln_linear(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w,
                    const Tensor<T>& b, T eps) {
  const Shape out_shape = check_linear("ln_linear", x.shape(), w.shape(), &b.shape(), nullptr);
  check_layer_norm("ln_linear", x.shape(), gamma.shape(), beta.shape());
  const std::size_t C = w.shape()[1], OUT = w.shape()[0], R = x.numel() / std::max<std::size_t>(C, 1);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  auto mean = std::make_shared<std::vector<T>>(R), rstd = std::make_shared<std::vector<T>>(R);
  {
    Buffer<T> n = scratch<T>(R * C);  // LN(x), dropped after the GEMM
    layer_norm_rows(x.data(), gamma.data(), beta.data(), eps, R, C, n.data(), mean->data(), rstd->data());
    linear_forward(n.data(), w.data(), b.data(), R, C, OUT, T(0), y.data());
  }
  if (needs_grad<T>({&x, &gamma, &beta, &w, &b})) {
    record("ln_linear", y, [xi = x.impl_ptr(), gi = gamma.impl_ptr(), bti = beta.impl_ptr(), wi = w.impl_ptr(),
                            bi = b.impl_ptr(), yi = y.impl_ptr().get(), mean, rstd, R, C, OUT] {
      const T *g = grad_of(*yi), *X = xi->data->data(), *G = gi->data->data(), *Bt = bti->data->data();
      const T* W = wi->data->data();
      const GradTarget<T> dx = grad_target(*xi, xi->shape, "ln_linear");
      ChunkPartials<T> p(weight_chunks(R), {{grad_target(*wi, wi->shape, "ln_linear"), OUT * C},
                                            {sink_target(grad_sink(*bi, bi->shape, "ln_linear")), OUT},
                                            {sink_target(grad_sink(*gi, gi->shape, "ln_linear")), C},
                                            {sink_target(grad_sink(*bti, bti->shape, "ln_linear")), C}});
      for_each_weight_chunk(R, [&](std::size_t c, std::size_t r0, std::size_t rows) {
        Buffer<T> n = scratch<T>(kTileRows * C);
        for (std::size_t t = r0; t < r0 + rows; t += kTileRows)
          ln_linear_backward_tile(g + t * OUT, X + t * C, G, Bt, mean->data() + t, rstd->data() + t, W,
                                  std::min(kTileRows, r0 + rows - t), C, OUT, t == r0, rows_from(dx, t, C), p.at(c, 0),
                                  p.at(c, 1), p.at(c, 2), p.at(c, 3), n.data());
      });
      p.add_to_targets();
    });
  }
  return y;
}

template <class T>
Tensor<T> gelu_linear(const Tensor<T>& a, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& residual) {
  const Shape out_shape = check_linear("gelu_linear", a.shape(), w.shape(), &b.shape(), &residual.shape());
  const std::size_t IN = w.shape()[1], OUT = w.shape()[0], R = a.numel() / std::max<std::size_t>(IN, 1);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  {
    const std::vector<T> wt = transposed(w);
    parallel_chunks(R, kTileRows, [&](std::size_t r0, std::size_t r1) {
      Buffer<T> h = scratch<T>((r1 - r0) * IN);
      gelu_linear_tile(a.data() + r0 * IN, wt.data(), b.data(), residual.data() + r0 * OUT, r1 - r0, IN, OUT,
                       y.data() + r0 * OUT, h.data());
    });
  }
  if (needs_grad<T>({&a, &w, &b, &residual})) {
    record("gelu_linear", y, [ai = a.impl_ptr(), wi = w.impl_ptr(), bi = b.impl_ptr(), ri = residual.impl_ptr(),
                              yi = y.impl_ptr().get(), R, IN, OUT] {
      const T *g = grad_of(*yi), *A = ai->data->data(), *W = wi->data->data();
      const GradTarget<T> da = grad_target(*ai, ai->shape, "gelu_linear");
      ChunkPartials<T> p(weight_chunks(R), {{grad_target(*wi, wi->shape, "gelu_linear"), OUT * IN},
                                            {sink_target(grad_sink(*bi, bi->shape, "gelu_linear")), OUT}});
      for_each_weight_chunk(R, [&](std::size_t c, std::size_t r0, std::size_t rows) {
        Buffer<T> s = scratch<T>(kTileRows * IN), h = scratch<T>(kTileRows * IN);
        for (std::size_t t = r0; t < r0 + rows; t += kTileRows)
          gelu_linear_backward_tile(g + t * OUT, A + t * IN, W, std::min(kTileRows, r0 + rows - t), IN, OUT, t == r0,
                                    rows_from(da, t, IN), p.at(c, 0), p.at(c, 1), s.data(), h.data());
      });
      p.add_to_targets();
      if (const auto dr = grad_target(*ri, yi->shape, "gelu_linear")) pass_gradient(dr, g, numel(yi->shape));
    });
  }
  return y;
}

template <class T>
Tensor<T> ln_mlp(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w1,
                 const Tensor<T>& b1, const Tensor<T>& w2, const Tensor<T>& b2, T eps) {
  const Shape u_shape = check_linear("ln_mlp", x.shape(), w1.shape(), &b1.shape(), nullptr);
  check_linear("ln_mlp", u_shape, w2.shape(), &b2.shape(), &x.shape());
  check_layer_norm("ln_mlp", x.shape(), gamma.shape(), beta.shape());
  const std::size_t C = w1.shape()[1], H = w1.shape()[0], R = x.numel() / std::max<std::size_t>(C, 1);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  auto mean = std::make_shared<std::vector<T>>(R), rstd = std::make_shared<std::vector<T>>(R);
  auto u = std::make_shared<Buffer<T>>(scratch<T>(R * H));  // kept for backward
  {
    const std::vector<T> w1t = transposed(w1), w2t = transposed(w2);
    parallel_chunks(R, kTileRows, [&](std::size_t r0, std::size_t r1) {  // (n, C) -> (n, H) -> (n, C)
      const std::size_t n = r1 - r0;
      Buffer<T> ln = scratch<T>(n * C), h = scratch<T>(n * H);
      T* ut = u->data() + r0 * H;
      layer_norm_rows(x.data() + r0 * C, gamma.data(), beta.data(), eps, n, C, ln.data(), mean->data() + r0,
                      rstd->data() + r0);
      blas::gemm<T>(false, false, n, H, C, T(1), ln.data(), C, w1t.data(), H, T(0), ut, H, b1.data());
      gelu_linear_tile(ut, w2t.data(), b2.data(), x.data() + r0 * C, n, H, C, y.data() + r0 * C, h.data());
    });
  }
  if (needs_grad<T>({&x, &gamma, &beta, &w1, &b1, &w2, &b2})) {
    record("ln_mlp", y, [xi = x.impl_ptr(), gi = gamma.impl_ptr(), bti = beta.impl_ptr(), w1i = w1.impl_ptr(),
                         b1i = b1.impl_ptr(), w2i = w2.impl_ptr(), b2i = b2.impl_ptr(), yi = y.impl_ptr().get(), mean,
                         rstd, u, R, C, H] {
      const T *g = grad_of(*yi), *X = xi->data->data(), *G = gi->data->data(), *Bt = bti->data->data();
      const T *W1 = w1i->data->data(), *W2 = w2i->data->data();
      const GradTarget<T> dx = grad_target(*xi, xi->shape, "ln_mlp");
      if (dx) pass_gradient(dx, g, R * C);  // the residual's share; LayerNorm's backward adds the rest
      const GradTarget<T> dx_rest{dx.ptr, T(1)};
      const GradTarget<T> dw2 = grad_target(*w2i, w2i->shape, "ln_mlp");
      T* db2 = grad_sink(*b2i, b2i->shape, "ln_mlp");
      const GradTarget<T> dw1 = grad_target(*w1i, w1i->shape, "ln_mlp");
      T *db1 = grad_sink(*b1i, b1i->shape, "ln_mlp"), *dgamma = grad_sink(*gi, gi->shape, "ln_mlp");
      T* dbeta = grad_sink(*bti, bti->shape, "ln_mlp");
      const bool need_du = dx || dw1 || db1 || dgamma || dbeta;  // anything upstream of u
      ChunkPartials<T> p(weight_chunks(R), {{dw2, C * H}, {sink_target(db2), C}, {dw1, H * C}, {sink_target(db1), H},
                                            {sink_target(dgamma), C}, {sink_target(dbeta), C}});
      for_each_weight_chunk(R, [&](std::size_t c, std::size_t r0, std::size_t rows) {
        Buffer<T> s = scratch<T>(kTileRows * H), h = scratch<T>(kTileRows * H), du = scratch<T>(kTileRows * H);
        Buffer<T> n = scratch<T>(kTileRows * C);
        for (std::size_t t = r0; t < r0 + rows; t += kTileRows) {
          const std::size_t tn = std::min(kTileRows, r0 + rows - t);
          gelu_linear_backward_tile(g + t * C, u->data() + t * H, W2, tn, H, C, t == r0,
                                    GradTarget<T>{need_du ? du.data() : nullptr, T(0)}, p.at(c, 0), p.at(c, 1),
                                    s.data(), h.data());
          if (need_du)
            ln_linear_backward_tile(du.data(), X + t * C, G, Bt, mean->data() + t, rstd->data() + t, W1, tn, C, H,
                                    t == r0, rows_from(dx_rest, t, C), p.at(c, 2), p.at(c, 3), p.at(c, 4),
                                    p.at(c, 5), n.data());
        }
      });
      p.add_to_targets();
    });
  }
  return y;
}

#define AG_INSTANTIATE(T)                                                                                             \
  template Tensor<T> ln_linear(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,               \
                               const Tensor<T>&, T);                                                                  \
  template Tensor<T> gelu_linear(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);            \
  template Tensor<T> ln_mlp(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                            const Tensor<T>&, const Tensor<T>&, T);
AG_INSTANTIATE(float)
AG_INSTANTIATE(double)
#undef AG_INSTANTIATE

}  // namespace ag

// Fused sublayers of a pre-LN transformer block, llm.c style: each is one op with its own backward,
// and what is cheap to recompute is recomputed in backward instead of kept alive until then.
//
//   ln_linear(x, γ, β, W, b)         y = LN(x) Wᵀ + b             keeps x, mean, rstd   (not LN(x))
//   gelu_linear(a, W, b, residual)   y = residual + gelu(a) Wᵀ + b keeps a              (not gelu(a))
//
// Together with linear(h, W, b, residual) and attention_qkv they make a block keep 6 tensors per
// layer instead of 11 (docs/performance.md). Backward, with n = LN(x), h = gelu(a):
//   ln_linear:   dW += dyᵀ n,  db += Σ dy,  dn = dy W,  then LayerNorm's backward from dn
//   gelu_linear: dW += dyᵀ h,  db += Σ dy,  da += (dy W) ⊙ gelu'(a),  dresidual += dy
//
// A fast path (fused_*.cpp; the reference ops are in ops_*.cpp). ln_linear must equal
// linear(layer_norm(x, γ, β), W, b) and gelu_linear must equal residual + linear(gelu(a), W, b),
// values and gradients. Checked by tests/test_gradcheck_fused.cpp ("fused sublayers equal the ops
// they fuse", and gradchecks with reused inputs) and, inside a whole block, by
// tests/test_nn_modules.cpp ("fused pre-LN Block equals the Block run module by module").
#include <tbb/parallel_for.h>

#include "autograd/kernels.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

// Both ops work on tiles of rows: what they recompute (gelu(a), LN(x)) is made for one tile
// (kTileRows rows) in a scratch buffer that stays in cache, used by the tile's GEMMs and dropped.
// Made for all rows at once, gelu(a) was a (R, IN) buffer (24 MB per layer of config A) written and
// read back twice in forward and five times in backward; in tiles the step keeps 50 MB less
// (docs/performance.md, "What each change bought").
constexpr std::size_t kTileRows = 128;
// Parameter gradients sum over all rows: each fixed chunk of rows adds its tiles into partials of its
// own, and the partials are added in chunk order, so they do not depend on the thread count.
constexpr std::size_t kWeightChunkRows = 1024;

// Backward of one chunk of rows of ln_linear, tile by tile: n = LN(x) of the tile from the stored
// statistics, dW_chunk (+)= dyᵀ n and db_chunk += Σ dy while dy is in cache, dn = dy W over n, then
// LayerNorm's backward of the tile into dx and the dγ, dβ partials. Any output may be null.
template <class T>
void ln_linear_backward_chunk(const T* g, const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd,
                              const T* w, std::size_t rows, std::size_t C, std::size_t OUT, GradTarget<T> dx,
                              T* dw_chunk, T* db_chunk, T* dgamma_chunk, T* dbeta_chunk) {
  Buffer<T> n = Buffer<T>::from_shape({kTileRows * C});
  const bool need_dn = dx || dgamma_chunk || dbeta_chunk;
  for (std::size_t r0 = 0; r0 < rows; r0 += kTileRows) {
    const std::size_t r1 = std::min(rows, r0 + kTileRows);
    const T* gt = g + r0 * OUT;
    if (dw_chunk) {
      layer_norm_apply(x + r0 * C, gamma, beta, mean + r0, rstd + r0, r1 - r0, C, n.data());
      blas::gemm<T>(true, false, OUT, C, r1 - r0, T(1), gt, OUT, n.data(), C, T(r0 > 0), dw_chunk, C);
    }
    if (db_chunk)
      for (std::size_t r = 0; r < r1 - r0; ++r)
        for (std::size_t c = 0; c < OUT; ++c) db_chunk[c] += gt[r * OUT + c];
    if (!need_dn) continue;
    blas::gemm<T>(false, false, r1 - r0, C, OUT, T(1), gt, OUT, w, C, T(0), n.data(), C);  // dn, over n
    layer_norm_backward_rows(n.data(), x + r0 * C, gamma, mean + r0, rstd + r0, 0, r1 - r0, C,
                             dx ? GradTarget<T>{dx.ptr + r0 * C, dx.beta} : dx, dgamma_chunk, dbeta_chunk);
  }
}

template <class T>
Tensor<T> ln_linear(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w,
                    const Tensor<T>& b, T eps) {
  const Shape out_shape = check_linear("ln_linear", x.shape(), w.shape(), &b.shape(), nullptr);
  check_layer_norm("ln_linear", x.shape(), gamma.shape(), beta.shape());
  const std::size_t C = w.shape()[1], OUT = w.shape()[0], R = x.numel() / std::max<std::size_t>(C, 1);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  auto mean = std::make_shared<std::vector<T>>(R), rstd = std::make_shared<std::vector<T>>(R);
  {
    Buffer<T> n = Buffer<T>::from_shape({R * C});  // LN(x), dropped after the GEMM
    layer_norm_rows(x.data(), gamma.data(), beta.data(), eps, R, C, n.data(), mean->data(), rstd->data());
    linear_forward(n.data(), w.data(), b.data(), R, C, OUT, T(0), y.data());
  }
  if (needs_grad<T>({&x, &gamma, &beta, &w, &b})) {
    record("ln_linear", y, [xi = x.impl_ptr(), gi = gamma.impl_ptr(), bti = beta.impl_ptr(), wi = w.impl_ptr(),
                            bi = b.impl_ptr(), yi = y.impl_ptr().get(), mean, rstd, R, C, OUT] {
      const T* g = grad_of(*yi);
      const GradTarget<T> dx = grad_target(*xi, xi->shape, "ln_linear");
      const GradTarget<T> dw = grad_target(*wi, wi->shape, "ln_linear");
      T* db = grad_sink(*bi, bi->shape, "ln_linear");
      T* dgamma = grad_sink(*gi, gi->shape, "ln_linear");
      T* dbeta = grad_sink(*bti, bti->shape, "ln_linear");
      // The partials of every chunk: dW (OUT × C) of each, then db (OUT) of each, then dγ, then dβ (C).
      const std::size_t chunk = kWeightChunkRows, n_chunks = (R + chunk - 1) / chunk;
      std::vector<T> partial(n_chunks * (OUT * C + OUT + 2 * C), T(0));
      T *pw = partial.data(), *pb = pw + n_chunks * OUT * C, *pg = pb + n_chunks * OUT, *pbt = pg + n_chunks * C;
      tbb::parallel_for(std::size_t(0), n_chunks, [&](std::size_t c) {
        const std::size_t r0 = c * chunk, rows = std::min(R, r0 + chunk) - r0;
        ln_linear_backward_chunk(g + r0 * OUT, xi->data->data() + r0 * C, gi->data->data(), bti->data->data(),
                                 mean->data() + r0, rstd->data() + r0, wi->data->data(), rows, C, OUT,
                                 dx ? GradTarget<T>{dx.ptr + r0 * C, dx.beta} : dx, dw ? pw + c * OUT * C : nullptr,
                                 db ? pb + c * OUT : nullptr, dgamma ? pg + c * C : nullptr, dbeta ? pbt + c * C : nullptr);
      });
      if (dw) add_in_order(n_chunks, OUT * C, pw, dw);
      if (db) add_in_order(n_chunks, OUT, pb, GradTarget<T>{db, T(1)});  // grad sinks are added to
      if (dgamma) add_in_order(n_chunks, C, pg, GradTarget<T>{dgamma, T(1)});
      if (dbeta) add_in_order(n_chunks, C, pbt, GradTarget<T>{dbeta, T(1)});
    });
  }
  return y;
}

// y (n, OUT) = gelu(a) (n, IN) · Wᵀ + b + residual, for one tile; wt is Wᵀ (IN, OUT).
template <class T>
void gelu_linear_tile(const T* a, const T* wt, const T* b, const T* residual, std::size_t n, std::size_t IN,
                      std::size_t OUT, T* y) {
  Buffer<T> h = Buffer<T>::from_shape({n * IN});  // aligned: see gelu_linear_backward_chunk
  xt::noalias(h) = Gelu{}(flat(a, n * IN));
  blas::gemm<T>(false, false, n, OUT, IN, T(1), h.data(), IN, wt, OUT, T(0), y, OUT, b);
  for (std::size_t i = 0; i < n * OUT; ++i) y[i] += residual[i];
}

// Backward of one chunk of rows of gelu_linear, tile by tile: s = σ(2u) and h = gelu(a) = a · s of
// the tile (see Gelu), then dW_chunk (+)= dyᵀ h and db_chunk += Σ dy while dy is in cache, dh = dy W
// (over h), da (+)= dh ⊙ gelu'(a) from the same s. Any output may be null.
template <class T>
void gelu_linear_backward_chunk(const T* g, const T* a, const T* w, std::size_t rows, std::size_t IN, std::size_t OUT,
                                GradTarget<T> da, T* dw_chunk, T* db_chunk) {
  // Aligned buffers: xtensor computes the unaligned head of a destination with scalar std::exp, whose
  // last bit differs from xsimd's; with malloc's addresses the result would depend on the thread count.
  Buffer<T> s = Buffer<T>::from_shape({kTileRows * IN}), h = Buffer<T>::from_shape({kTileRows * IN});
  for (std::size_t r0 = 0; r0 < rows; r0 += kTileRows) {
    const std::size_t n = std::min(kTileRows, rows - r0), len = n * IN;
    const T *gt = g + r0 * OUT, *at = a + r0 * IN;
    if (db_chunk)
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < OUT; ++c) db_chunk[c] += gt[r * OUT + c];
    if (!dw_chunk && !da) continue;
    auto sv = flat(s.data(), len), hv = flat(h.data(), len);
    const auto av = flat(at, len);
    xt::noalias(sv) = Gelu::sigmoid_2u(av);
    xt::noalias(hv) = av * sv;
    if (dw_chunk) blas::gemm<T>(true, false, OUT, IN, n, T(1), gt, OUT, h.data(), IN, T(r0 > 0), dw_chunk, IN);
    if (!da) continue;
    blas::gemm<T>(false, false, n, IN, OUT, T(1), gt, OUT, w, IN, T(0), h.data(), IN);
    auto d = flat(da.ptr + r0 * IN, len);
    // Assign when da is fresh: its memory is uninitialised, and 0 · NaN is NaN.
    if (da.beta == T(0))
      xt::noalias(d) = Gelu::grad(hv, av, sv);
    else
      xt::noalias(d) += Gelu::grad(hv, av, sv);
  }
}

template <class T>
Tensor<T> gelu_linear(const Tensor<T>& a, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& residual) {
  const Shape out_shape = check_linear("gelu_linear", a.shape(), w.shape(), &b.shape(), &residual.shape());
  const std::size_t IN = w.shape()[1], OUT = w.shape()[0], R = a.numel() / std::max<std::size_t>(IN, 1);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  {
    // Wᵀ packed once: libxsmm's kernels cannot transpose their B (gemm_xsmm.hpp).
    std::vector<T> wt(IN * OUT);
    blas::transpose(w.data(), IN, OUT, IN, wt.data());
    parallel_chunks(R, kTileRows, [&](std::size_t r0, std::size_t r1) {
      gelu_linear_tile(a.data() + r0 * IN, wt.data(), b.data(), residual.data() + r0 * OUT, r1 - r0, IN, OUT,
                       y.data() + r0 * OUT);
    });
  }
  if (needs_grad<T>({&a, &w, &b, &residual})) {
    record("gelu_linear", y, [ai = a.impl_ptr(), wi = w.impl_ptr(), bi = b.impl_ptr(), ri = residual.impl_ptr(),
                              yi = y.impl_ptr().get(), R, IN, OUT] {
      const T *g = grad_of(*yi), *A = ai->data->data(), *W = wi->data->data();
      const GradTarget<T> da = grad_target(*ai, ai->shape, "gelu_linear");
      const GradTarget<T> dw = grad_target(*wi, wi->shape, "gelu_linear");
      T* db = grad_sink(*bi, bi->shape, "gelu_linear");
      if (da || dw || db) {
        // The partials of every chunk: dW (OUT × IN) of each, then db (OUT) of each.
        const std::size_t chunk = kWeightChunkRows, n_chunks = (R + chunk - 1) / chunk;
        std::vector<T> partial(n_chunks * (OUT * IN + OUT), T(0));
        T *pw = partial.data(), *pb = pw + n_chunks * OUT * IN;
        tbb::parallel_for(std::size_t(0), n_chunks, [&](std::size_t c) {
          const std::size_t r0 = c * chunk, rows = std::min(R, r0 + chunk) - r0;
          gelu_linear_backward_chunk(g + r0 * OUT, A + r0 * IN, W, rows, IN, OUT,
                                     da ? GradTarget<T>{da.ptr + r0 * IN, da.beta} : da,
                                     dw ? pw + c * OUT * IN : nullptr, db ? pb + c * OUT : nullptr);
        });
        if (dw) add_in_order(n_chunks, OUT * IN, pw, dw);
        if (db) add_in_order(n_chunks, OUT, pb, GradTarget<T>{db, T(1)});  // grad sinks are added to
      }
      if (const auto dr = grad_target(*ri, yi->shape, "gelu_linear")) pass_gradient(dr, g, numel(yi->shape));
    });
  }
  return y;
}

template Tensor<float> ln_linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&,
                                 const Tensor<float>&, float);
template Tensor<double> ln_linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, const Tensor<double>&,
                                  const Tensor<double>&, double);
template Tensor<float> gelu_linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> gelu_linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);

}  // namespace ag

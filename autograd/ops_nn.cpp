// The row-wise ops a transformer is built from: softmax, log_softmax, layer_norm, masking and cosine
// similarity. Each is an explicit row loop (llm.c style), caching exactly what its backward needs.
// Rows are independent and run in parallel in fixed chunks; cross-row sums (LayerNorm's dgamma,
// dbeta) are per-chunk partial sums added in chunk order (layer_norm_backward in kernels.hpp), so
// no result depends on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/kernels.hpp"
#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"
#include "autograd/reference.hpp"

namespace ag {
namespace {
using namespace detail;

// Calls f(offset, stride) for every row along the split's axis: the row's elements are at
// offset + i * stride, i < n. For the last axis, stride = 1 and rows are contiguous.
template <class F>
void for_each_row(const AxisSplit& sp, F&& f) {
  parallel_chunks(sp.outer, rows_per_chunk(sp.n * sp.inner), [&](std::size_t o0, std::size_t o1) {
    for (std::size_t o = o0; o < o1; ++o)
      for (std::size_t j = 0; j < sp.inner; ++j) f(o * sp.n * sp.inner + j, sp.inner);
  });
}

// The largest element of a row: subtracted before exp so that exp never overflows.
template <class T>
T row_max(const T* x, std::size_t off, std::size_t st, std::size_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, x[off + i * st]);
  return m;
}

// LayerNorm as plain loops, one row at a time (llm.c's layernorm_forward / layernorm_backward): the
// reference path's, and the one to read. mean and rstd (R values each) are kept for backward.
template <class T>
void layer_norm_plain(const T* x, const T* gamma, const T* beta, T eps, std::size_t R, std::size_t C, T* y, T* mean, T* rstd) {
  for (std::size_t r = 0; r < R; ++r) {
    const T* xr = x + r * C;
    T m = 0;
    for (std::size_t c = 0; c < C; ++c) m += xr[c];
    m /= static_cast<T>(C);
    T v = 0;
    for (std::size_t c = 0; c < C; ++c) v += (xr[c] - m) * (xr[c] - m);
    v /= static_cast<T>(C);
    const T s = T(1) / std::sqrt(v + eps);
    for (std::size_t c = 0; c < C; ++c) y[r * C + c] = (xr[c] - m) * s * gamma[c] + beta[c];
    mean[r] = m, rstd[r] = s;
  }
}

// With norm = (x - mean) · rstd and dnorm = dy · γ, the gradient of x has three terms:
//   dx = rstd · (dnorm                            through norm directly
//                - mean_c(dnorm)                  through the mean, which every x of the row moves
//                - norm · mean_c(dnorm · norm))   through rstd, likewise
// dx, dgamma, dbeta are accumulated into (+=); any may be null.
template <class T>
void layer_norm_plain_backward(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd, std::size_t R,
                               std::size_t C, T* dx, T* dgamma, T* dbeta) {
  for (std::size_t r = 0; r < R; ++r) {
    const T *gr = g + r * C, *xr = x + r * C;
    T dnorm_mean = 0, dnorm_norm_mean = 0;
    for (std::size_t c = 0; c < C; ++c) {
      const T norm = (xr[c] - mean[r]) * rstd[r], dnorm = gr[c] * gamma[c];
      dnorm_mean += dnorm;
      dnorm_norm_mean += dnorm * norm;
    }
    dnorm_mean /= static_cast<T>(C), dnorm_norm_mean /= static_cast<T>(C);
    for (std::size_t c = 0; c < C; ++c) {
      const T norm = (xr[c] - mean[r]) * rstd[r], dnorm = gr[c] * gamma[c];
      if (dbeta) dbeta[c] += gr[c];
      if (dgamma) dgamma[c] += gr[c] * norm;
      if (dx) dx[r * C + c] += rstd[r] * (dnorm - dnorm_mean - norm * dnorm_norm_mean);
    }
  }
}

}  // namespace

// y_i = exp(x_i - m) / sum_k exp(x_k - m), m = max_k x_k (so exp never overflows)
//   dx_i = y_i * (dy_i - sum_k dy_k y_k)                               (saves y)
template <class T>
Tensor<T> softmax(const Tensor<T>& x, long axis) {
  const AxisSplit sp = split_at(x.shape(), normalize_axis(axis, x.dim(), "softmax"));
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T* xp = x.data();
  T* yp = y.data();
  for_each_row(sp, [&](std::size_t off, std::size_t st) {
    const T m = row_max(xp, off, st, sp.n);
    double s = 0;
    for (std::size_t i = 0; i < sp.n; ++i) s += (yp[off + i * st] = std::exp(xp[off + i * st] - m));
    const T inv = static_cast<T>(1.0 / s);
    for (std::size_t i = 0; i < sp.n; ++i) yp[off + i * st] *= inv;
  });
  if (needs_grad<T>({&x})) {
    record("softmax", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp] {
      T* dx = grad_sink(*xi, yi->shape, "softmax");
      if (!dx) return;
      const T *g = grad_of(*yi), *yv = yi->data->data();
      for_each_row(sp, [&](std::size_t off, std::size_t st) {
        double dot = 0;
        for (std::size_t i = 0; i < sp.n; ++i) dot += g[off + i * st] * yv[off + i * st];
        for (std::size_t i = 0; i < sp.n; ++i)
          dx[off + i * st] += yv[off + i * st] * (g[off + i * st] - static_cast<T>(dot));
      });
    });
  }
  return y;
}

// y_i = x_i - m - log sum_k exp(x_k - m)   (never log(softmax): that underflows to -inf)
//   dx_i = dy_i - exp(y_i) * sum_k dy_k                                (saves y)
template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, long axis) {
  const AxisSplit sp = split_at(x.shape(), normalize_axis(axis, x.dim(), "log_softmax"));
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T* xp = x.data();
  T* yp = y.data();
  for_each_row(sp, [&](std::size_t off, std::size_t st) {
    const T m = row_max(xp, off, st, sp.n);
    double s = 0;
    for (std::size_t i = 0; i < sp.n; ++i) s += std::exp(static_cast<double>(xp[off + i * st] - m));
    const T shift = m + static_cast<T>(std::log(s));
    for (std::size_t i = 0; i < sp.n; ++i) yp[off + i * st] = xp[off + i * st] - shift;
  });
  if (needs_grad<T>({&x})) {
    record("log_softmax", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp] {
      T* dx = grad_sink(*xi, yi->shape, "log_softmax");
      if (!dx) return;
      const T *g = grad_of(*yi), *yv = yi->data->data();
      for_each_row(sp, [&](std::size_t off, std::size_t st) {
        double gs = 0;
        for (std::size_t i = 0; i < sp.n; ++i) gs += g[off + i * st];
        for (std::size_t i = 0; i < sp.n; ++i)
          dx[off + i * st] += g[off + i * st] - std::exp(yv[off + i * st]) * static_cast<T>(gs);
      });
    });
  }
  return y;
}

// LayerNorm over the last axis, x (R, C) with R = all leading dims:
//   mean_r = sum_c x / C,  rstd_r = 1 / sqrt(sum_c (x - mean)^2 / C + eps)   (two passes: never E[x²]-E[x]²)
//   y = (x - mean) * rstd * gamma + beta
// Backward, with n = (x - mean) * rstd and dn = dy * gamma:
//   dbeta += sum_r dy,  dgamma += sum_r dy * n,  dx = rstd * (dn - mean_c(dn) - n * mean_c(dn * n))
// Caches mean and rstd (one scalar each per row), and x. The plain loops above on the reference
// path; otherwise the same arithmetic in parallel row chunks with vectorised sums (kernels.hpp).
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, T eps) {
  check_layer_norm("layer_norm", x.shape(), gamma.shape(), beta.shape());
  const std::size_t C = x.shape().back(), R = x.numel() / std::max<std::size_t>(C, 1);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  auto mean = std::make_shared<std::vector<T>>(R), rstd = std::make_shared<std::vector<T>>(R);
  const bool plain = reference_path();
  if (plain) layer_norm_plain(x.data(), gamma.data(), beta.data(), eps, R, C, y.data(), mean->data(), rstd->data());
  else layer_norm_rows(x.data(), gamma.data(), beta.data(), eps, R, C, y.data(), mean->data(), rstd->data());
  if (needs_grad<T>({&x, &gamma, &beta})) {
    record("layer_norm", y, [xi = x.impl_ptr(), gi = gamma.impl_ptr(), bi = beta.impl_ptr(), yi = y.impl_ptr().get(),
                             mean, rstd, R, C, plain] {
      if (plain)
        return layer_norm_plain_backward(grad_of(*yi), xi->data->data(), gi->data->data(), mean->data(), rstd->data(), R, C,
                                         grad_sink(*xi, yi->shape, "layer_norm"), grad_sink(*gi, gi->shape, "layer_norm"),
                                         grad_sink(*bi, bi->shape, "layer_norm"));
      layer_norm_backward(grad_of(*yi), xi->data->data(), gi->data->data(), mean->data(), rstd->data(), R, C,
                          grad_target(*xi, yi->shape, "layer_norm"), grad_sink(*gi, gi->shape, "layer_norm"),
                          grad_sink(*bi, bi->shape, "layer_norm"));
    });
  }
  return y;
}

// y = value where mask, else x;  dx = dy where not mask (the mask broadcasts to x's shape)
template <class T>
Tensor<T> masked_fill(const Tensor<T>& x, const Mask& mask, T value) {
  if (mask.values.size() != numel(mask.shape) || broadcast_shapes(mask.shape, x.shape(), "masked_fill") != x.shape())
    throw ShapeError("masked_fill: mask of shape " + shape_str(mask.shape) + " (" + std::to_string(mask.values.size()) +
                     " values) does not broadcast to " + shape_str(x.shape()));
  auto offsets = std::make_shared<std::vector<std::size_t>>(broadcast_offsets(mask.shape, x.shape()));
  Tensor<T> y = Tensor<T>::empty(x.shape());
  for (std::size_t k = 0; k < y.numel(); ++k) y.data()[k] = mask.values[(*offsets)[k]] ? value : x.data()[k];
  if (needs_grad<T>({&x})) {
    record("masked_fill", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), mask, offsets] {
      T* dx = grad_sink(*xi, yi->shape, "masked_fill");
      if (!dx) return;
      const T* g = grad_of(*yi);
      for (std::size_t k = 0; k < offsets->size(); ++k)
        if (!mask.values[(*offsets)[k]]) dx[k] += g[k];
    });
  }
  return y;
}

Mask causal_mask(std::size_t n) {
  Mask m{{n, n}, std::vector<std::uint8_t>(n * n, 0)};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) m.values[i * n + j] = 1;
  return m;
}

// c = sum_i a_i b_i / (A B),  A = max(|a|, eps), B = max(|b|, eps)   (0, not NaN, at a zero vector)
//   da_i = dy * (b_i / (A B) - c a_i / A²),  the second term only where |a| > eps (else A is a
//   constant); db symmetric. Saves a, b and per-row A, B, c.
template <class T>
Tensor<T> cosine_similarity(const Tensor<T>& a_in, const Tensor<T>& b_in, long axis_, T eps) {
  const Shape s = broadcast_shapes(a_in.shape(), b_in.shape(), "cosine_similarity");
  const Tensor<T> a = a_in.shape() == s ? a_in : broadcast_to(a_in, s);
  const Tensor<T> b = b_in.shape() == s ? b_in : broadcast_to(b_in, s);
  const std::size_t axis = normalize_axis(axis_, s.size(), "cosine_similarity");
  const AxisSplit sp = split_at(s, axis);
  Shape ys = s;
  ys.erase(ys.begin() + static_cast<long>(axis));
  Tensor<T> y = Tensor<T>::empty(ys);
  const std::size_t rows = sp.outer * sp.inner;
  // Per row: A, B (clamped norms), and whether each norm was clamped.
  auto na = std::make_shared<std::vector<T>>(rows), nb = std::make_shared<std::vector<T>>(rows);
  const T *ap = a.data(), *bp = b.data();
  for_each_row(sp, [&](std::size_t off, std::size_t st) {
    double dot = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < sp.n; ++i) {
      const double av = ap[off + i * st], bv = bp[off + i * st];
      dot += av * bv, aa += av * av, bb += bv * bv;
    }
    const std::size_t r = (off / (sp.n * sp.inner)) * sp.inner + off % sp.inner;
    const double A = std::max(std::sqrt(aa), static_cast<double>(eps)), B = std::max(std::sqrt(bb), static_cast<double>(eps));
    (*na)[r] = std::sqrt(aa) > eps ? static_cast<T>(A) : T(0);  // 0 marks "clamped"
    (*nb)[r] = std::sqrt(bb) > eps ? static_cast<T>(B) : T(0);
    y.data()[r] = static_cast<T>(dot / (A * B));
  });
  if (needs_grad<T>({&a, &b})) {
    record("cosine_similarity", y, [ai = a.impl_ptr(), bi = b.impl_ptr(), yi = y.impl_ptr().get(), sp, na, nb, eps] {
      const T *g = grad_of(*yi), *c = yi->data->data(), *av = ai->data->data(), *bv = bi->data->data();
      T* da = grad_sink(*ai, ai->shape, "cosine_similarity");
      T* db = grad_sink(*bi, bi->shape, "cosine_similarity");
      for_each_row(sp, [&](std::size_t off, std::size_t st) {
        const std::size_t r = (off / (sp.n * sp.inner)) * sp.inner + off % sp.inner;
        const T A = (*na)[r] > 0 ? (*na)[r] : eps, B = (*nb)[r] > 0 ? (*nb)[r] : eps;
        const T ka = (*na)[r] > 0 ? c[r] / (A * A) : T(0), kb = (*nb)[r] > 0 ? c[r] / (B * B) : T(0);
        for (std::size_t i = 0; i < sp.n; ++i) {
          const std::size_t k = off + i * st;
          if (da) da[k] += g[r] * (bv[k] / (A * B) - ka * av[k]);
          if (db) db[k] += g[r] * (av[k] / (A * B) - kb * bv[k]);
        }
      });
    });
  }
  return y;
}

#define AG_INSTANTIATE(T)                                                                      \
  template Tensor<T> softmax(const Tensor<T>&, long);                                         \
  template Tensor<T> log_softmax(const Tensor<T>&, long);                                     \
  template Tensor<T> layer_norm(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, T);     \
  template Tensor<T> masked_fill(const Tensor<T>&, const Mask&, T);                           \
  template Tensor<T> cosine_similarity(const Tensor<T>&, const Tensor<T>&, long, T);
AG_INSTANTIATE(float)
AG_INSTANTIATE(double)

}  // namespace ag

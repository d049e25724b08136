// Reductions along an axis. Every kernel sees its input as (outer, n, inner) around the
// axis (shape.hpp: split_at), and accumulates in double so float sums of many terms stay exact
// to float rounding. Parallel over `outer` in fixed chunks: deterministic for any thread count.
#include <algorithm>
#include <cmath>

#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
namespace {
using namespace detail;

Shape reduced_shape(const Shape& s, std::size_t axis, bool keepdim) {
  Shape r = s;
  if (keepdim) r[axis] = 1;
  else r.erase(r.begin() + static_cast<long>(axis));
  return r;
}

// y (outer, inner) = sum_i x (outer, n, inner);  dx[o, i, j] += dy[o, j]
template <class T>
Tensor<T> sum_axis(const Tensor<T>& x, std::size_t axis, bool keepdim) {
  const AxisSplit sp = split_at(x.shape(), axis);
  Tensor<T> y = Tensor<T>::empty(reduced_shape(x.shape(), axis, keepdim));
  const T* xp = x.data();
  T* yp = y.data();
  parallel_chunks(sp.outer, rows_per_chunk(sp.n * sp.inner), [&](std::size_t o0, std::size_t o1) {
    std::vector<double> acc(sp.inner);
    for (std::size_t o = o0; o < o1; ++o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t i = 0; i < sp.n; ++i)
        for (std::size_t j = 0; j < sp.inner; ++j) acc[j] += xp[(o * sp.n + i) * sp.inner + j];
      for (std::size_t j = 0; j < sp.inner; ++j) yp[o * sp.inner + j] = static_cast<T>(acc[j]);
    }
  });
  if (needs_grad<T>({&x})) {
    record("sum", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp] {
      T* dx = grad_sink(*xi, xi->shape, "sum");
      if (!dx) return;
      const T* g = grad_of(*yi);
      parallel_chunks(sp.outer, rows_per_chunk(sp.n * sp.inner), [&](std::size_t o0, std::size_t o1) {
        for (std::size_t o = o0; o < o1; ++o)
          for (std::size_t i = 0; i < sp.n; ++i)
            for (std::size_t j = 0; j < sp.inner; ++j) dx[(o * sp.n + i) * sp.inner + j] += g[o * sp.inner + j];
      });
    });
  }
  return y;
}

// Axes as sorted, distinct, non-negative values.
std::vector<std::size_t> normalize_axes(const std::vector<long>& axes, std::size_t rank, const char* op) {
  std::vector<std::size_t> r;
  for (long a : axes) r.push_back(normalize_axis(a, rank, op));
  std::sort(r.begin(), r.end());
  if (std::adjacent_find(r.begin(), r.end()) != r.end())
    throw ShapeError(std::string(op) + ": an axis is listed twice");
  return r;
}

}  // namespace

// y = sum of all elements, shape ();  dx = dy everywhere
template <class T>
Tensor<T> sum(const Tensor<T>& x) {
  // Partial sums over fixed chunks, added in chunk order: deterministic for any thread count.
  const std::size_t n = x.numel(), n_chunks = (n + kElementChunk - 1) / kElementChunk;
  std::vector<double> partial(n_chunks, 0.0);
  const T* xp = x.data();
  parallel_chunks(n, kElementChunk, [&](std::size_t b, std::size_t e) {
    double acc = 0;
    for (std::size_t k = b; k < e; ++k) acc += xp[k];
    partial[b / kElementChunk] = acc;
  });
  double total = 0;
  for (double p : partial) total += p;
  Tensor<T> y = Tensor<T>::scalar(static_cast<T>(total));
  if (needs_grad<T>({&x})) {
    record("sum", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get()] {
      T* dx = grad_sink(*xi, xi->shape, "sum");
      if (!dx) return;
      const T g = grad_of(*yi)[0];
      for_each_chunk(numel(xi->shape), [g](auto d) { xt::noalias(d) += g; }, dx);
    });
  }
  return y;
}

template <class T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<long>& axes, bool keepdim) {
  const auto ax = normalize_axes(axes, x.dim(), "sum");
  Tensor<T> y = x;
  for (std::size_t i = ax.size(); i-- > 0;) y = sum_axis(y, ax[i], keepdim);  // last axis first: indices stay valid
  return y;
}

template <class T>
Tensor<T> mean(const Tensor<T>& x) {
  return mul(sum(x), T(1) / static_cast<T>(x.numel()));
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<long>& axes, bool keepdim) {
  std::size_t count = 1;
  for (auto a : normalize_axes(axes, x.dim(), "mean")) count *= x.shape()[a];
  return mul(sum(x, axes, keepdim), T(1) / static_cast<T>(count));
}

// y[o, j] = max_i x[o, i, j];  dx[o, argmax, j] += dy[o, j] (the first maximum on ties)
template <class T>
Tensor<T> max(const Tensor<T>& x, long axis_, bool keepdim) {
  const std::size_t axis = normalize_axis(axis_, x.dim(), "max");
  const AxisSplit sp = split_at(x.shape(), axis);
  if (sp.n == 0) throw ShapeError("max: axis " + std::to_string(axis) + " of " + shape_str(x.shape()) + " is empty");
  Tensor<T> y = Tensor<T>::empty(reduced_shape(x.shape(), axis, keepdim));
  std::vector<std::size_t> arg(sp.outer * sp.inner, 0);
  const T* xp = x.data();
  for (std::size_t o = 0; o < sp.outer; ++o)
    for (std::size_t j = 0; j < sp.inner; ++j) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < sp.n; ++i)
        if (xp[(o * sp.n + i) * sp.inner + j] > xp[(o * sp.n + best) * sp.inner + j]) best = i;
      arg[o * sp.inner + j] = best;
      y.data()[o * sp.inner + j] = xp[(o * sp.n + best) * sp.inner + j];
    }
  if (needs_grad<T>({&x})) {
    record("max", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp, arg = std::move(arg)] {
      T* dx = grad_sink(*xi, xi->shape, "max");
      if (!dx) return;
      const T* g = grad_of(*yi);
      for (std::size_t o = 0; o < sp.outer; ++o)
        for (std::size_t j = 0; j < sp.inner; ++j) dx[(o * sp.n + arg[o * sp.inner + j]) * sp.inner + j] += g[o * sp.inner + j];
    });
  }
  return y;
}

#define AG_INSTANTIATE(T)                                                         \
  template Tensor<T> sum(const Tensor<T>&);                                      \
  template Tensor<T> sum(const Tensor<T>&, const std::vector<long>&, bool);      \
  template Tensor<T> mean(const Tensor<T>&);                                     \
  template Tensor<T> mean(const Tensor<T>&, const std::vector<long>&, bool);     \
  template Tensor<T> max(const Tensor<T>&, long, bool);
AG_INSTANTIATE(float)
AG_INSTANTIATE(double)

}  // namespace ag

// Shape ops. reshape shares storage (metadata only); everything else makes a contiguous copy with
// an explicit loop (strided xtensor views are 10-25x slower, see docs/autograd.md) and a backward
// that adds the gradient back to where each element came from.
#include <algorithm>
#include <numeric>

#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
namespace {
using namespace detail;

// dx += dy when both have the same number of elements laid out the same way.
template <class T>
void add_flat(T* dx, const T* g, std::size_t n) {
  for_each_chunk(n, [](auto d, auto gv) { xt::noalias(d) += gv; }, dx, g);
}

// offsets[k] = the position in x of element k of permute(x, perm).
std::vector<std::size_t> permute_offsets(const Shape& x_shape, const std::vector<std::size_t>& perm) {
  const std::size_t r = perm.size();
  const Shape xs = row_major_strides(x_shape);
  Shape out(r), stride(r);
  for (std::size_t i = 0; i < r; ++i) out[i] = x_shape[perm[i]], stride[i] = xs[perm[i]];
  return strided_offsets(out, stride);
}

}  // namespace

// y = x viewed with a new shape (shares storage);  dx = dy viewed back
template <class T>
Tensor<T> reshape(const Tensor<T>& x, const std::vector<long>& shape) {
  Shape s(shape.size());
  std::size_t known = 1, wildcard = shape.size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && wildcard == shape.size()) { wildcard = i; continue; }
    if (shape[i] < 0) throw ShapeError("reshape: invalid dimension " + std::to_string(shape[i]));
    s[i] = static_cast<std::size_t>(shape[i]);
    known *= s[i];
  }
  if (wildcard < shape.size()) s[wildcard] = known ? x.numel() / known : 0;
  if (numel(s) != x.numel())
    throw ShapeError("reshape: cannot view " + shape_str(x.shape()) + " (" + std::to_string(x.numel()) +
                     " elements) as " + shape_str(s));
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->shape = s;
  impl->data = x.impl().data;
  Tensor<T> y(std::move(impl));
  if (needs_grad<T>({&x})) {
    record("reshape", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get()] {
      if (T* dx = grad_sink(*xi, xi->shape, "reshape")) add_flat(dx, grad_of(*yi), numel(xi->shape));
    });
  }
  return y;
}

// y[i_0..i_r] = x[i_perm^-1...]: y.shape[i] = x.shape[perm[i]];  dx[off_k] += dy[k]
template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& perm) {
  std::vector<std::size_t> sorted(perm);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(x.dim());
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota)
    throw ShapeError("permute: the axes order does not list each of the " + std::to_string(x.dim()) +
                     " axes of " + shape_str(x.shape()) + " exactly once");
  Shape s(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) s[i] = x.shape()[perm[i]];
  Tensor<T> y = Tensor<T>::empty(s);
  const auto offsets = permute_offsets(x.shape(), perm);
  const T* xp = x.data();
  T* yp = y.data();
  parallel_chunks(offsets.size(), kElementChunk, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) yp[k] = xp[offsets[k]];
  });
  if (needs_grad<T>({&x})) {
    record("permute", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), perm] {
      T* dx = grad_sink(*xi, xi->shape, "permute");
      if (!dx) return;
      const auto off = permute_offsets(xi->shape, perm);  // a bijection: no two k share a target
      const T* g = grad_of(*yi);
      parallel_chunks(off.size(), kElementChunk, [&](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < e; ++k) dx[off[k]] += g[k];
      });
    });
  }
  return y;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, long axis0, long axis1) {
  std::vector<std::size_t> perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis(axis0, x.dim(), "transpose")], perm[normalize_axis(axis1, x.dim(), "transpose")]);
  return permute(x, perm);
}

// y (outer, end-start, inner) = x (outer, n, inner)[:, start:end, :];  dx[:, start:end, :] += dy
template <class T>
Tensor<T> slice(const Tensor<T>& x, long axis_, std::size_t start, std::size_t end) {
  const std::size_t axis = normalize_axis(axis_, x.dim(), "slice");
  if (start > end || end > x.shape()[axis])
    throw ShapeError("slice: range [" + std::to_string(start) + ", " + std::to_string(end) + ") is outside axis " +
                     std::to_string(axis) + " of " + shape_str(x.shape()));
  const AxisSplit sp = split_at(x.shape(), axis);
  const std::size_t len = end - start, row = len * sp.inner;
  Shape s = x.shape();
  s[axis] = len;
  Tensor<T> y = Tensor<T>::empty(s);
  for (std::size_t o = 0; o < sp.outer; ++o)
    std::copy_n(x.data() + (o * sp.n + start) * sp.inner, row, y.data() + o * row);
  if (needs_grad<T>({&x})) {
    record("slice", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp, start, row] {
      T* dx = grad_sink(*xi, xi->shape, "slice");
      if (!dx) return;
      const T* g = grad_of(*yi);
      for (std::size_t o = 0; o < sp.outer; ++o)
        for (std::size_t k = 0; k < row; ++k) dx[(o * sp.n + start) * sp.inner + k] += g[o * row + k];
    });
  }
  return y;
}

// y = [x_0, x_1, ...] joined along axis;  dx_i = the slab of dy that x_i filled
template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, long axis_) {
  if (xs.empty()) throw ShapeError("concat: no tensors given");
  const std::size_t axis = normalize_axis(axis_, xs[0].dim(), "concat");
  Shape s = xs[0].shape();
  s[axis] = 0;
  for (const auto& x : xs) {
    Shape a = x.shape(), b = xs[0].shape();
    if (a.size() == b.size()) a[axis] = b[axis] = 0;
    if (a != b)
      throw ShapeError("concat: shapes " + shape_str(xs[0].shape()) + " and " + shape_str(x.shape()) +
                       " differ outside axis " + std::to_string(axis));
    s[axis] += x.shape()[axis];
  }
  Tensor<T> y = Tensor<T>::empty(s);
  const std::size_t outer = split_at(s, axis).outer, out_row = numel(s) / std::max<std::size_t>(outer, 1);
  std::size_t col = 0;  // where, within a row of y, the current input's slab starts
  std::vector<std::size_t> cols;
  for (const auto& x : xs) {
    const std::size_t row = x.numel() / std::max<std::size_t>(outer, 1);
    for (std::size_t o = 0; o < outer; ++o) std::copy_n(x.data() + o * row, row, y.data() + o * out_row + col);
    cols.push_back(col);
    col += row;
  }
  if (grad_enabled() && std::any_of(xs.begin(), xs.end(), [](const auto& x) { return x.requires_grad(); })) {
    std::vector<ImplPtr<T>> impls;
    for (const auto& x : xs) impls.push_back(x.impl_ptr());
    record("concat", y, [impls, cols, outer, out_row, yi = y.impl_ptr().get()] {
      const T* g = grad_of(*yi);
      for (std::size_t i = 0; i < impls.size(); ++i) {
        T* dx = grad_sink(*impls[i], impls[i]->shape, "concat");
        if (!dx) continue;
        const std::size_t row = numel(impls[i]->shape) / std::max<std::size_t>(outer, 1);
        for (std::size_t o = 0; o < outer; ++o)
          for (std::size_t k = 0; k < row; ++k) dx[o * row + k] += g[o * out_row + cols[i] + k];
      }
    });
  }
  return y;
}

// stack = insert a new axis of size 1 in each input, then concat (both differentiable)
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, long axis_) {
  if (xs.empty()) throw ShapeError("stack: no tensors given");
  const std::size_t axis = normalize_axis(axis_, xs[0].dim() + 1, "stack");
  std::vector<Tensor<T>> expanded;
  for (const auto& x : xs) {
    if (x.shape() != xs[0].shape())
      throw ShapeError("stack: shapes " + shape_str(xs[0].shape()) + " and " + shape_str(x.shape()) + " differ");
    std::vector<long> s(x.shape().begin(), x.shape().end());
    s.insert(s.begin() + static_cast<long>(axis), 1);
    expanded.push_back(reshape(x, s));
  }
  return concat(expanded, static_cast<long>(axis));
}

// y (outer, k, inner) = x (outer, n, inner)[:, index, :];  dx[:, index[i], :] += dy[:, i, :]
template <class T>
Tensor<T> index_select(const Tensor<T>& x, long axis_, const std::vector<std::size_t>& index) {
  const std::size_t axis = normalize_axis(axis_, x.dim(), "index_select");
  const AxisSplit sp = split_at(x.shape(), axis);
  for (auto i : index)
    if (i >= sp.n)
      throw ShapeError("index_select: index " + std::to_string(i) + " is out of range for axis " +
                       std::to_string(axis) + " of " + shape_str(x.shape()));
  Shape s = x.shape();
  s[axis] = index.size();
  Tensor<T> y = Tensor<T>::empty(s);
  const std::size_t k = index.size();
  for (std::size_t o = 0; o < sp.outer; ++o)
    for (std::size_t i = 0; i < k; ++i)
      std::copy_n(x.data() + (o * sp.n + index[i]) * sp.inner, sp.inner, y.data() + (o * k + i) * sp.inner);
  if (needs_grad<T>({&x})) {
    record("index_select", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), sp, index] {
      T* dx = grad_sink(*xi, xi->shape, "index_select");
      if (!dx) return;
      const T* g = grad_of(*yi);
      const std::size_t kk = index.size();
      for (std::size_t o = 0; o < sp.outer; ++o)  // in order: a repeated index accumulates
        for (std::size_t i = 0; i < kk; ++i)
          for (std::size_t j = 0; j < sp.inner; ++j)
            dx[(o * sp.n + index[i]) * sp.inner + j] += g[(o * kk + i) * sp.inner + j];
    });
  }
  return y;
}

// torch.gather: y[p] = x[p with coordinate `axis` replaced by index[p]]; y.shape = index.shape
//   dx[p with axis <- index[p]] += dy[p]
template <class T>
Tensor<T> gather(const Tensor<T>& x, long axis_, const Index& index) {
  const std::size_t axis = normalize_axis(axis_, x.dim(), "gather");
  if (index.shape.size() != x.dim() || index.values.size() != numel(index.shape))
    throw ShapeError("gather: index of shape " + shape_str(index.shape) + " (" + std::to_string(index.values.size()) +
                     " values) does not match the rank of " + shape_str(x.shape()));
  for (std::size_t d = 0; d < x.dim(); ++d)
    if (d != axis && index.shape[d] > x.shape()[d])
      throw ShapeError("gather: index shape " + shape_str(index.shape) + " exceeds " + shape_str(x.shape()) +
                       " outside axis " + std::to_string(axis));
  // offsets[k]: where in x element k of y comes from: its position off the axis (x's strides with
  // the axis' stride 0), plus the index times the axis' stride.
  const Shape xs = row_major_strides(x.shape());
  Shape off_axis = xs;
  off_axis[axis] = 0;
  std::vector<std::size_t> offsets = strided_offsets(index.shape, off_axis);
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    const std::size_t v = index.values[k];
    if (v >= x.shape()[axis])
      throw ShapeError("gather: index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) +
                       " of " + shape_str(x.shape()));
    offsets[k] += v * xs[axis];
  }
  Tensor<T> y = Tensor<T>::empty(index.shape);
  for (std::size_t k = 0; k < offsets.size(); ++k) y.data()[k] = x.data()[offsets[k]];
  if (needs_grad<T>({&x})) {
    record("gather", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get(), offsets] {
      T* dx = grad_sink(*xi, xi->shape, "gather");
      if (!dx) return;
      const T* g = grad_of(*yi);
      for (std::size_t k = 0; k < offsets.size(); ++k) dx[offsets[k]] += g[k];
    });
  }
  return y;
}

#define AG_INSTANTIATE(T)                                                                   \
  template Tensor<T> reshape(const Tensor<T>&, const std::vector<long>&);                  \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<std::size_t>&);           \
  template Tensor<T> transpose(const Tensor<T>&, long, long);                              \
  template Tensor<T> slice(const Tensor<T>&, long, std::size_t, std::size_t);              \
  template Tensor<T> concat(const std::vector<Tensor<T>>&, long);                          \
  template Tensor<T> stack(const std::vector<Tensor<T>>&, long);                           \
  template Tensor<T> index_select(const Tensor<T>&, long, const std::vector<std::size_t>&); \
  template Tensor<T> gather(const Tensor<T>&, long, const Index&);
AG_INSTANTIATE(float)
AG_INSTANTIATE(double)

}  // namespace ag

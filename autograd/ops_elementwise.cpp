// Elementwise ops. Forward and backward are xtensor expressions evaluated over flat chunks of the
// storage (vectorised by xsimd, chunks run in parallel by TBB). Broadcasting binary ops first
// stretch their operands to the output's shape; their backward sums back with unbroadcast_add.
#include <cmath>

#include <xtensor/xmath.hpp>

#include "autograd/kernels.hpp"
#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
namespace {
using namespace detail;

// What a unary op's backward reads besides dy: its input x or its output y.
enum class Saves { Input, Output };

// y = fwd(x); dx += bwd(dy, saved). Only the one tensor named by S is kept alive for backward.
template <Saves S, class T, class Fwd, class Bwd>
Tensor<T> unary(const char* op, const Tensor<T>& x, Fwd fwd, Bwd bwd) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  for_each_chunk(x.numel(), [&](auto yv, auto xv) { xt::noalias(yv) = fwd(xv); }, y.data(), x.data());
  if (needs_grad<T>({&x})) {
    // shared_ptr even when it is the output (one variable for either case; the node owns y anyway).
    ImplPtr<T> saved = S == Saves::Input ? x.impl_ptr() : y.impl_ptr();
    record(op, y, [op, bwd, saved, xi = x.impl_ptr(), yi = y.impl_ptr().get()] {
      T* dx = grad_sink(*xi, yi->shape, op);
      if (!dx) return;
      for_each_chunk(numel(yi->shape), [&](auto d, auto g, auto s) { xt::noalias(d) += bwd(g, s); },
                     dx, grad_of(*yi), saved->data->data());
    });
  }
  return y;
}

// A's storage stretched to `shape` (a copy), or A's own storage when it already has that shape.
template <class T>
struct Expanded {
  Buffer<T> copy;
  const T* ptr;
  Expanded(const TensorImpl<T>& a, const Shape& shape) : ptr(a.data->data()) {
    if (a.shape == shape) return;
    copy = Buffer<T>::from_shape({numel(shape)});
    const auto offsets = broadcast_offsets(a.shape, shape);
    for (std::size_t k = 0; k < offsets.size(); ++k) copy[k] = ptr[offsets[k]];
    ptr = copy.data();
  }
};

// dx += unbroadcast(expr(dy, a, b)), with a and b stretched to the output's shape. Without
// broadcasting this is one fused, flat, parallel pass; with it, expr goes through a temporary of
// the output's shape that unbroadcast_add sums back down to x's shape.
template <class T, class E>
void accumulate_broadcast(const char* op, TensorImpl<T>& x, const Shape& out_shape, const T* g, const T* a,
                          const T* b, E expr) {
  T* dx = grad_sink(x, x.shape, op);
  if (!dx) return;
  const std::size_t n = numel(out_shape);
  auto add_expr = [&](auto d, auto gv, auto av, auto bv) { xt::noalias(d) += expr(gv, av, bv); };
  if (x.shape == out_shape) {
    for_each_chunk(n, add_expr, dx, g, a, b);
    return;
  }
  Buffer<T> tmp = xt::zeros<T>({n});
  for_each_chunk(n, add_expr, tmp.data(), g, a, b);
  unbroadcast_add(tmp.data(), out_shape, dx, x.shape);
}

// out = fwd(a, b) with NumPy broadcasting; dA += unbroadcast(da(dy, a, b)), dB likewise.
template <class T, class Fwd, class DA, class DB>
Tensor<T> binary(const char* op, const Tensor<T>& a, const Tensor<T>& b, Fwd fwd, DA da, DB db) {
  const Shape s = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor<T> out = Tensor<T>::empty(s);
  {
    const Expanded<T> ea(a.impl(), s), eb(b.impl(), s);
    for_each_chunk(out.numel(), [&](auto o, auto av, auto bv) { xt::noalias(o) = fwd(av, bv); }, out.data(), ea.ptr,
                   eb.ptr);
  }
  if (needs_grad<T>({&a, &b})) {
    record(op, out, [op, da, db, ai = a.impl_ptr(), bi = b.impl_ptr(), oi = out.impl_ptr().get()] {
      const Expanded<T> ea(*ai, oi->shape), eb(*bi, oi->shape);
      accumulate_broadcast(op, *ai, oi->shape, grad_of(*oi), ea.ptr, eb.ptr, da);
      accumulate_broadcast(op, *bi, oi->shape, grad_of(*oi), ea.ptr, eb.ptr, db);
    });
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- binary, broadcasting
// out = a + b;  da = dy, db = dy (each unbroadcast to its input's shape)
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return binary("add", a, b, [](const auto& x, const auto& y) { return x + y; },
                [](const auto& g, const auto&, const auto&) { return g; },
                [](const auto& g, const auto&, const auto&) { return g; });
}

// out = a - b;  da = dy, db = -dy
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  return binary("sub", a, b, [](const auto& x, const auto& y) { return x - y; },
                [](const auto& g, const auto&, const auto&) { return g; },
                [](const auto& g, const auto&, const auto&) { return -g; });
}

// out = a * b;  da = dy * b, db = dy * a
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  return binary("mul", a, b, [](const auto& x, const auto& y) { return x * y; },
                [](const auto& g, const auto&, const auto& y) { return g * y; },
                [](const auto& g, const auto& x, const auto&) { return g * x; });
}

// out = a / b;  da = dy / b, db = -dy * a / b^2
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  return binary("div", a, b, [](const auto& x, const auto& y) { return x / y; },
                [](const auto& g, const auto&, const auto& y) { return g / y; },
                [](const auto& g, const auto& x, const auto& y) { return -g * x / (y * y); });
}

// out = broadcast of x to `shape`;  dx = unbroadcast(dy)
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  if (broadcast_shapes(x.shape(), shape, "broadcast_to") != shape)
    throw ShapeError("broadcast_to: cannot broadcast " + shape_str(x.shape()) + " to " + shape_str(shape));
  Tensor<T> y = Tensor<T>::empty(shape);
  const Expanded<T> ex(x.impl(), shape);
  std::copy(ex.ptr, ex.ptr + y.numel(), y.data());
  if (needs_grad<T>({&x})) {
    record("broadcast_to", y, [xi = x.impl_ptr(), yi = y.impl_ptr().get()] {
      if (T* dx = grad_sink(*xi, xi->shape, "broadcast_to")) unbroadcast_add(grad_of(*yi), yi->shape, dx, xi->shape);
    });
  }
  return y;
}

// ---------------------------------------------------------------- scalar variants
// y = x + s;  dx = dy
template <class T>
Tensor<T> add(const Tensor<T>& x, T s) {
  return unary<Saves::Output>("add_scalar", x, [s](const auto& v) { return v + s; },
                              [](const auto& g, const auto&) { return g; });
}

// y = x * s;  dx = dy * s
template <class T>
Tensor<T> mul(const Tensor<T>& x, T s) {
  return unary<Saves::Output>("mul_scalar", x, [s](const auto& v) { return v * s; },
                              [s](const auto& g, const auto&) { return g * s; });
}

// y = s - x;  dx = -dy
template <class T>
Tensor<T> rsub(T s, const Tensor<T>& x) {
  return unary<Saves::Output>("rsub_scalar", x, [s](const auto& v) { return s - v; },
                              [](const auto& g, const auto&) { return -g; });
}

// y = s / x;  dx = -dy * s / x^2
template <class T>
Tensor<T> rdiv(T s, const Tensor<T>& x) {
  return unary<Saves::Input>("rdiv_scalar", x, [s](const auto& v) { return s / v; },
                             [s](const auto& g, const auto& v) { return -g * s / (v * v); });
}

// ---------------------------------------------------------------- unary math
// y = -x;  dx = -dy
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  return unary<Saves::Output>("neg", x, [](const auto& v) { return -v; }, [](const auto& g, const auto&) { return -g; });
}

// y = x^p;  dx = dy * p * x^(p-1)
template <class T>
Tensor<T> pow(const Tensor<T>& x, T p) {
  return unary<Saves::Input>("pow", x, [p](const auto& v) { return xt::pow(v, p); },
                             [p](const auto& g, const auto& v) { return g * p * xt::pow(v, p - T(1)); });
}

// y = e^x;  dx = dy * y
template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  return unary<Saves::Output>("exp", x, [](const auto& v) { return xt::exp(v); },
                              [](const auto& g, const auto& y) { return g * y; });
}

// y = ln x;  dx = dy / x
template <class T>
Tensor<T> log(const Tensor<T>& x) {
  return unary<Saves::Input>("log", x, [](const auto& v) { return xt::log(v); },
                             [](const auto& g, const auto& v) { return g / v; });
}

// y = sqrt x;  dx = dy / (2 y)
template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  return unary<Saves::Output>("sqrt", x, [](const auto& v) { return xt::sqrt(v); },
                              [](const auto& g, const auto& y) { return g / (T(2) * y); });
}

// y = tanh x;  dx = dy * (1 - y^2)
template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return unary<Saves::Output>("tanh", x, [](const auto& v) { return xt::tanh(v); },
                              [](const auto& g, const auto& y) { return g * (T(1) - y * y); });
}

// y = 1 / (1 + e^-x);  dx = dy * y * (1 - y)
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return unary<Saves::Output>("sigmoid", x, [](const auto& v) { return T(1) / (T(1) + xt::exp(-v)); },
                              [](const auto& g, const auto& y) { return g * y * (T(1) - y); });
}

// y = log(1 + e^x), written max(x, 0) + log(1 + e^-|x|) so that e^x never overflows;
//   dx = dy * sigmoid(x) = dy / (1 + e^-x)                            (saves x)
template <class T>
Tensor<T> softplus(const Tensor<T>& x) {
  return unary<Saves::Input>("softplus", x, [](const auto& v) { return xt::maximum(v, T(0)) + xt::log1p(xt::exp(-xt::abs(v))); },
                             [](const auto& g, const auto& v) { return g / (T(1) + xt::exp(-v)); });
}

// y = max(x, 0);  dx = dy where y > 0 (the subgradient at 0 is 0, as in PyTorch)
template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return unary<Saves::Output>("relu", x, [](const auto& v) { return xt::maximum(v, T(0)); },
                              [](const auto& g, const auto& y) { return xt::where(y > T(0), g, T(0)); });
}

// GELU, tanh form (GPT-2); the formulas are in kernels.hpp, shared with the fused gelu_linear.
template <class T>
Tensor<T> gelu(const Tensor<T>& x) {
  return unary<Saves::Input>("gelu", x, Gelu{}, GeluGrad{});
}

#define AG_INSTANTIATE(T)                                          \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> broadcast_to(const Tensor<T>&, const Shape&); \
  template Tensor<T> add(const Tensor<T>&, T);                     \
  template Tensor<T> mul(const Tensor<T>&, T);                     \
  template Tensor<T> rsub(T, const Tensor<T>&);                    \
  template Tensor<T> rdiv(T, const Tensor<T>&);                    \
  template Tensor<T> neg(const Tensor<T>&);                        \
  template Tensor<T> pow(const Tensor<T>&, T);                     \
  template Tensor<T> exp(const Tensor<T>&);                        \
  template Tensor<T> log(const Tensor<T>&);                        \
  template Tensor<T> sqrt(const Tensor<T>&);                       \
  template Tensor<T> tanh(const Tensor<T>&);                       \
  template Tensor<T> sigmoid(const Tensor<T>&);                    \
  template Tensor<T> relu(const Tensor<T>&);                       \
  template Tensor<T> softplus(const Tensor<T>&);                   \
  template Tensor<T> gelu(const Tensor<T>&);
AG_INSTANTIATE(float)
AG_INSTANTIATE(double)

}  // namespace ag

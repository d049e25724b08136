// Internal helpers shared by the ops_*.cpp files: recording a node, finding where a gradient goes,
// and viewing raw storage as xtensor expressions. Not part of the public API.
#pragma once
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnoalias.hpp>

#include "autograd/parallel.hpp"
#include "autograd/tensor.hpp"

namespace ag::detail {

template <class T>
using ImplPtr = std::shared_ptr<TensorImpl<T>>;

// An op must be recorded when grad mode is on and any of its inputs requires grad.
template <class T>
bool needs_grad(std::initializer_list<const Tensor<T>*> inputs) {
  if (!grad_enabled()) return false;
  for (auto* t : inputs)
    if (t->defined() && t->requires_grad()) return true;  // an undefined tensor (no bias) needs none
  return false;
}

// Marks `out` as produced by `op` and appends its backward closure to the tape.
//
// What a closure captures: its inputs as shared_ptr (`xi = x.impl_ptr()`): the caller may drop its
// handles before backward runs. Its output as a raw pointer (`yi = y.impl_ptr().get()`): the node
// already owns the output (Node::out) for as long as the closure lives. Never a Tensor handle of
// the output, and nothing that points back at the tape: no cycles.
//
// How a closure writes an input's gradient, two ways:
//   grad_sink(x, shape, op)    the gradient buffer, zeroed when first created: always ADD (+=).
//   grad_target(x, shape, op)  {ptr, beta}: for a backward that writes every element once (a GEMM,
//                              a row loop). beta = 0 when the buffer is fresh and uninitialised:
//                              then ASSIGN, never read it; beta = 1 when earlier gradients are in it:
//                              then add. This saves a zero fill and a read of every gradient.
// Either returns a null pointer when x needs no gradient, and throws when the shape the op computed
// is not x's: a wrong backward fails loudly. Both accumulate in effect, so an input used twice
// receives the sum of both uses.
template <class T, class F>
void record(const char* op, Tensor<T>& out, F&& backward) {
  out.impl().requires_grad = true;
  Tape::current().record(op, out.impl_ptr(), std::forward<F>(backward));
}

// Where to add an input's gradient: its (lazily zeroed) grad buffer, or nullptr when the input
// does not require grad, so the op can skip that work (see record() for the two rules).
template <class T>
T* grad_sink(TensorImpl<T>& x, const Shape& grad_shape, const char* op) {
  if (grad_shape != x.shape)
    throw std::logic_error(std::string(op) + " backward: gradient of shape " + shape_str(grad_shape) +
                           " for a tensor of shape " + shape_str(x.shape));
  if (!x.requires_grad) return nullptr;
  if (!x.grad) x.grad = std::make_shared<Buffer<T>>(xt::zeros<T>({numel(x.shape)}));
  return x.grad->data();
}

// For a backward that writes every element of the gradient exactly once (a GEMM, a row loop): the
// buffer, and beta = 0 when it was just created (then overwrite it: no zero fill, no read) or 1
// when earlier gradients are already in it (then add). ptr is nullptr when no grad is needed.
// A fresh buffer is uninitialised: assign to it, never compute beta · old (0 · NaN is NaN).
// OpenBLAS's GEMM with beta = 0 does not read C.
// In the sanitizer build (AG_POISON_UNINITIALISED) fresh, uninitialised buffers are filled with NaN,
// so an op that reads memory it never wrote shows up as NaN in the tests.
template <class T>
void poison(Buffer<T>& b) {
#ifdef AG_POISON_UNINITIALISED
  b.fill(std::numeric_limits<T>::quiet_NaN());
#else
  (void)b;
#endif
}

template <class T>
struct GradTarget {
  T* ptr;
  T beta;
  explicit operator bool() const { return ptr != nullptr; }
};
template <class T>
GradTarget<T> grad_target(TensorImpl<T>& x, const Shape& grad_shape, const char* op) {
  if (grad_shape != x.shape)
    throw std::logic_error(std::string(op) + " backward: gradient of shape " + shape_str(grad_shape) +
                           " for a tensor of shape " + shape_str(x.shape));
  if (!x.requires_grad) return {nullptr, T(1)};
  if (x.grad) return {x.grad->data(), T(1)};
  x.grad = std::make_shared<Buffer<T>>(Buffer<T>::from_shape({numel(x.shape)}));
  poison(*x.grad);
  return {x.grad->data(), T(0)};
}

// d = beta · d + g over n elements, in parallel: a gradient passed through unchanged.
template <class T>
void pass_gradient(GradTarget<T> d, const T* g, std::size_t n);

template <class T>
const T* grad_of(const TensorImpl<T>& out) { return out.grad->data(); }

// A flat 1-D xtensor view of n elements at p (no copy), for vectorised (xsimd) expressions.
template <class T>
auto flat(T* p, std::size_t n) { return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n}); }
template <class T>
auto flat(const T* p, std::size_t n) { return flat(const_cast<T*>(p), n); }

// Runs f(view_of_chunk_of_each_array...) over chunks of n elements, in parallel.
// Example: for_each_chunk(n, [](auto y, auto x) { xt::noalias(y) = xt::exp(x); }, y_ptr, x_ptr);
template <class F, class... P>
void for_each_chunk(std::size_t n, F&& f, P... ptrs) {
  parallel_chunks(n, kElementChunk, [&](std::size_t b, std::size_t e) { f(flat(ptrs + b, e - b)...); });
}

// sum_{i < n} f(i), in 16 interleaved partial sums added in a fixed order at the end. Without
// -ffast-math a single running sum cannot be vectorised (it would reorder the additions); 16
// independent lanes can, and the order is still fixed, so the result is deterministic.
template <class T, class F>
T lane_sum(std::size_t n, F f) {
  constexpr std::size_t L = 16;
  T lane[L] = {};
  std::size_t i = 0;
  for (; i + L <= n; i += L)
    for (std::size_t l = 0; l < L; ++l) lane[l] += f(i + l);
  for (std::size_t l = 0; i < n; ++i, ++l) lane[l] += f(i);
  T s = 0;
  for (std::size_t l = 0; l < L; ++l) s += lane[l];
  return s;
}

template <class T>
void pass_gradient(GradTarget<T> d, const T* g, std::size_t n) {
  if (d.beta == T(0)) for_each_chunk(n, [](auto dv, auto gv) { xt::noalias(dv) = gv; }, d.ptr, g);
  else for_each_chunk(n, [](auto dv, auto gv) { xt::noalias(dv) += gv; }, d.ptr, g);
}

// dst[c] += sum over rows r < R of value(r, c), for c < C: the reduction behind bias and LayerNorm
// parameter gradients. Rows are cut into fixed chunks whose partial sums (in double) are added in
// chunk order, so the result does not depend on the thread count.
template <class T, class F>
void add_column_sums(std::size_t R, std::size_t C, T* dst, F value) {
  const std::size_t chunk = rows_per_chunk(C), n_chunks = (R + chunk - 1) / chunk;
  std::vector<double> partial(n_chunks * C, 0.0);
  parallel_chunks(R, chunk, [&](std::size_t r0, std::size_t r1) {
    double* p = &partial[r0 / chunk * C];
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t c = 0; c < C; ++c) p[c] += value(r, c);
  });
  for (std::size_t k = 0; k < n_chunks; ++k)
    for (std::size_t c = 0; c < C; ++c) dst[c] += static_cast<T>(partial[k * C + c]);
}

}  // namespace ag::detail

// Matrix products through cblas GEMM (blas.hpp). Three facts drive the layout:
//  * a (..., M, K) @ b (K, N) folds the batch into M: one big GEMM, rows split over TBB;
//  * batched products run one GEMM per batch element, batches in parallel;
//  * backward is two more GEMMs with transpose flags, never an explicit transposed copy:
//      dA = dC · Bᵀ   (…, M, K)        dB = Aᵀ · dC   (…, K, N)
#include "autograd/blas.hpp"
#include "autograd/kernels.hpp"
#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
namespace {
using namespace detail;

Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// Calls gemm_for(i, ia, ib) for every output batch i, with ia, ib the batch of a and b it reads.
// When several i write the same gradient slice (that operand was broadcast), run them in order
// on one thread: no two threads ever add into the same memory, so results are deterministic.
template <class F>
void for_each_batch(const std::vector<std::size_t>& oa, const std::vector<std::size_t>& ob, bool parallel, F&& f) {
  if (parallel) {
    tbb::parallel_for(std::size_t(0), oa.size(), [&](std::size_t i) { f(oa[i], ob[i], i); });
  } else {
    for (std::size_t i = 0; i < oa.size(); ++i) f(oa[i], ob[i], i);
  }
}

}  // namespace

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.dim() < 2 || b.dim() < 2 || a.shape().back() != b.shape()[b.dim() - 2])
    throw ShapeError("matmul: cannot multiply " + shape_str(a.shape()) + " @ " + shape_str(b.shape()) +
                     " (need (..., M, K) @ (..., K, N), both of rank >= 2)");
  const std::size_t M = a.shape()[a.dim() - 2], K = a.shape().back(), N = b.shape().back();
  Shape out_shape;

  if (b.dim() == 2) {
    // ---- (..., M, K) @ (K, N): the batch folds into the rows of one GEMM
    out_shape = a.shape();
    out_shape.back() = N;
    const std::size_t BM = numel(batch_of(a.shape())) * M;
    Tensor<T> out = Tensor<T>::empty(out_shape);
    blas::gemm_parallel<T>(false, false, BM, N, K, T(1), a.data(), K, b.data(), N, T(0), out.data(), N);
    if (needs_grad<T>({&a, &b})) {
      record("matmul", out, [ai = a.impl_ptr(), bi = b.impl_ptr(), oi = out.impl_ptr().get(), BM, N, K] {
        const T* g = grad_of(*oi);  // (BM, N)
        if (T* da = grad_sink(*ai, ai->shape, "matmul"))  // dA (BM, K) += dC (BM, N) · Bᵀ
          blas::gemm_parallel<T>(false, true, BM, K, N, T(1), g, N, bi->data->data(), N, T(1), da, K);
        if (T* db = grad_sink(*bi, Shape{K, N}, "matmul"))  // dB (K, N) += Aᵀ (K, BM) · dC (BM, N)
          blas::gemm_parallel<T>(true, false, K, N, BM, T(1), ai->data->data(), K, g, N, T(1), db, N);
      });
    }
    return out;
  }

  // ---- batched: (..., M, K) @ (..., K, N) with broadcast batch dims
  const Shape ba = batch_of(a.shape()), bb = batch_of(b.shape());
  const Shape bs = broadcast_shapes(ba, bb, "matmul (batch dims)");
  out_shape = bs;
  out_shape.push_back(M);
  out_shape.push_back(N);
  const auto ia = broadcast_offsets(ba, bs), ib = broadcast_offsets(bb, bs);  // batch indices
  Tensor<T> out = Tensor<T>::empty(out_shape);
  {
    const T *A = a.data(), *B = b.data();
    T* C = out.data();
    for_each_batch(ia, ib, true, [&](std::size_t i_a, std::size_t i_b, std::size_t i) {
      blas::gemm<T>(false, false, M, N, K, T(1), A + i_a * M * K, K, B + i_b * K * N, N, T(0), C + i * M * N, N);
    });
  }
  if (needs_grad<T>({&a, &b})) {
    const bool a_full = ba == bs, b_full = bb == bs;  // no two batches share a gradient slice
    record("matmul", out, [ai = a.impl_ptr(), bi = b.impl_ptr(), oi = out.impl_ptr().get(), ia, ib, a_full, b_full,
                           M, N, K] {
      const T *g = grad_of(*oi), *A = ai->data->data(), *B = bi->data->data();
      if (T* da = grad_sink(*ai, ai->shape, "matmul"))
        for_each_batch(ia, ib, a_full, [&](std::size_t i_a, std::size_t i_b, std::size_t i) {
          blas::gemm<T>(false, true, M, K, N, T(1), g + i * M * N, N, B + i_b * K * N, N, T(1), da + i_a * M * K, K);
        });
      if (T* db = grad_sink(*bi, bi->shape, "matmul"))
        for_each_batch(ia, ib, b_full, [&](std::size_t i_a, std::size_t i_b, std::size_t i) {
          blas::gemm<T>(true, false, K, N, M, T(1), A + i_a * M * K, K, g + i * M * N, N, T(1), db + i_b * K * N, N);
        });
    });
  }
  return out;
}

// y (R, OUT) = x (R, IN) · Wᵀ + b (+ residual), with W stored (OUT, IN) as in PyTorch and R all
// leading dims of x (kernels in kernels.hpp). b and residual may be undefined. The residual form is
// the transformer's "x + proj(h)" as one op: the projection is never stored on its own.
//   dx (R, IN) += dy · W        dW (OUT, IN) += dyᵀ · x        db (OUT) += sum_r dy        dres += dy
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& residual) {
  const Shape out_shape = check_linear("linear", x.shape(), w.shape(), b.defined() ? &b.shape() : nullptr,
                                        residual.defined() ? &residual.shape() : nullptr);
  const std::size_t IN = w.shape()[1], OUT = w.shape()[0], R = x.numel() / std::max<std::size_t>(IN, 1);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  if (residual.defined())
    for_each_chunk(y.numel(), [](auto yv, auto rv) { xt::noalias(yv) = rv; }, y.data(), residual.data());
  linear_forward(x.data(), w.data(), b.defined() ? b.data() : nullptr, R, IN, OUT, T(residual.defined() ? 1 : 0), y.data());
  if (needs_grad<T>({&x, &w, &b, &residual})) {
    record("linear", y, [xi = x.impl_ptr(), wi = w.impl_ptr(), bi = b.impl_ptr(), ri = residual.impl_ptr(),
                         yi = y.impl_ptr().get(), R, IN, OUT] {
      const T* g = grad_of(*yi);
      linear_backward(g, xi->data->data(), wi->data->data(), R, IN, OUT, grad_target(*xi, xi->shape, "linear"),
                      grad_target(*wi, Shape{OUT, IN}, "linear"), bi ? grad_sink(*bi, Shape{OUT}, "linear") : nullptr);
      if (ri)
        if (const auto dr = grad_target(*ri, yi->shape, "linear")) pass_gradient(dr, g, numel(yi->shape));
    });
  }
  return y;
}

template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&);
template Tensor<float> linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&);

}  // namespace ag

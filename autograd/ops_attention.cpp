// Fused scaled dot-product attention: one task per (batch, head), each doing its own small GEMMs
// (single-threaded OpenBLAS) and row softmax, instead of five separate whole-tensor ops.
//
// Per (b, h), with Q, K, V (T, HS), s = 1/sqrt(HS), and M the causal mask (j > i):
//   S = s · Q Kᵀ               (T, T)
//   P = softmax(S masked -inf)  or, for linear attention, P = S with masked entries 0
//   O = P V                    (T, HS)
// Backward, given dO:
//   dP = dO Vᵀ,   dV += Pᵀ dO
//   dS = P ⊙ (dP − rowsum(dP ⊙ P))   (softmax)   or   dS = dP masked to 0   (linear)
//   dQ += s · dS K,   dK += s · dSᵀ Q
// Only P is cached (B, H, T, T). Slices of different (b, h) are disjoint, so the parallel loop
// needs no synchronisation and is deterministic.
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/blas.hpp"
#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

template <class T>
Tensor<T> attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, bool causal, bool softmax) {
  if (q.dim() != 4 || k.shape() != q.shape() || v.shape() != q.shape() || q.shape()[2] == 0)
    throw ShapeError("attention: q, k, v must share one shape (B, H, T, HS), got " + shape_str(q.shape()) + ", " +
                     shape_str(k.shape()) + ", " + shape_str(v.shape()));
  const std::size_t BH = q.shape()[0] * q.shape()[1], Tn = q.shape()[2], HS = q.shape()[3];
  const T scale = T(1) / std::sqrt(static_cast<T>(HS));
  Tensor<T> out = Tensor<T>::empty(q.shape());
  auto probs = std::make_shared<Buffer<T>>(Buffer<T>::from_shape({BH * Tn * Tn}));
  const T *qp = q.data(), *kp = k.data(), *vp = v.data();
  T *op = out.data(), *pp = probs->data();

  tbb::parallel_for(std::size_t(0), BH, [&](std::size_t i) {
    const std::size_t qo = i * Tn * HS;
    T* p = pp + i * Tn * Tn;
    blas::gemm<T>(false, true, Tn, Tn, HS, scale, qp + qo, HS, kp + qo, HS, T(0), p, Tn);  // S
    for (std::size_t r = 0; r < Tn; ++r) {
      T* row = p + r * Tn;
      const std::size_t n = causal ? r + 1 : Tn;  // entries j >= n are masked
      if (softmax) {
        T m = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < n; ++j) m = std::max(m, row[j]);
        double sum = 0;
        for (std::size_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - m));
        const T inv = static_cast<T>(1.0 / sum);
        for (std::size_t j = 0; j < n; ++j) row[j] *= inv;
      }
      for (std::size_t j = n; j < Tn; ++j) row[j] = T(0);
    }
    blas::gemm<T>(false, false, Tn, HS, Tn, T(1), p, Tn, vp + qo, HS, T(0), op + qo, HS);  // O = P V
  });

  if (needs_grad<T>({&q, &k, &v})) {
    record("attention", out, [qi = q.impl_ptr(), ki = k.impl_ptr(), vi = v.impl_ptr(), oi = out.impl_ptr().get(), probs,
                              BH, Tn, HS, scale, causal, softmax] {
      const T *g = grad_of(*oi), *Q = qi->data->data(), *K = ki->data->data(), *V = vi->data->data();
      const T* P = probs->data();
      T* dQ = grad_sink(*qi, oi->shape, "attention");
      T* dK = grad_sink(*ki, oi->shape, "attention");
      T* dV = grad_sink(*vi, oi->shape, "attention");
      tbb::parallel_for(std::size_t(0), BH, [&](std::size_t i) {
        const std::size_t qo = i * Tn * HS;
        const T* p = P + i * Tn * Tn;
        if (dV) blas::gemm<T>(true, false, Tn, HS, Tn, T(1), p, Tn, g + qo, HS, T(1), dV + qo, HS);  // Pᵀ dO
        if (!dQ && !dK) return;
        std::vector<T> ds(Tn * Tn);
        blas::gemm<T>(false, true, Tn, Tn, HS, T(1), g + qo, HS, V + qo, HS, T(0), ds.data(), Tn);  // dP = dO Vᵀ
        for (std::size_t r = 0; r < Tn; ++r) {
          T* row = ds.data() + r * Tn;
          const T* prow = p + r * Tn;
          const std::size_t n = causal ? r + 1 : Tn;
          if (softmax) {
            double dot = 0;
            for (std::size_t j = 0; j < n; ++j) dot += row[j] * prow[j];
            for (std::size_t j = 0; j < n; ++j) row[j] = prow[j] * (row[j] - static_cast<T>(dot));
          }
          for (std::size_t j = n; j < Tn; ++j) row[j] = T(0);
        }
        if (dQ) blas::gemm<T>(false, false, Tn, HS, Tn, scale, ds.data(), Tn, K + qo, HS, T(1), dQ + qo, HS);
        if (dK) blas::gemm<T>(true, false, Tn, HS, Tn, scale, ds.data(), Tn, Q + qo, HS, T(1), dK + qo, HS);
      });
    });
  }
  return out;
}

template Tensor<float> attention(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> attention(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, bool, bool);

}  // namespace ag

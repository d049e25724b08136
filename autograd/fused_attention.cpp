// Fused scaled dot-product attention: one task per (batch, head), each doing its own small GEMMs
// (single-threaded OpenBLAS) and row softmax, instead of five separate whole-tensor ops.
//
// A fast path (fused_*.cpp; the reference ops are in ops_*.cpp). It must equal, values and
// gradients, the composition matmul -> masked_fill -> softmax -> matmul of reference ops that
// nn::SelfAttention runs with fused = false. Checked by tests/test_nn_modules.cpp ("fused attention
// equals the composition of primitive ops", T = 7 and T = 70, three causal row blocks) and by the
// gradchecks of attention and attention_qkv in tests/test_gradcheck_shape.cpp.
//
// Per (b, h), with Q, K, V (T, HS), s = 1/sqrt(HS), and M the causal mask (j > i):
//   S = s · Q Kᵀ               (T, T)
//   P = softmax(S masked -inf)  or, for linear attention, P = S with masked entries 0
//   O = P V                    (T, HS)
// Backward, given dO:
//   dP = dO Vᵀ,   dV += Pᵀ dO
//   dS = P ⊙ (dP − rowsum(dP ⊙ P))   (softmax)   or   dS = dP masked to 0   (linear)
//   dQ += s · dS K,   dK += s · dSᵀ Q
// Nothing is cached: backward recomputes P from Q and K (as FlashAttention does), which costs one
// small GEMM and a softmax per head but saves (B, H, T, T) per layer, 221 MB for config A. Slices
// of different (b, h) are disjoint, so the parallel loop needs no synchronisation and is
// deterministic.
//
// Two layouts share the one kernel. attention() takes q, k, v as (B, H, T, HS). attention_qkv()
// reads them in place from the fused projection (B, T, 3C), whose head h of token t is columns
// h·HS.. of each C-wide third, and writes (B, T, C): no slicing and no permute copies, forward or
// backward (the permutes were 15% of a config-A step in perf). GEMMs take a row stride, so a head
// is just a pointer and a leading dimension.
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/blas.hpp"
#include "autograd/op_util.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

namespace {

// Where head i = (b, h) lives: element (t, c) of Q is q + q_at(i) + t·ld_in + c, likewise K and V;
// of O (and dO) o + o_at(i) + t·ld_out + c.
struct HeadLayout {
  std::size_t BH, H, Tn, HS, ld_in, ld_out;
  std::size_t q_at(std::size_t i) const { return ld_in == HS ? i * Tn * HS : (i / H) * Tn * ld_in + (i % H) * HS; }
  std::size_t o_at(std::size_t i) const { return ld_out == HS ? i * Tn * HS : (i / H) * Tn * ld_out + (i % H) * HS; }
};

// Under the causal mask only the lower triangle of S is needed. The T rows are cut into near-equal
// blocks of at most kCausalBlock: queries in block [r0, r1) see keys 0..r1 only, and keys in block
// [c0, c1) are seen by queries c0..T only, so each GEMM below skips the blocks above the diagonal
// (two blocks for T = 60 save a quarter of the attention FLOPs). Without the mask there is one
// block. The blocks depend on T alone, so every element is still computed by one fixed GEMM.
constexpr std::size_t kCausalBlock = 32;
struct RowBlocks {
  std::size_t Tn, len;
  RowBlocks(std::size_t T, bool causal) : Tn(T), len(T) {
    const std::size_t n = causal ? (T + kCausalBlock - 1) / kCausalBlock : 1;
    len = (T + n - 1) / n;
  }
  template <class F>  // f(r0, r1) for each block
  void each(F&& f) const {
    for (std::size_t r0 = 0; r0 < Tn; r0 += len) f(r0, std::min(Tn, r0 + len));
  }
};

// Row r of a (T × T) score matrix after the mask: entries 0..n(r) are kept, n(r)..r1 of its block
// are set to 0 (the GEMMs read them), the rest are never read.
inline std::size_t visible(std::size_t r, std::size_t Tn, bool causal) { return causal ? r + 1 : Tn; }

// P (Tn × Tn) of one head from its Q and K (row stride ld): the scaled scores, masked, softmaxed,
// up to the diagonal block of each row block.
// p must be 64-byte aligned: xtensor computes a row's first elements up to an alignment boundary
// with the scalar exp and the rest with xsimd's, which differ in the last bit, so the split must
// depend on the shape alone, never on where malloc put the buffer (else threads change results).
template <class T>
void probabilities(const T* q, const T* k, const RowBlocks& blocks, std::size_t HS, std::size_t ld, bool causal,
                   bool softmax, T* p) {
  const std::size_t Tn = blocks.Tn;
  const T scale = T(1) / std::sqrt(static_cast<T>(HS));
  blocks.each([&](std::size_t r0, std::size_t r1) {
    blas::gemm<T>(false, true, r1 - r0, r1, HS, scale, q + r0 * ld, ld, k, ld, T(0), p + r0 * Tn, Tn);  // S
    for (std::size_t r = r0; r < r1; ++r) {
      T* row = p + r * Tn;
      const std::size_t n = visible(r, Tn, causal);
      if (softmax) {
        T m = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < n; ++j) m = std::max(m, row[j]);
        auto v = flat(row, n);
        xt::noalias(v) = xt::exp(v - m);  // xsimd's vectorised exp
        const T inv = T(1) / lane_sum<T>(n, [row](std::size_t j) { return row[j]; });
        for (std::size_t j = 0; j < n; ++j) row[j] *= inv;
      }
      for (std::size_t j = n; j < r1; ++j) row[j] = T(0);
    }
  });
}

template <class T>
void attention_forward(const HeadLayout& L, const T* qp, const T* kp, const T* vp, T* op, bool causal, bool softmax) {
  const std::size_t Tn = L.Tn, HS = L.HS, ld = L.ld_in, ldo = L.ld_out;
  const RowBlocks blocks(Tn, causal);
  tbb::parallel_for(std::size_t(0), L.BH, [&](std::size_t i) {
    const std::size_t at = L.q_at(i);
    Buffer<T> p = Buffer<T>::from_shape({Tn * Tn});  // 64-byte aligned: see probabilities()
    probabilities(qp + at, kp + at, blocks, HS, ld, causal, softmax, p.data());
    T* o = op + L.o_at(i);
    blocks.each([&](std::size_t r0, std::size_t r1) {  // O = P V, keys 0..r1
      blas::gemm<T>(false, false, r1 - r0, HS, r1, T(1), p.data() + r0 * Tn, Tn, vp + at, ld, T(0), o + r0 * ldo, ldo);
    });
  });
}

// g is dO; dQ, dK, dV (each may be null) become beta · themselves + their gradient: every element
// is written by exactly one GEMM. Query blocks [r0, r1) use keys 0..r1; key blocks [c0, c1) use
// queries c0..T.
template <class T>
void attention_backward(const HeadLayout& L, const T* g, const T* Q, const T* K, const T* V, T* dQ, T* dK, T* dV, T beta,
                        bool causal, bool softmax) {
  const std::size_t Tn = L.Tn, HS = L.HS, ld = L.ld_in, ldo = L.ld_out;
  const T scale = T(1) / std::sqrt(static_cast<T>(HS));
  const RowBlocks blocks(Tn, causal);
  tbb::parallel_for(std::size_t(0), L.BH, [&](std::size_t i) {
    const std::size_t at = L.q_at(i);
    const T* go = g + L.o_at(i);
    Buffer<T> pv = Buffer<T>::from_shape({Tn * Tn});  // P again, instead of keeping (B, H, T, T) alive since forward
    const T* p = pv.data();
    probabilities(Q + at, K + at, blocks, HS, ld, causal, softmax, pv.data());
    if (dV)
      blocks.each([&](std::size_t c0, std::size_t c1) {  // dV = Pᵀ dO
        blas::gemm<T>(true, false, c1 - c0, HS, Tn - c0, T(1), p + c0 * Tn + c0, Tn, go + c0 * ldo, ldo, beta,
                      dV + at + c0 * ld, ld);
      });
    if (!dQ && !dK) return;
    Buffer<T> dsv = Buffer<T>::from_shape({Tn * Tn});
    T* ds = dsv.data();
    blocks.each([&](std::size_t r0, std::size_t r1) {
      blas::gemm<T>(false, true, r1 - r0, r1, HS, T(1), go + r0 * ldo, ldo, V + at, ld, T(0), ds + r0 * Tn, Tn);  // dP = dO Vᵀ
      for (std::size_t r = r0; r < r1; ++r) {
        T* row = ds + r * Tn;
        const T* prow = p + r * Tn;
        const std::size_t n = visible(r, Tn, causal);
        if (softmax) {
          const T dot = lane_sum<T>(n, [row, prow](std::size_t j) { return row[j] * prow[j]; });
          for (std::size_t j = 0; j < n; ++j) row[j] = prow[j] * (row[j] - dot);
        }
        for (std::size_t j = n; j < r1; ++j) row[j] = T(0);
      }
      if (dQ)  // dQ = s · dS K
        blas::gemm<T>(false, false, r1 - r0, HS, r1, scale, ds + r0 * Tn, Tn, K + at, ld, beta, dQ + at + r0 * ld, ld);
    });
    if (dK)
      blocks.each([&](std::size_t c0, std::size_t c1) {  // dK = s · dSᵀ Q
        blas::gemm<T>(true, false, c1 - c0, HS, Tn - c0, scale, ds + c0 * Tn + c0, Tn, Q + at + c0 * ld, ld, beta,
                      dK + at + c0 * ld, ld);
      });
  });
}

}  // namespace

template <class T>
Tensor<T> attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, bool causal, bool softmax) {
  if (q.dim() != 4 || k.shape() != q.shape() || v.shape() != q.shape() || q.shape()[2] == 0)
    throw ShapeError("attention: q, k, v must share one shape (B, H, T, HS), got " + shape_str(q.shape()) + ", " +
                     shape_str(k.shape()) + ", " + shape_str(v.shape()));
  const std::size_t H = q.shape()[1], Tn = q.shape()[2], HS = q.shape()[3];
  const HeadLayout L{q.shape()[0] * H, H, Tn, HS, HS, HS};
  Tensor<T> out = Tensor<T>::empty(q.shape());
  attention_forward(L, q.data(), k.data(), v.data(), out.data(), causal, softmax);
  if (needs_grad<T>({&q, &k, &v})) {
    record("attention", out, [qi = q.impl_ptr(), ki = k.impl_ptr(), vi = v.impl_ptr(), oi = out.impl_ptr().get(),
                              L, causal, softmax] {
      T* dQ = grad_sink(*qi, oi->shape, "attention");
      T* dK = grad_sink(*ki, oi->shape, "attention");
      T* dV = grad_sink(*vi, oi->shape, "attention");
      attention_backward(L, grad_of(*oi), qi->data->data(), ki->data->data(), vi->data->data(), dQ, dK, dV, T(1), causal,
                         softmax);
    });
  }
  return out;
}

template <class T>
Tensor<T> attention_qkv(const Tensor<T>& qkv, std::size_t n_head, bool causal, bool softmax) {
  if (qkv.dim() != 3 || qkv.shape()[1] == 0 || n_head == 0 || qkv.shape()[2] % (3 * n_head) != 0)
    throw ShapeError("attention_qkv: qkv must be (B, T, 3C) with C a multiple of n_head = " + std::to_string(n_head) +
                     ", got " + shape_str(qkv.shape()));
  const std::size_t B = qkv.shape()[0], Tn = qkv.shape()[1], C = qkv.shape()[2] / 3;
  const HeadLayout L{B * n_head, n_head, Tn, C / n_head, 3 * C, C};
  Tensor<T> out = Tensor<T>::empty({B, Tn, C});
  const T* x = qkv.data();
  attention_forward(L, x, x + C, x + 2 * C, out.data(), causal, softmax);
  if (needs_grad<T>({&qkv})) {
    record("attention_qkv", out, [xi = qkv.impl_ptr(), oi = out.impl_ptr().get(), L, C, causal, softmax] {
      const GradTarget<T> d = grad_target(*xi, xi->shape, "attention_qkv");
      if (!d) return;
      const T* X = xi->data->data();
      attention_backward(L, grad_of(*oi), X, X + C, X + 2 * C, d.ptr, d.ptr + C, d.ptr + 2 * C, d.beta, causal, softmax);
    });
  }
  return out;
}

template Tensor<float> attention(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> attention(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, bool, bool);
template Tensor<float> attention_qkv(const Tensor<float>&, std::size_t, bool, bool);
template Tensor<double> attention_qkv(const Tensor<double>&, std::size_t, bool, bool);

}  // namespace ag

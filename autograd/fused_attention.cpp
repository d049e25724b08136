// Fused scaled dot-product attention: one task per (batch, head), each doing its own small GEMMs
// (single-threaded libxsmm or OpenBLAS calls) and row softmax, instead of five separate whole-tensor ops.
//
// A fast path (fused_*.cpp; the reference ops are in ops_*.cpp). It must equal, values and
// gradients, the composition matmul -> masked_fill -> softmax -> matmul of reference ops that
// nn::SelfAttention runs on the reference path (reference.hpp). Checked by tests/test_nn_modules.cpp ("fused attention
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
// P is not cached: backward recomputes it from Q and K (as FlashAttention does), which costs one
// small GEMM and an exp per score but saves (B, H, T, T) per layer, 221 MB for config A. Forward
// keeps each softmax row's shift and 1/Σ instead (2 numbers per row, 0.4 MB per layer), so backward
// rebuilds P in one pass, without the row max and the sum. Slices of different (b, h) are
// disjoint, so the parallel loop needs no synchronisation and is deterministic.
//
// Two layouts share the one kernel. attention() takes q, k, v as (B, H, T, HS). attention_qkv()
// reads them in place from the fused projection (B, T, 3C), whose head h of token t is columns
// h·HS.. of each C-wide third, and writes (B, T, C): no slicing and no permute copies, forward or
// backward (docs/performance.md, "The profile, before and after"). GEMMs take a row stride, so a head
// is just a pointer and a leading dimension.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "autograd/blas.hpp"
#include "autograd/attention_softmax.hpp"
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

// Asks for a head's Tn rows of HS elements (row stride ld) to be brought into cache, for reading or
// (kWrite) for writing. Each task calls it for its next head before computing the current one, so
// that the next head's rows arrive meanwhile. Otherwise the first GEMM to touch a head waits on memory
// for every row: a head's row is 2 cache lines, 3C elements away from the next row, and the (B, T, 3C)
// projection (18 MB per layer for config A) is not in cache.
template <bool kWrite, class T>
void prefetch_head(const T* p, std::size_t Tn, std::size_t HS, std::size_t ld) {
  for (std::size_t t = 0; t < Tn; ++t)
    for (std::size_t c = 0; c < HS; c += 64 / sizeof(T)) __builtin_prefetch(p + t * ld + c, kWrite ? 1 : 0);
}

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

// The per-head scratch. P and dS are (Tn × ld) with rows padded to whole SIMD batches, so the
// softmax's exp runs in whole batches, none of it in scalar code. kt holds the head's Kᵀ (or Vᵀ),
// HS × Tn: libxsmm cannot transpose a GEMM's B, so every GEMM with Kᵀ would pack it again; here it
// is packed once per head.
template <class T>
struct HeadScratch {
  static constexpr std::size_t kLanes = xsimd::batch<T>::size;
  std::size_t ld;
  Buffer<T> p, ds, kt;
  HeadScratch(std::size_t Tn, std::size_t HS)
      : ld((Tn + kLanes - 1) / kLanes * kLanes), p(Buffer<T>::from_shape({Tn * ld})), kt(Buffer<T>::from_shape({HS * Tn})) {}
};

// P (Tn × ld) of one head from its Q and K (row stride ld_in): the scaled scores, masked, softmaxed,
// up to the diagonal block of each row block. The GEMMs compute Q Kᵀ unscaled (alpha = 1 is the only
// alpha libxsmm's kernels take directly); the scale goes into the pass over each row. A softmax either
// makes its rows' stats (forward: `made`, Tn rows) or rebuilds P from them (backward: `kept`).
template <class T>
void probabilities(const T* q, const T* k, const RowBlocks& blocks, std::size_t HS, std::size_t ld_in, bool causal,
                   bool softmax, HeadScratch<T>& h, const RowStats<T>* kept, RowStats<T>* made) {
  const std::size_t Tn = blocks.Tn, ld = h.ld;
  const T scale = T(1) / std::sqrt(static_cast<T>(HS));
  blas::transpose(k, ld_in, Tn, HS, h.kt.data());
  T* p = h.p.data();
  blocks.each([&](std::size_t r0, std::size_t r1) {
    blas::gemm<T>(false, false, r1 - r0, r1, HS, T(1), q + r0 * ld_in, ld_in, h.kt.data(), Tn, T(0), p + r0 * ld, ld);  // Q Kᵀ
    const std::size_t end = (r1 + HeadScratch<T>::kLanes - 1) / HeadScratch<T>::kLanes * HeadScratch<T>::kLanes;
    for (std::size_t r = r0; r < r1; ++r) {
      T* row = p + r * ld;
      const std::size_t n = visible(r, Tn, causal);
      if (softmax && kept) {
        softmax_row_again(row, n, end, scale, kept[r]);
      } else if (softmax) {
        made[r] = softmax_row(row, n, end, scale);
      } else {
        for (std::size_t j = 0; j < n; ++j) row[j] *= scale;
        for (std::size_t j = n; j < r1; ++j) row[j] = T(0);
      }
    }
  });
}

// stats (BH × Tn rows) receives each softmax row's statistics for backward; null when no backward
// will run. Each task takes a range of heads and reuses one scratch for all of them.
template <class T>
void attention_forward(const HeadLayout& L, const T* qp, const T* kp, const T* vp, T* op, RowStats<T>* stats, bool causal,
                       bool softmax) {
  const std::size_t Tn = L.Tn, HS = L.HS, ld = L.ld_in, ldo = L.ld_out;
  const RowBlocks blocks(Tn, causal);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, L.BH), [&](const tbb::blocked_range<std::size_t>& heads) {
    HeadScratch<T> h(Tn, HS);
    std::vector<RowStats<T>> unkept(stats ? 0 : Tn);
    for (std::size_t i = heads.begin(); i != heads.end(); ++i) {
      const std::size_t at = L.q_at(i);
      if (i + 1 != heads.end()) {
        const std::size_t next = L.q_at(i + 1);
        for (const T* x : {qp, kp, vp}) prefetch_head<false>(x + next, Tn, HS, ld);
        prefetch_head<true>(op + L.o_at(i + 1), Tn, HS, ldo);
      }
      probabilities<T>(qp + at, kp + at, blocks, HS, ld, causal, softmax, h, nullptr, stats ? stats + i * Tn : unkept.data());
      T* o = op + L.o_at(i);
      blocks.each([&](std::size_t r0, std::size_t r1) {  // O = P V, keys 0..r1
        blas::gemm<T>(false, false, r1 - r0, HS, r1, T(1), h.p.data() + r0 * h.ld, h.ld, vp + at, ld, T(0), o + r0 * ldo, ldo);
      });
    }
  });
}

// g is dO; dQ, dK, dV (each may be null) become beta · themselves + their gradient: every element
// is written by exactly one GEMM. Query blocks [r0, r1) use keys 0..r1; key blocks [c0, c1) use
// queries c0..T. dS is stored scaled by s, so that dQ and dK are plain products (alpha = 1).
// stats are forward's.
template <class T>
void attention_backward(const HeadLayout& L, const T* g, const T* Q, const T* K, const T* V, const RowStats<T>* stats,
                        T* dQ, T* dK, T* dV, T beta, bool causal, bool softmax) {
  const std::size_t Tn = L.Tn, HS = L.HS, ld = L.ld_in, ldo = L.ld_out;
  const T scale = T(1) / std::sqrt(static_cast<T>(HS));
  const RowBlocks blocks(Tn, causal);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, L.BH), [&](const tbb::blocked_range<std::size_t>& heads) {
    HeadScratch<T> h(Tn, HS);
    const std::size_t lp = h.ld;
    if (dQ || dK) h.ds = Buffer<T>::from_shape({Tn * lp});
    for (std::size_t i = heads.begin(); i != heads.end(); ++i) {
      const std::size_t at = L.q_at(i);
      const T* go = g + L.o_at(i);
      if (i + 1 != heads.end()) {
        const std::size_t next = L.q_at(i + 1);
        for (const T* x : {Q, K, V}) prefetch_head<false>(x + next, Tn, HS, ld);
        prefetch_head<false>(g + L.o_at(i + 1), Tn, HS, ldo);
        for (const T* d : {dQ, dK, dV})
          if (d) prefetch_head<true>(d + next, Tn, HS, ld);
      }
      // P again, instead of keeping (B, H, T, T) alive since forward
      probabilities<T>(Q + at, K + at, blocks, HS, ld, causal, softmax, h, stats + i * Tn, nullptr);
      const T* p = h.p.data();
      if (dV)
        blocks.each([&](std::size_t c0, std::size_t c1) {  // dV = Pᵀ dO
          blas::gemm<T>(true, false, c1 - c0, HS, Tn - c0, T(1), p + c0 * lp + c0, lp, go + c0 * ldo, ldo, beta,
                        dV + at + c0 * ld, ld);
        });
      if (!dQ && !dK) continue;
      T* ds = h.ds.data();
      blas::transpose(V + at, ld, Tn, HS, h.kt.data());  // Vᵀ, now that Kᵀ is done with
      blocks.each([&](std::size_t r0, std::size_t r1) {
        // dP = dO Vᵀ
        blas::gemm<T>(false, false, r1 - r0, r1, HS, T(1), go + r0 * ldo, ldo, h.kt.data(), Tn, T(0), ds + r0 * lp, lp);
        for (std::size_t r = r0; r < r1; ++r) {
          T* row = ds + r * lp;
          const T* prow = p + r * lp;
          const std::size_t n = visible(r, Tn, causal);
          if (softmax) {
            const T dot = lane_sum<T>(n, [row, prow](std::size_t j) { return row[j] * prow[j]; });
            for (std::size_t j = 0; j < n; ++j) row[j] = scale * (prow[j] * (row[j] - dot));
          } else {
            for (std::size_t j = 0; j < n; ++j) row[j] *= scale;
          }
          for (std::size_t j = n; j < r1; ++j) row[j] = T(0);
        }
        if (dQ)  // dQ = s · dS K
          blas::gemm<T>(false, false, r1 - r0, HS, r1, T(1), ds + r0 * lp, lp, K + at, ld, beta, dQ + at + r0 * ld, ld);
      });
      if (dK)
        blocks.each([&](std::size_t c0, std::size_t c1) {  // dK = s · dSᵀ Q
          blas::gemm<T>(true, false, c1 - c0, HS, Tn - c0, T(1), ds + c0 * lp + c0, lp, Q + at + c0 * ld, ld, beta,
                        dK + at + c0 * ld, ld);
        });
    }
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
  const bool grad = needs_grad<T>({&q, &k, &v});
  auto stats = std::make_shared<std::vector<RowStats<T>>>(grad ? L.BH * Tn : 0);
  attention_forward(L, q.data(), k.data(), v.data(), out.data(), grad ? stats->data() : nullptr, causal, softmax);
  if (grad) {
    record("attention", out, [qi = q.impl_ptr(), ki = k.impl_ptr(), vi = v.impl_ptr(), oi = out.impl_ptr().get(),
                              L, stats, causal, softmax] {
      T* dQ = grad_sink(*qi, oi->shape, "attention");
      T* dK = grad_sink(*ki, oi->shape, "attention");
      T* dV = grad_sink(*vi, oi->shape, "attention");
      attention_backward(L, grad_of(*oi), qi->data->data(), ki->data->data(), vi->data->data(), stats->data(), dQ, dK, dV,
                         T(1), causal, softmax);
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
  const bool grad = needs_grad<T>({&qkv});
  auto stats = std::make_shared<std::vector<RowStats<T>>>(grad ? L.BH * Tn : 0);
  attention_forward(L, x, x + C, x + 2 * C, out.data(), grad ? stats->data() : nullptr, causal, softmax);
  if (grad) {
    record("attention_qkv", out, [xi = qkv.impl_ptr(), oi = out.impl_ptr().get(), L, stats, C, causal, softmax] {
      const GradTarget<T> d = grad_target(*xi, xi->shape, "attention_qkv");
      if (!d) return;
      const T* X = xi->data->data();
      attention_backward(L, grad_of(*oi), X, X + C, X + 2 * C, stats->data(), d.ptr, d.ptr + C, d.ptr + 2 * C, d.beta,
                         causal, softmax);
    });
  }
  return out;
}

template Tensor<float> attention(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> attention(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, bool, bool);
template Tensor<float> attention_qkv(const Tensor<float>&, std::size_t, bool, bool);
template Tensor<double> attention_qkv(const Tensor<double>&, std::size_t, bool, bool);

}  // namespace ag

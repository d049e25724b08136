#include "autograd/gemm_xsmm.hpp"

#include <libxsmm.h>

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <type_traits>
#include <vector>

#include "autograd/parallel.hpp"

namespace ag::blas::xsmm {
namespace {

std::once_flag g_init;
void ensure_init() {
  std::call_once(g_init, [] {
    // libxsmm_init sets OMP_PROC_BIND=TRUE in our environment when it is unset, for the OpenMP
    // programs it expects to live in. Our children inherit it: it pinned the PyTorch reference to
    // one core and doubled its step time in `icalign bench`. Put the environment back as it was.
    const bool was_set = std::getenv("OMP_PROC_BIND") != nullptr;
    libxsmm_init();
    if (!was_set) ::unsetenv("OMP_PROC_BIND");
  });
}

template <class T>
using Kernel = std::conditional_t<std::is_same_v<T, float>, libxsmm_smmfunction, libxsmm_dmmfunction>;

// libxsmm caches every kernel it generates by its descriptor: the first call for a shape JITs it
// (tens of microseconds), later calls find it in a hash table.
template <class T>
Kernel<T> dispatch(std::size_t m, std::size_t n, std::size_t k, std::size_t lda, std::size_t ldb, std::size_t ldc,
                   T beta, int flags) {
  const libxsmm_blasint m_ = libxsmm_blasint(m), n_ = libxsmm_blasint(n), k_ = libxsmm_blasint(k);
  const libxsmm_blasint lda_ = libxsmm_blasint(lda), ldb_ = libxsmm_blasint(ldb), ldc_ = libxsmm_blasint(ldc);
  const T one = 1;
  if constexpr (std::is_same_v<T, float>)
    return libxsmm_smmdispatch(m_, n_, k_, &lda_, &ldb_, &ldc_, &one, &beta, &flags, nullptr);
  else
    return libxsmm_dmmdispatch(m_, n_, k_, &lda_, &ldb_, &ldc_, &one, &beta, &flags, nullptr);
}

// The largest blocks of C (rows, columns) and of K in one kernel call: see gemm().
constexpr std::size_t kBlockRows = 64, kBlockCols = 48, kBlockDepth = 640;

}  // namespace

template <class T>
void pack_transposed(const T* B, std::size_t ldb, std::size_t N, std::size_t K, T* out) {
  ensure_init();
  // In column-major terms B is K×N (leading dimension ldb) and out its N×K transpose (leading
  // dimension N), done by libxsmm's JIT transpose kernels.
  libxsmm_otrans(out, B, sizeof(T), libxsmm_blasint(K), libxsmm_blasint(N), libxsmm_blasint(ldb), libxsmm_blasint(N));
}

template <class T>
bool gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
          const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init) {
  if (K == 0 || (row_init && (alpha != T(1) || beta != T(0)))) return false;
  ensure_init();
  // Column-major: Cᵀ (N×M) = op(B)ᵀ (N×K) · op(A)ᵀ (K×M). libxsmm 1.17's JIT can transpose its second
  // operand (our A) but not its first (our B): a transposed B is packed as op(B), K×N, first. That
  // costs N·K copies against M·N·K multiply-adds.
  thread_local std::vector<T> packed, product;
  if (tb) {
    packed.resize(K * N);
    pack_transposed(B, ldb, N, K, packed.data());
    B = packed.data(), ldb = N;
  }
  // The kernels take alpha = 1 and beta = 0 or 1; other values go through a scratch product.
  const bool direct = alpha == T(1) && (beta == T(0) || beta == T(1));
  T* out = C;
  std::size_t ldo = ldc;
  if (!direct) product.resize(M * N), out = product.data(), ldo = N;
  // C in blocks of at most kBlockRows × kBlockCols, and K in blocks of at most kBlockDepth added into
  // C (beta = 1 after the first), one kernel call each; blocks of near-equal size, the short one last.
  // A config-A step ran faster with them than with one call per 256-row tile (docs/performance.md,
  // "What each change bought"); 48 columns are three AVX-512 vectors of C.
  const std::size_t mb = even_block(M, kBlockRows), nb = even_block(N, kBlockCols), kb = even_block(K, kBlockDepth);
  // [the first depth block, a later one, the short last one][short rows][short columns]; all are
  // dispatched before C is touched, so a missing kernel leaves C as it was.
  Kernel<T> kernels[3][2][2] = {};
  const auto depth_kind = [&](std::size_t k0) { return k0 == 0 ? 0 : k0 + kb > K ? 2 : 1; };
  for (std::size_t k0 = 0; k0 < K; k0 += kb) {
    const int d = depth_kind(k0);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        const std::size_t bm = i ? M % mb : mb, bn = j ? N % nb : nb, bk = std::min(kb, K - k0);
        if (bm == 0 || bn == 0 || kernels[d][i][j] != nullptr) continue;
        kernels[d][i][j] = dispatch<T>(bn, bm, bk, ldb, lda, ldo, d > 0 || row_init ? T(1) : direct ? beta : T(0),
                                       ta ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE);
        if (kernels[d][i][j] == nullptr) return false;
      }
  }
  // Depth k0.. is column k0 of op(A) (row k0 of A when transposed) and row k0 of op(B); rows m0.. of
  // op(A) are row m0 of A (its column m0 when transposed).
  // row_init goes into each block of C just before its first kernel adds to it, while the block is
  // in L1: filled for all of C first, C would be written, evicted and read back.
  for (std::size_t k0 = 0; k0 < K; k0 += kb)
    for (std::size_t m0 = 0; m0 < M; m0 += mb)
      for (std::size_t n0 = 0; n0 < N; n0 += nb) {
        if (row_init && k0 == 0) {
          const std::size_t m1 = std::min(M, m0 + mb), n1 = std::min(N, n0 + nb);
          for (std::size_t m = m0; m < m1; ++m)
            for (std::size_t n = n0; n < n1; ++n) out[m * ldo + n] = row_init[n];
        }
        kernels[depth_kind(k0)][m0 + mb > M][n0 + nb > N](B + k0 * ldb + n0, ta ? A + k0 * lda + m0 : A + m0 * lda + k0,
                                                          out + m0 * ldo + n0);
      }
  if (direct) return true;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      T& c = C[m * ldc + n];
      c = alpha * product[m * N + n] + (beta == T(0) ? T(0) : beta * c);  // beta = 0: C may be uninitialised
    }
  return true;
}

template void pack_transposed<float>(const float*, std::size_t, std::size_t, std::size_t, float*);
template void pack_transposed<double>(const double*, std::size_t, std::size_t, std::size_t, double*);
template bool gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t, const float*);
template bool gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t, const double*);

double fp32_peak_gflops(double seconds) {
  ensure_init();
  // C (64×64) += A (64×256) · B (256×64): 144 KB of operands, in L2 at worst, and a K long enough
  // that loading C is negligible. Accumulating into C keeps every multiply-add live.
  const std::size_t m = 64, n = 64, k = 256;
  const Kernel<float> kernel = dispatch<float>(m, n, k, m, k, m, 1.0f, LIBXSMM_GEMM_FLAG_NONE);
  if (kernel == nullptr) return 0;
  std::vector<float> a(m * k, 1e-3f), b(k * n, 1e-3f), c(m * n, 0.0f);
  // The best of windows of 0.1 s: a peak is what the core can do, and a window in which the host
  // gave the core to someone else is not that, and one long window would average it in.
  using Clock = std::chrono::steady_clock;
  double best = 0;
  for (const auto start = Clock::now(); std::chrono::duration<double>(Clock::now() - start).count() < seconds;) {
    const auto t0 = Clock::now();
    long reps = 0;
    double elapsed = 0;
    while (elapsed < 0.1) {
      for (int i = 0; i < 200; ++i) kernel(a.data(), b.data(), c.data());
      reps += 200;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    best = std::max(best, 2.0 * double(m * n * k) * double(reps) / elapsed * 1e-9);
  }
  return best;
}

std::string target() {
  ensure_init();
  return libxsmm_get_target_arch();
}

}  // namespace ag::blas::xsmm

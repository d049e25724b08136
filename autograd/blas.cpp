#include "autograd/blas.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "autograd/gemm_xsmm.hpp"
#include "autograd/parallel.hpp"
#include "autograd/reference.hpp"

namespace ag::blas {

namespace {
std::atomic<bool> g_untiled{false};
std::once_flag g_blas_init;
void ensure_single_threaded() { std::call_once(g_blas_init, [] { openblas_set_num_threads(1); }); }
// The most rows and columns of C in one parallel tile. Fixed (not derived from the thread count)
// for determinism.
constexpr std::size_t kRowBlock = 256, kColBlock = 64, kDepthBlock = 2048;
// The largest C (elements) whose K is split: each chunk keeps a partial C of its own.
constexpr std::size_t kSplitMaxOutput = std::size_t(1) << 20;

inline CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }
inline blasint bi(std::size_t v) { return static_cast<blasint>(v); }
// cblas rejects a leading dimension of 0 even when the matrix is empty (K = 0).
inline blasint ld(std::size_t v) { return static_cast<blasint>(std::max<std::size_t>(v, 1)); }
}  // namespace

void set_single_threaded() {
  ensure_single_threaded();
  openblas_set_num_threads(1);
}

void set_native_threads(int n) {
  ensure_single_threaded();  // so that a later first gemm does not reset it
  openblas_set_num_threads(n);
}

namespace {
std::atomic<int> g_backend{-1};  // -1: not read from AG_GEMM yet
}  // namespace

Backend backend() {
  if (g_backend.load() < 0) {
    const char* env = std::getenv("AG_GEMM");
    const std::string v = env ? env : "xsmm";
    if (v != "xsmm" && v != "openblas") throw std::invalid_argument("AG_GEMM must be xsmm or openblas, got '" + v + "'");
    int expected = -1;
    g_backend.compare_exchange_strong(expected, static_cast<int>(v == "xsmm" ? Backend::Xsmm : Backend::OpenBLAS));
  }
  return static_cast<Backend>(g_backend.load());
}

void set_backend(Backend b) { g_backend = static_cast<int>(b); }

std::string config() {
  if (reference_path()) return "plain loops (AG_REFERENCE=1: the reference path, no BLAS, no tiles, no fused ops)";
  const std::string openblas = openblas_get_config();
  if (backend() == Backend::OpenBLAS) return "OpenBLAS (AG_GEMM=openblas): " + openblas;
  return "libxsmm 1.17 JIT kernels for '" + xsmm::target() + "' (OpenBLAS for shapes without one: " + openblas + ")";
}

std::string openblas_coretype_fix() {
  std::string core = openblas_get_corename();
  for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // OpenBLAS cores with AVX2 kernels or better; anything else on an AVX2 CPU is a fallback.
  for (const char* fast : {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", "excavator"})
    if (core == fast) return "";
  if (!__builtin_cpu_supports("avx2")) return "";
  return __builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell";
}

std::string slow_path_warning() {
  const std::string fix = openblas_coretype_fix();
  if (fix.empty()) return "";
  return std::string("warning: OpenBLAS runs its generic '") + openblas_get_corename() +
         "' kernels on this CPU (it does not know its model), 2-5x slower than it could: export OPENBLAS_CORETYPE=" + fix +
         (backend() == Backend::OpenBLAS ? ", or use AG_GEMM=xsmm" : " (only GEMMs without a libxsmm kernel use OpenBLAS)");
}

double fp32_peak_gflops(double seconds) { return xsmm::fp32_peak_gflops(seconds); }

void set_untiled(bool on) { g_untiled = on; }

namespace {
// The reference GEMM: C = alpha · op(A) · op(B) + beta · C (+ row_init), the definition as three
// loops, summing over k in order. With beta = 0, C is not read (it may hold anything).
template <class T>
void plain_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init) {
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      T sum = 0;
      for (std::size_t k = 0; k < K; ++k) sum += (ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
      T& c = C[m * ldc + n];
      c = alpha * sum + (beta == T(0) ? T(0) : beta * c) + (row_init ? row_init[n] : T(0));
    }
}

template <class T>
void backend_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                  const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (backend() == Backend::Xsmm && xsmm::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  ensure_single_threaded();
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), bi(M), bi(N), bi(K), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
  else
    cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), bi(M), bi(N), bi(K), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
}
}  // namespace

template <class T>
void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
          const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init) {
  if (M == 0 || N == 0) return;
  if (reference_path()) return plain_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, row_init);
  if (!row_init) return backend_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (backend() == Backend::Xsmm && xsmm::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, row_init)) return;
  if (beta == T(0)) {  // C starts as the bias rows: this saves OpenBLAS's zeroing pass
    for (std::size_t m = 0; m < M; ++m) std::copy(row_init, row_init + N, C + m * ldc);
    return backend_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, T(1), C, ldc);
  }
  backend_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) C[m * ldc + n] += row_init[n];
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t, const float*);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t, const double*);

template <class T>
void transpose(const T* B, std::size_t ldb, std::size_t N, std::size_t K, T* out) {
  xsmm::pack_transposed(B, ldb, N, K, out);
}
template void transpose<float>(const float*, std::size_t, std::size_t, std::size_t, float*);
template void transpose<double>(const double*, std::size_t, std::size_t, std::size_t, double*);

// A weight gradient (a small C, K = all B·T rows) in parallel: K is cut into fixed chunks, each
// chunk's product goes to its own buffer, and the buffers are added in chunk order. Cutting rows or
// columns instead would pack the long operands once per tile, whose cost docs/performance.md
// ("What each change bought") measured.
template <class T>
void gemm_split_k(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                  const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  const std::size_t kb = even_block(K, kDepthBlock), chunks = (K + kb - 1) / kb;
  std::vector<T> partial(chunks * M * N);
  parallel_chunks(chunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t k0 = c * kb, k1 = std::min(K, k0 + kb);
      // Depth k0..k1: columns of A (rows when transposed), rows of B (columns when transposed).
      const T* a = ta ? A + k0 * lda : A + k0;
      const T* b = tb ? B + k0 : B + k0 * ldb;
      gemm<T>(ta, tb, M, N, k1 - k0, alpha, a, lda, b, ldb, T(0), partial.data() + c * M * N, N);
    }
  });
  parallel_chunks(M, rows_per_chunk(N * chunks), [&](std::size_t m0, std::size_t m1) {
    for (std::size_t m = m0; m < m1; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        T sum = partial[m * N + n];
        for (std::size_t c = 1; c < chunks; ++c) sum += partial[(c * M + m) * N + n];
        T& out = C[m * ldc + n];
        out = beta == T(0) ? sum : beta * out + sum;
      }
  });
}

template <class T>
void gemm_parallel(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                   const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init) {
  if (M == 0 || N == 0) return;
  if (g_untiled || reference_path()) return gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, row_init);
  // Rows of C per tile: every tile repacks all of op(B), so tiles are as tall as balance allows.
  const std::size_t mb = balanced_block(M, kRowBlock), row_blocks = (M + mb - 1) / mb;
  if (K >= 2 * kDepthBlock && M * N <= kSplitMaxOutput && !row_init)  // a weight gradient
    return gemm_split_k(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  // libxsmm cannot transpose B (gemm_xsmm.hpp): pack op(B) once here, not once in every tile.
  std::vector<T> packed;
  if (tb && row_blocks > 1 && backend() == Backend::Xsmm) {
    packed.resize(K * N);
    transpose(B, ldb, N, K, packed.data());
    B = packed.data(), ldb = N, tb = false;
  }
  const std::size_t nb = row_blocks < 4 ? even_block(N, kColBlock) : N, col_blocks = (N + nb - 1) / nb;
  parallel_chunks(row_blocks * col_blocks, 1, [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t m0 = (t / col_blocks) * mb, m1 = std::min(M, m0 + mb);
      const std::size_t n0 = (t % col_blocks) * nb, n1 = std::min(N, n0 + nb);
      T* c = C + m0 * ldc + n0;
      // Rows m0..m1 of op(A) start at row m0 of A, or at column m0 when A is transposed; columns
      // n0..n1 of op(B) at column n0 of B, or at its row n0 when B is transposed.
      const T* a = ta ? A + m0 : A + m0 * lda;
      const T* b = tb ? B + n0 * ldb : B + n0;
      gemm<T>(ta, tb, m1 - m0, n1 - n0, K, alpha, a, lda, b, ldb, beta, c, ldc, row_init ? row_init + n0 : nullptr);
    }
  });
}

template void gemm_parallel<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                                   const float*, std::size_t, float, float*, std::size_t, const float*);
template void gemm_parallel<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                                    std::size_t, const double*, std::size_t, double, double*, std::size_t, const double*);

}  // namespace ag::blas

#include "autograd/blas.hpp"

#include <cblas.h>

#include <algorithm>
#include <mutex>

#include "autograd/parallel.hpp"

namespace ag::blas {

namespace {
std::once_flag g_blas_init;
void ensure_single_threaded() { std::call_once(g_blas_init, [] { openblas_set_num_threads(1); }); }
// Rows of C per parallel block. Fixed (not derived from the thread count) for determinism.
constexpr std::size_t kRowBlock = 256;

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

std::string config() { return openblas_get_config(); }

template <>
void gemm<float>(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A,
                 std::size_t lda, const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  ensure_single_threaded();
  cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), bi(M), bi(N), bi(K), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
}

template <>
void gemm<double>(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
                  std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  ensure_single_threaded();
  cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), bi(M), bi(N), bi(K), alpha, A, ld(lda), B, ld(ldb), beta, C, ld(ldc));
}

template <class T>
void gemm_rows_parallel(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  parallel_chunks(M, kRowBlock, [&](std::size_t m0, std::size_t m1) {
    // Rows m0..m1 of op(A): row offset m0 of A, or column offset m0 when A is transposed.
    const T* a = ta ? A + m0 : A + m0 * lda;
    gemm<T>(ta, tb, m1 - m0, N, K, alpha, a, lda, B, ldb, beta, C + m0 * ldc, ldc);
  });
}

template void gemm_rows_parallel<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*,
                                        std::size_t, const float*, std::size_t, float, float*, std::size_t);
template void gemm_rows_parallel<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                                         std::size_t, const double*, std::size_t, double, double*, std::size_t);

}  // namespace ag::blas

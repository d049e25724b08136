// GEMM, row-major, on one of two backends: libxsmm's JIT kernels (the default: generated for the
// instruction set the CPU reports, gemm_xsmm.hpp) or OpenBLAS's cblas (the reference backend, and the
// fallback for any shape libxsmm has no kernel for). AG_GEMM=openblas|xsmm in the environment
// chooses at start-up. On the reference path (reference.hpp, AG_REFERENCE=1) neither runs: every
// GEMM is three plain loops, untiled. The only file that includes <cblas.h> is blas.cpp.
#pragma once
#include <cstddef>
#include <string>

namespace ag::blas {

// C (M×N) = alpha · op(A) · op(B) + beta · C, with op(A) M×K and op(B) K×N; lda/ldb/ldc are the
// row strides of A, B, C as stored. One single-threaded call to the backend. With row_init (N
// values), it is also added to every row of C: a bias. With beta = 0, C starts as the bias rows and
// the product is added to them (libxsmm fills each block of C just before its kernel); otherwise
// the bias is added after the product.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init = nullptr);

// out (K×N, row-major) = Bᵀ for B stored N×K with row stride ldb. For a kernel that multiplies by the
// same transposed operand several times: libxsmm 1.17 cannot transpose B, so gemm would pack it on
// every call (gemm_xsmm.hpp); packed once, the calls take it untransposed.
template <class T>
void transpose(const T* B, std::size_t ldb, std::size_t N, std::size_t K, T* out);

// The same product, cut into fixed pieces that TBB runs in parallel, one single-threaded GEMM each.
// A weight gradient (K >= 4096 and C of at most 2^20 elements, no row_init) is split along K into
// near-equal chunks of at most 2048, whose products are added in chunk order (gemm_split_k).
// Otherwise rows are split into near-equal blocks of at most 256, a multiple of four of them (every
// block repacks op(B), so blocks are tall; four divide evenly among 2 or 4 threads), and, when there
// are fewer than four row blocks, columns into blocks of at most 64. The cut depends on the shape
// only, so the result does not depend on the thread count.
// row_init is gemm's: a bias added to every row of C.
template <class T>
void gemm_parallel(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                   std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc,
                   const T* row_init = nullptr);

// The reference path, for tests: while on, gemm_parallel makes one single-threaded, untiled gemm
// call, the answer every tiling (row and column tiles, split K, bias in the tile) must equal.
// Process-wide; switch it only between ops.
void set_untiled(bool on);

enum class Backend { OpenBLAS, Xsmm };
Backend backend();  // the first call reads AG_GEMM; throws std::invalid_argument on a value not allowed
// Process-wide, for tests and benchmarks; switch it only between ops.
void set_backend(Backend b);

// Which backend runs the GEMMs, its instruction set, and OpenBLAS's build string (core, threading);
// the programs print it so a slow path is visible.
std::string config();
// When OpenBLAS runs generic kernels on a CPU with AVX2 or AVX-512 (it does for CPU models it does
// not know), the OPENBLAS_CORETYPE that fixes it ("Haswell" or "SkylakeX"); "" when it runs fine.
std::string openblas_coretype_fix();
// One line when OpenBLAS runs generic kernels (Prescott, Core2, ...) on a CPU with AVX2 or AVX-512,
// which it does for CPU models it does not know, saying how to fix it; "" otherwise.
std::string slow_path_warning();
void set_single_threaded();  // OpenBLAS's own pool off: TBB owns the cores
// The CPU's fp32 multiply-add peak per core, GFLOP/s: a libxsmm JIT kernel on operands that stay in
// cache (C 64×64 += 64×256 by 256×64), on the calling thread: the best of windows of 0.1 s over
// about `seconds`.
double fp32_peak_gflops(double seconds);

// For benchmarks only: OpenBLAS's own pool with n threads, to time its threaded sgemm as the
// yardstick; call set_single_threaded() afterwards.
void set_native_threads(int n);

}  // namespace ag::blas

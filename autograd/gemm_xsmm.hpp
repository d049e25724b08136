// The libxsmm backend of ag::blas::gemm (internal to blas.cpp): JIT kernels generated for the
// instruction set the CPU reports (CPUID feature flags, not its model number), so they do not fall
// back to SSE3 on a CPU a BLAS library does not know. libxsmm 1.17 is column-major; a row-major
// C = op(A)·op(B) is the column-major product Cᵀ = op(B)ᵀ·op(A)ᵀ, the same memory read the other way.
#pragma once
#include <cstddef>
#include <string>

namespace ag::blas::xsmm {

// Row-major C (M×N) = alpha·op(A)·op(B) + beta·C (+ row_init in every row), as blas::gemm. Returns
// false, having changed nothing, when libxsmm has no kernel for the shape, or when row_init comes
// with an alpha other than 1 or a beta other than 0; the caller then does it another way.
template <class T>
bool gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, const T* row_init = nullptr);

// out (K×N, row-major) = Bᵀ for B stored N×K with row stride ldb: a transposed B packed for gemm,
// which libxsmm 1.17 cannot transpose itself. On libxsmm's JIT transpose kernels.
template <class T>
void pack_transposed(const T* B, std::size_t ldb, std::size_t N, std::size_t K, T* out);

// See blas::fp32_peak_gflops.
double fp32_peak_gflops(double seconds);

// The instruction set libxsmm generates code for: "cpx", "skx" (AVX-512), "hsw" (AVX2), ...
std::string target();

}  // namespace ag::blas::xsmm

// Every tiling of gemm_parallel against an independent answer: a naive triple loop in long double,
// at sizes that take each path (row tiles, column tiles, split K, the bias in the tile), for every
// transpose, in float and double, on both GEMM backends (libxsmm and OpenBLAS). The tolerance is the textbook bound of a K-term dot product,
// |error| <= 2 K eps sum_k |a_ik b_kj| (plus the bias term), so it grows with the size, never with luck.
#include <cmath>
#include <cstdlib>
#include <limits>

#include "autograd/blas.hpp"
#include "autograd/gemm_xsmm.hpp"
#include "testing.hpp"

namespace {

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed) {
  ag::Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(rng.normal());
  return v;
}

struct Case {
  const char* path;
  std::size_t M, N, K;
  bool bias;
  double beta;
  double alpha = 1;
};

// Runs f once on each backend, then restores the one in use.
template <class F>
void on_each_backend(F&& f) {
  const auto before = ag::blas::backend();
  for (auto b : {ag::blas::Backend::Xsmm, ag::blas::Backend::OpenBLAS}) {
    INFO("backend " << (b == ag::blas::Backend::Xsmm ? "xsmm" : "openblas"));
    ag::blas::set_backend(b);
    f();
  }
  ag::blas::set_backend(before);
}

// Through gemm_parallel, or (one_call) a single blas::gemm call.
template <class T>
void check_gemm(const Case& c, bool ta, bool tb, bool one_call = false) {
  INFO(c.path << ": M " << c.M << " N " << c.N << " K " << c.K << " trans_a " << ta << " trans_b " << tb
                << " bias " << c.bias << " alpha " << c.alpha << " beta " << c.beta << " dtype " << (sizeof(T) == 4 ? "float" : "double"));
  const std::size_t M = c.M, N = c.N, K = c.K;
  // Stored shapes: A is (M, K), or (K, M) when transposed; B is (K, N), or (N, K).
  const std::size_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  const auto A = random_values<T>(M * K, 1), B = random_values<T>(K * N, 2), bias = random_values<T>(N, 3);
  const auto C0 = random_values<T>(M * N, 4);
  std::vector<T> C = C0;
  if (c.beta == 0) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());  // beta = 0 must not read C
  if (one_call)
    ag::blas::gemm<T>(ta, tb, M, N, K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta), C.data(), ldc,
                      c.bias ? bias.data() : nullptr);
  else
    ag::blas::gemm_parallel<T>(ta, tb, M, N, K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta), C.data(), ldc,
                               c.bias ? bias.data() : nullptr);
  const double eps = std::numeric_limits<T>::epsilon();
  std::size_t bad = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      long double ref = 0, mag = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const long double a = ta ? A[k * lda + m] : A[m * lda + k], b = tb ? B[n * ldb + k] : B[k * ldb + n];
        ref += a * b, mag += std::fabs(a * b);
      }
      ref *= c.alpha, mag *= std::fabs(c.alpha);
      if (c.bias) ref += bias[n], mag += std::fabs(bias[n]);
      if (c.beta != 0) ref += c.beta * C0[m * ldc + n], mag += std::fabs(c.beta * C0[m * ldc + n]);
      const double err = std::fabs(static_cast<double>(C[m * ldc + n] - ref));
      if (!(err <= 2.0 * static_cast<double>(K + 2) * eps * static_cast<double>(mag))) {
        if (bad++ < 3) FAIL_CHECK("C[" << m << ", " << n << "] = " << C[m * ldc + n] << ", expected " << double(ref));
      }
    }
  CHECK(bad == 0);
}

// Each shape is chosen for the path it takes (autograd/blas.cpp): more than 256 rows are cut into a
// multiple of 4 row tiles; fewer than 4 row tiles cut the columns into tiles of at most 64; K >= 4096
// with a small C splits K into chunks of at most 2048 (here 5 uneven chunks); a bias fills C
// first (beta = 0; on libxsmm block by block, just before each block's kernel) or is added after the
// GEMM (beta != 0).
const Case kCases[] = {
    {"row tiles", 1100, 40, 30, false, 0.0},
    {"column tiles", 300, 200, 50, false, 0.0},
    {"split K", 48, 40, 9001, false, 0.0},
    {"split K, accumulating", 48, 40, 9001, false, 1.0},
    {"bias in the tile", 1100, 70, 20, true, 0.0},
    {"bias after the tile", 1100, 70, 20, true, 0.5},
    {"column tiles with a bias", 300, 200, 50, true, 0.0},
    // libxsmm's kernels take alpha = 1 and beta in {0, 1}: other values go through a scratch product.
    {"a single tile, alpha and beta of any value", 60, 60, 32, false, 0.5, 0.37},
    {"a single tile, alpha with beta = 0", 60, 60, 32, false, 0.0, 0.17},
};

}  // namespace

TEST_CASE("gemm_parallel equals a naive triple loop on every tiling path, float and double, both backends", "[fast][blas]") {
  on_each_backend([] {
    for (const Case& c : kCases)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          check_gemm<float>(c, ta, tb);
          check_gemm<double>(c, ta, tb);
        }
  });
}

// One call on the libxsmm backend runs its kernel on blocks of C of at most 64 rows × 48 columns and
// on depth blocks of at most 640, added up in C (gemm_xsmm.cpp): these shapes leave a short last block
// in every direction (130 = 44 + 44 + 42 rows, 100 = 34 + 34 + 32 columns, K 1300 = 434 + 434 + 432),
// and one has a single short block each way. A bias with beta = 0 is filled into each block of C just
// before its first kernel; with beta != 0 it is added after the product.
TEST_CASE("one gemm call in kernel blocks, short edge blocks included, equals a naive triple loop", "[fast][blas]") {
  const Case cases[] = {{"blocks with short edges", 130, 100, 37, false, 0.0},
                        {"blocks with short edges, a bias in each", 130, 100, 37, true, 0.0},
                        {"blocks with short edges, a bias after the product", 130, 100, 37, true, 1.0},
                        {"depth blocks, a bias in each block of C", 70, 50, 1300, true, 0.0},
                        {"blocks with short edges, alpha and beta", 130, 100, 37, false, 0.5, 0.37},
                        {"blocks with short edges, accumulating", 130, 100, 37, false, 1.0},
                        {"just over one block", 65, 49, 3, false, 0.0},
                        {"depth blocks", 70, 50, 1300, false, 0.0},
                        {"depth blocks, alpha and beta", 70, 50, 1300, false, 0.5, 0.37},
                        {"depth blocks, accumulating", 70, 50, 1300, false, 1.0}};
  on_each_backend([&] {
    for (const Case& c : cases)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          check_gemm<float>(c, ta, tb, true);
          check_gemm<double>(c, ta, tb, true);
        }
  });
}

TEST_CASE("the untiled reference switch makes one plain GEMM with the same answer", "[fast][blas]") {
  ag::blas::set_untiled(true);
  on_each_backend([] {
    for (const Case& c : kCases) check_gemm<double>(c, false, true);
  });
  ag::blas::set_untiled(false);
}

TEST_CASE("the reference path's GEMM (three plain loops) equals a long-double triple loop on every case", "[fast][blas][reference]") {
  const ag::ReferencePath path;
  CHECK_THAT(ag::blas::config(), Catch::Contains("AG_REFERENCE=1"));
  for (const Case& c : kCases)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm<float>(c, ta, tb);
        check_gemm<double>(c, ta, tb);
      }
}

// The fast path must be taken, not only correct: a libxsmm kernel that silently failed to generate
// would fall back to OpenBLAS and pass every test above.
TEST_CASE("libxsmm has a kernel for every GEMM shape of the paper's model", "[fast][blas]") {
  // (M, N, K, trans_a, trans_b): projection tiles of 256 rows at C = 96, split-K weight-gradient
  // chunks, and the attention's causal blocks of 30 queries of one head (60 positions, 32 dims).
  const std::size_t shapes[][5] = {{256, 288, 96, 0, 1}, {256, 384, 96, 0, 1}, {256, 96, 384, 0, 1},
                                   {256, 96, 288, 0, 0}, {288, 96, 1920, 1, 0}, {30, 60, 32, 0, 0},
                                   {30, 32, 60, 0, 0},   {30, 32, 60, 1, 0}};
  for (const auto& s : shapes) {
    const std::size_t M = s[0], N = s[1], K = s[2];
    const bool ta = s[3] != 0, tb = s[4] != 0;
    INFO("M " << M << " N " << N << " K " << K << " trans_a " << ta << " trans_b " << tb);
    std::vector<float> A(M * K, 1.0f), B(K * N, 1.0f), C(M * N);
    CHECK(ag::blas::xsmm::gemm<float>(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.0f, C.data(), N));
    CHECK(C[0] == float(K));
  }
  if (ag::blas::backend() == ag::blas::Backend::Xsmm && !ag::reference_path())  // unless AG_GEMM or AG_REFERENCE chose otherwise
    CHECK(ag::blas::config().find("libxsmm") != std::string::npos);
}

// libxsmm_init sets OMP_PROC_BIND=TRUE when it is unset; every child process inherited it, and it
// pinned the PyTorch reference of `icalign bench` to one core. Each test case runs in a process of
// its own, so the GEMM below is the first and initialises libxsmm.
TEST_CASE("the libxsmm backend leaves the environment as it found it", "[fast][blas]") {
  ::unsetenv("OMP_PROC_BIND");
  std::vector<float> A(64 * 64, 1.0f), B(64 * 64, 1.0f), C(64 * 64);
  REQUIRE(ag::blas::xsmm::gemm<float>(false, false, 64, 64, 64, 1.0f, A.data(), 64, B.data(), 64, 0.0f, C.data(), 64));
  CHECK(std::getenv("OMP_PROC_BIND") == nullptr);
}

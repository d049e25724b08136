// Micro-benchmark: the engine's matmul against OpenBLAS called directly, on the two GEMM shapes
// that dominate the paper's model (config A: B=256, T=60, C=96, 3 heads of 32):
//   (15360 x 96) @ (96 x 288)        the fused q,k,v projection (B*T rows)
//   768 x (60 x 32) @ (32 x 60)      attention scores, one per (batch, head)
// Prints GFLOP/s and the ratio engine / direct, for 1 and 2 threads. Medians of 15 runs.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/blas.hpp"

namespace {

double median_seconds(const std::function<void()>& f, int reps = 15) {
  f();  // warm-up: page in buffers, spin up threads
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[reps / 2];
}

void report(const char* name, double flop, double t_engine, double t_direct, const char* direct_how) {
  std::printf("%-34s engine %7.1f GFLOP/s   OpenBLAS direct %7.1f GFLOP/s (%s)   speed engine/direct %.2fx\n", name,
              flop / t_engine * 1e-9, flop / t_direct * 1e-9, direct_how, t_direct / t_engine);
}

}  // namespace

int main() {
  std::printf("BLAS: %s\n", ag::blas::config().c_str());
  ag::Rng rng(0);
  const std::size_t BT = 15360, C = 96, N3 = 288, BH = 768, T = 60, HS = 32;
  const ag::TensorF x = ag::randn<float>({BT, C}, rng), w = ag::randn<float>({C, N3}, rng);
  const ag::TensorF q = ag::randn<float>({BH, T, HS}, rng), kt = ag::randn<float>({BH, HS, T}, rng);
  std::vector<float> out(std::max(BT * N3, BH * T * T));

  for (int threads : {1, 2}) {
    std::printf("-- %d thread%s\n", threads, threads > 1 ? "s" : "");
    ag::set_num_threads(threads);

    // Engine: TBB owns the threads, OpenBLAS single-threaded inside each task.
    openblas_set_num_threads(1);
    const double e2 = median_seconds([&] { ag::matmul(x, w); });
    const double eb = median_seconds([&] { ag::matmul(q, kt); });

    // Direct: one cblas call with OpenBLAS's own threads; batched as a loop of calls.
    openblas_set_num_threads(threads);
    const double d2 = median_seconds([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BT, N3, C, 1.f, x.data(), C, w.data(), N3, 0.f,
                  out.data(), N3);
    });
    const double db = median_seconds([&] {
      for (std::size_t i = 0; i < BH; ++i)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, T, HS, 1.f, q.data() + i * T * HS, HS,
                    kt.data() + i * HS * T, T, 0.f, out.data() + i * T * T, T);
    });
    report("(15360x96) @ (96x288)", 2.0 * BT * C * N3, e2, d2, "one sgemm");
    report("768 x (60x32) @ (32x60)", 2.0 * BH * T * T * HS, eb, db, "loop of sgemm");
  }
  openblas_set_num_threads(1);
  return 0;
}

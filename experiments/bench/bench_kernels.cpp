// Op-level kernels at the paper's config-A shapes (B = 256, T = 60, C = 96, 3 heads), forward and
// forward + backward, with Google Benchmark. scripts/bench_kernels.sh runs this next to the same ops
// in PyTorch (bench_kernels_torch.py) and prints the ratio for each.
//   ./build/bench_kernels [--benchmark_filter=attention]
#include <benchmark/benchmark.h>

#include "autograd/autograd.hpp"
#include "experiments/task/losses.hpp"

namespace {

constexpr std::size_t B = 256, T = 60, C = 96, H = 3, N = 20, D = 5;

ag::TensorF input(const ag::Shape& s, std::uint64_t seed, bool grad) {
  ag::Rng rng(seed);
  ag::TensorF t = ag::randn<float>(s, rng);
  if (grad) t.requires_grad_();
  return t;
}

// Times f() (forward) or f() plus backward from a fixed upstream gradient, per iteration.
template <class F>
void run(benchmark::State& state, F f) {
  const bool backward = state.range(0) == 1;
  ag::set_num_threads(static_cast<int>(state.range(1)));
  for (auto _ : state) {
    if (backward) {
      const ag::TensorF y = f(true);
      y.backward(ag::TensorF::ones(y.shape()));
    } else {
      ag::NoGradGuard no_grad;
      benchmark::DoNotOptimize(f(false).data());
    }
  }
  ag::set_num_threads(0);
}

void linear(benchmark::State& s) {  // the MLP's c_fc: (B T, C) -> (B T, 4C)
  run(s, [x = input({B, T, C}, 1, true), w = input({4 * C, C}, 2, true), b = input({4 * C}, 3, true)](bool) {
    return ag::linear(x, w, b);
  });
}
void attention(benchmark::State& s) {
  run(s, [qkv = input({B, T, 3 * C}, 4, true)](bool) { return ag::attention_qkv(qkv, H, /*causal=*/true); });
}
void layer_norm(benchmark::State& s) {
  run(s, [x = input({B, T, C}, 5, true), g = input({C}, 6, true), b = input({C}, 7, true)](bool) {
    return ag::layer_norm(x, g, b, 1e-5f);
  });
}
void gelu(benchmark::State& s) {
  run(s, [x = input({B, T, 4 * C}, 8, true)](bool) { return ag::gelu(x); });
}
void softmax(benchmark::State& s) {  // attention-sized rows
  run(s, [x = input({B, H, T, T}, 9, true)](bool) { return ag::softmax(x, -1); });
}
void pl_loss(benchmark::State& s) {
  run(s, [pred = input({B, N, D}, 10, true), ys = input({B, N, D}, 11, false), rs = input({B, N}, 12, false)](bool) {
    return lab::pl_loss(pred, ys, rs);
  });
}

// Args: {backward (0: forward only, 1: forward + backward), threads}
void args(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int backward : {0, 1}) b->Args({backward, threads});
  b->ArgNames({"backward", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(linear)->Apply(args);
BENCHMARK(attention)->Apply(args);
BENCHMARK(layer_norm)->Apply(args);
BENCHMARK(gelu)->Apply(args);
BENCHMARK(softmax)->Apply(args);
BENCHMARK(pl_loss)->Apply(args);
BENCHMARK_MAIN();

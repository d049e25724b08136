// The cost of data parallelism per training step: the all-gather of every rank's micro-batch gradient
// and the sum in micro-batch order (experiments/train/data_parallel.cpp), for the paper's model
// (config A: 2,243,813 parameters, 9 MB of float gradient). Run it as the training would run:
//   ./build/bench_reduce                                   # N = 1: the sum alone
//   mpirun -np 2 --oversubscribe ./build/bench_reduce      # N = 2
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "experiments/train/distributed.hpp"
#include "experiments/model/model.hpp"

int main() {
  const lab::Group group = lab::Group::world();
  lab::ModelConfig cfg;
  cfg.n_layer = 20, cfg.n_embd = 96, cfg.n_head = 3;
  ag::Rng rng(0);
  const lab::ICAlignTransformer<float> model(cfg, rng);
  const std::size_t n = model.num_parameters();
  std::vector<float> mine(n + 2, 1e-3f * static_cast<float>(group.rank() + 1)), grad(n);
  using Clock = std::chrono::steady_clock;
  std::vector<double> gather_ms, sum_ms;
  for (int rep = 0; rep < 23; ++rep) {
    group.barrier();
    const auto t0 = Clock::now();
    const std::vector<float> all = group.all_gather(mine);
    const auto t1 = Clock::now();
    const std::size_t m = static_cast<std::size_t>(group.size());
    for (std::size_t k = 0; k < n; ++k) {  // as data_parallel_gradient: in order, then the mean
      float s = all[k];
      for (std::size_t i = 1; i < m; ++i) s += all[i * (n + 2) + k];
      grad[k] = s / static_cast<float>(m);
    }
    const auto t2 = Clock::now();
    if (rep >= 3) {
      gather_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      sum_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  if (group.leader())
    std::printf("ranks %d: gradient %.1f MB per rank; all-gather %.2f ms, ordered sum %.2f ms per step (median of 20)\n",
                group.size(), static_cast<double>(n) * 4 / 1e6, median(gather_ms), median(sum_ms));
  lab::finalize_group();
}

#include "experiments/train/on_policy.hpp"

#include <algorithm>

#include "experiments/task/critic.hpp"

namespace lab {

Batch<float> with_own_answers(const ICAlignTransformer<float>& model, const TaskConfig& task, Batch<double> b,
                              std::size_t m, double explore, ag::Rng& rng) {
  const std::size_t B = b.xs.shape()[0], N = b.xs.shape()[1], d = b.xs.shape()[2];
  // A Batch copy shares its tensors: give the triplets we overwrite storage of their own.
  b.ys = ag::copy_as<double>(b.ys), b.rs = ag::copy_as<double>(b.rs), b.rs_true = ag::copy_as<double>(b.rs_true);
  const std::size_t slots = N - 1 - m;  // k0 in [1, N-1-m]: a sampled triplet first, an x-token after
  const std::size_t k0 = 1 + std::min(slots - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(slots)));
  const Batch<double> truth = b;  // y* and e, which the rollout leaves alone
  for (std::size_t n = k0; n < k0 + m; ++n) {
    const ag::TensorD answers = model_answers(model, b);  // x-token n has seen triplets 0..n-1
    ag::TensorD a = ag::TensorD::empty({B, d});
    for (std::size_t s = 0; s < B; ++s) std::copy_n(answers.data() + (s * N + n) * d, d, a.data() + s * d);
    append_critiqued(task, truth, b, n, a, {0.0, explore}, rng, rng);  // an accurate critic
  }
  return {ag::copy_as<float>(b.xs), ag::copy_as<float>(b.ys), ag::copy_as<float>(b.rs), ag::copy_as<float>(b.rs_true), ag::copy_as<float>(b.ystar),
          b.e.defined() ? ag::copy_as<float>(b.e) : ag::TensorF{}};
}

}  // namespace lab

#include "experiments/lab/on_policy.hpp"

#include <algorithm>

#include "experiments/lab/evaluate.hpp"
#include "experiments/lab/self_correction.hpp"

namespace lab {

namespace {

template <class To, class From>
ag::Tensor<To> cast(const ag::Tensor<From>& t) {
  const std::vector<From> v = t.to_vector();
  return ag::Tensor<To>::from_vector(t.shape(), std::vector<To>(v.begin(), v.end()));
}

}  // namespace

Batch<float> with_own_answers(const ICAlignTransformer<float>& model, const TaskConfig& task, Batch<double> b,
                              std::size_t m, ag::Rng& rng) {
  const std::size_t B = b.xs.shape()[0], N = b.xs.shape()[1], d = b.xs.shape()[2];
  // A Batch copy shares its tensors: give the triplets we overwrite storage of their own.
  b.ys = cast<double>(b.ys), b.rs = cast<double>(b.rs), b.rs_true = cast<double>(b.rs_true);
  const std::size_t slots = N - 1 - m;  // k0 in [1, N-1-m]: a sampled triplet first, an x-token after
  const std::size_t k0 = 1 + std::min(slots - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(slots)));
  for (std::size_t n = k0; n < k0 + m; ++n) {
    const ag::TensorD answers = model_answers(model, b);  // x-token n has seen triplets 0..n-1
    ag::TensorD a = ag::TensorD::empty({B, d});
    for (std::size_t s = 0; s < B; ++s) std::copy_n(answers.data() + (s * N + n) * d, d, a.data() + s * d);
    const Critique c = critique(task, b, a);
    for (std::size_t s = 0; s < B; ++s) {
      std::copy_n(c.response.data() + s * d, d, b.ys.data() + (s * N + n) * d);
      b.rs.data()[s * N + n] = b.rs_true.data()[s * N + n] = c.score[s];
    }
  }
  return {cast<float>(b.xs), cast<float>(b.ys), cast<float>(b.rs), cast<float>(b.rs_true), cast<float>(b.ystar)};
}

}  // namespace lab

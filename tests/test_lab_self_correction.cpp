// The self-correction critic: it gives training-like responses their true reward, is blind to an
// answer's length, and rescales answers to the length of the training response of the same quality;
// its projection of a training response is that response.
#include <cmath>

#include "experiments/lab/on_policy.hpp"
#include "experiments/lab/evaluate.hpp"
#include "experiments/lab/self_correction.hpp"
#include "testing.hpp"

using Catch::Matchers::WithinAbs;

TEST_CASE("the critic scores responses on the training line by their true reward", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(3);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 8, rng);
  const std::size_t N = task.n_points, d = task.n_dims;
  for (std::size_t j : {0, 7, 19}) {
    const ag::TensorD y = ag::reshape(ag::slice(b.ys, 1, j, j + 1), {8, long(d)});
    const lab::Critique c = lab::critique(task, b, y);
    for (std::size_t s = 0; s < 8; ++s) {
      CHECK_THAT(c.score[s], WithinAbs(b.rs_true.data()[s * N + j], 1e-9));
      for (std::size_t a = 0; a < d; ++a) {
        CHECK_THAT(c.response.data()[s * d + a], WithinAbs(y.data()[s * d + a], 1e-6));
        CHECK_THAT(c.projection.data()[s * d + a], WithinAbs(y.data()[s * d + a], 1e-6));  // y_r is the response
      }
    }
    // the same answers scaled by 3: the same scores, the same responses
    const lab::Critique c3 = lab::critique(task, b, y * 3.0);
    for (std::size_t s = 0; s < 8; ++s) CHECK_THAT(c3.score[s], WithinAbs(c.score[s], 1e-9));
  }
  const lab::Critique top = lab::critique(task, b, b.ystar);  // cos is flat at the top: r is found to ~sqrt(eps)
  for (double r : top.score) CHECK_THAT(r, WithinAbs(1.0, 1e-6));
  const lab::Critique bottom = lab::critique(task, b, lab::bad_responses(b));
  for (double r : bottom.score) CHECK(r < 1e-9);
}

TEST_CASE("spread responses: each at the length of y*, rewarded by its quality, and the critic agrees", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  task.responses = lab::Responses::Spread;
  ag::Rng rng(5);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 16, rng);
  const std::size_t N = task.n_points, d = task.n_dims;
  double lowest = 1, highest = 0;
  for (std::size_t j = 0; j < N; ++j) {
    const ag::TensorD y = ag::reshape(ag::slice(b.ys, 1, j, j + 1), {16, long(d)});
    const lab::Critique c = lab::critique(task, b, y * 0.25);  // blind to length
    for (std::size_t s = 0; s < 16; ++s) {
      double norm_y = 0, norm_star = 0, dot = 0;
      for (std::size_t a = 0; a < d; ++a) {
        const double yi = y.data()[s * d + a], ti = b.ystar.data()[s * d + a];
        norm_y += yi * yi, norm_star += ti * ti, dot += yi * ti;
        CHECK_THAT(c.response.data()[s * d + a], WithinAbs(yi, 1e-9));  // rescaled back to ‖y*‖
      }
      CHECK_THAT(std::sqrt(norm_y), WithinAbs(std::sqrt(norm_star), 1e-9));
      const double reward = b.rs.data()[s * N + j];
      CHECK_THAT(reward, WithinAbs(0.5 + 0.5 * dot / std::sqrt(norm_y * norm_star), 1e-12));
      CHECK_THAT(c.score[s], WithinAbs(reward, 1e-12));
      lowest = std::min(lowest, reward), highest = std::max(highest, reward);
    }
  }
  CHECK(lowest < 0.2);  // the responses cover good and bad directions alike
  CHECK(highest > 0.95);
  const lab::Critique top = lab::critique(task, b, b.ystar);
  for (double r : top.score) CHECK_THAT(r, WithinAbs(1.0, 1e-12));
  CHECK_THROWS_WITH(lab::parse_responses("cone"), "responses must be line or spread, got 'cone'");
}

TEST_CASE("on-policy contexts: m consecutive triplets become the model's own scored answers, the rest is kept", "[lab][selfcorrect]") {
  lab::ModelConfig mc;
  mc.n_embd = 16, mc.n_layer = 1, mc.n_head = 2;
  ag::Rng init(1);
  const lab::ICAlignTransformer<float> model(mc, init);
  lab::TaskConfig task;
  ag::Rng data(2);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 4, data);
  const std::size_t N = task.n_points, d = task.n_dims, m = 3;
  ag::Rng pick(9), pick_again(9);
  const lab::Batch<float> own = lab::with_own_answers(model, task, b, m, 0.0, pick);
  const lab::Batch<float> again = lab::with_own_answers(model, task, b, m, 0.0, pick_again);
  CHECK(own.ys.to_vector() == again.ys.to_vector());  // deterministic given the stream
  std::vector<std::size_t> changed;
  for (std::size_t n = 0; n < N; ++n) {
    bool differs = false;
    for (std::size_t s = 0; s < 4; ++s)
      for (std::size_t a = 0; a < d; ++a)
        differs |= own.ys.data()[(s * N + n) * d + a] != static_cast<float>(b.ys.data()[(s * N + n) * d + a]);
    if (differs) changed.push_back(n);
  }
  REQUIRE(changed.size() == m);
  CHECK(changed.back() - changed.front() == m - 1);
  CHECK(changed.front() >= 1);
  CHECK(changed.back() <= N - 2);
  // The first of them is the critic's view of the model's answer from the sampled triplets before it.
  const std::size_t k0 = changed.front();
  const ag::TensorD answers = lab::model_answers(model, b);
  ag::TensorD a = ag::TensorD::empty({4, d});
  for (std::size_t s = 0; s < 4; ++s) std::copy_n(answers.data() + (s * N + k0) * d, d, a.data() + s * d);
  const lab::Critique c = lab::critique(task, b, a);
  for (std::size_t s = 0; s < 4; ++s) {
    CHECK(own.rs.data()[s * N + k0] == static_cast<float>(c.score[s]));
    for (std::size_t i = 0; i < d; ++i) CHECK(own.ys.data()[(s * N + k0) * d + i] == static_cast<float>(c.response.data()[s * d + i]));
  }
}

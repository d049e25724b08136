// The self-correction critic: it gives training-like responses their true reward, is blind to an
// answer's length, and rescales answers to the length of the training response of the same quality;
// its projection of a training response is that response.
#include <cmath>

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
    const lab::Critique c = lab::critique(b, y);
    for (std::size_t s = 0; s < 8; ++s) {
      CHECK_THAT(c.score[s], WithinAbs(b.rs_true.data()[s * N + j], 1e-9));
      for (std::size_t a = 0; a < d; ++a) {
        CHECK_THAT(c.response.data()[s * d + a], WithinAbs(y.data()[s * d + a], 1e-6));
        CHECK_THAT(c.projection.data()[s * d + a], WithinAbs(y.data()[s * d + a], 1e-6));  // y_r is the response
      }
    }
    // the same answers scaled by 3: the same scores, the same responses
    const lab::Critique c3 = lab::critique(b, y * 3.0);
    for (std::size_t s = 0; s < 8; ++s) CHECK_THAT(c3.score[s], WithinAbs(c.score[s], 1e-9));
  }
  const lab::Critique top = lab::critique(b, b.ystar);  // cos is flat at the top: r is found to ~sqrt(eps)
  for (double r : top.score) CHECK_THAT(r, WithinAbs(1.0, 1e-6));
  const lab::Critique bottom = lab::critique(b, lab::bad_responses(b));
  for (double r : bottom.score) CHECK(r < 1e-9);
}

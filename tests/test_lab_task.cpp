// The task generator: shapes, the exact mixtures, the noise fraction, seeding, config errors.
#include <cmath>

#include "experiments/task/task.hpp"
#include "testing.hpp"

using Catch::Matchers::WithinAbs;

TEST_CASE("sample_batch: shapes, repeated query, rewards between 0 and 1", "[lab][task]") {
  ag::Rng rng(1);
  const auto b = lab::sample_batch<double>({}, 8, rng);
  CHECK(b.xs.shape() == ag::Shape{8, 20, 5});
  CHECK(b.ys.shape() == ag::Shape{8, 20, 5});
  CHECK(b.rs.shape() == ag::Shape{8, 20});
  CHECK(b.ystar.shape() == ag::Shape{8, 5});
  for (std::size_t s = 0; s < 8; ++s)
    for (std::size_t n = 1; n < 20; ++n)
      for (std::size_t j = 0; j < 5; ++j) CHECK(b.xs.data()[(s * 20 + n) * 5 + j] == b.xs.data()[s * 20 * 5 + j]);
  for (double r : b.rs.to_vector()) CHECK((r >= 0.0 && r < 1.0));
  CHECK(b.rs.to_vector() == b.rs_true.to_vector());  // no noise by default
}

namespace {
// Every response of every sequence is r y* + (1 - r) e, with r the true (noise-free) reward and one e
// per sequence. Two responses determine y*: y* = ((1 - r2) y1 - (1 - r1) y2) / (r1 - r2).
void check_exact_mixtures(const lab::Batch<double>& b) {
  const std::size_t B = b.ys.shape()[0], N = b.ys.shape()[1], d = b.ys.shape()[2];
  for (std::size_t s = 0; s < B; ++s) {
    const double r1 = b.rs_true.data()[s * N], r2 = b.rs_true.data()[s * N + 1];
    std::vector<double> ystar(d), e(d);
    for (std::size_t j = 0; j < d; ++j) {
      const double y1 = b.ys.data()[(s * N) * d + j], y2 = b.ys.data()[(s * N + 1) * d + j];
      ystar[j] = ((1 - r2) * y1 - (1 - r1) * y2) / (r1 - r2);
      e[j] = (y1 - r1 * ystar[j]) / (1 - r1);
      CHECK_THAT(ystar[j], WithinAbs(b.ystar.data()[s * d + j], 1e-8));
    }
    for (std::size_t n = 0; n < N; ++n) {
      const double r = b.rs_true.data()[s * N + n];
      for (std::size_t j = 0; j < d; ++j)
        CHECK_THAT(b.ys.data()[(s * N + n) * d + j], WithinAbs(r * ystar[j] + (1 - r) * e[j], 1e-8));
    }
  }
}
}  // namespace

TEST_CASE("responses are exact mixtures r y* + (1 - r) e of one target and one bad response", "[lab][task]") {
  ag::Rng rng(2);
  check_exact_mixtures(lab::sample_batch<double>({}, 4, rng));
}

TEST_CASE("reward noise: the same sequences at every p, each reward replaced independently with probability p", "[lab][task]") {
  const std::size_t B = 200, N = 20;
  ag::Rng clean_rng(3);
  const auto clean = lab::sample_batch<double>({}, B, clean_rng);
  std::vector<double> previous = clean.rs.to_vector();
  for (double p : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    INFO("p = " << p);
    ag::Rng rng(3);
    lab::TaskConfig noisy;
    noisy.reward_noise = p;
    const auto batch = lab::sample_batch<double>(noisy, B, rng);
    check_exact_mixtures(batch);  // the responses keep their true mixtures
    CHECK(batch.xs.to_vector() == clean.xs.to_vector());  // paired: only the in-context rewards differ
    CHECK(batch.ys.to_vector() == clean.ys.to_vector());
    CHECK(batch.rs_true.to_vector() == clean.rs_true.to_vector());
    const std::vector<double> rs = batch.rs.to_vector();
    std::size_t changed = 0;
    for (std::size_t i = 0; i < B * N; ++i) {
      changed += rs[i] != clean.rs_true.data()[i];
      CHECK((previous[i] == clean.rs_true.data()[i] || rs[i] == previous[i]));  // nested across p
    }
    const double expected = p * B * N, sd = std::sqrt(B * N * p * (1 - p));
    CHECK(std::abs(static_cast<double>(changed) - expected) <= 5 * sd + 1e-9);
    previous = rs;
  }
}

TEST_CASE("the same seed gives the same batch", "[lab][task]") {
  ag::Rng a(7), b(7);
  CHECK(lab::sample_batch<float>({}, 3, a).ys.to_vector() == lab::sample_batch<float>({}, 3, b).ys.to_vector());
}

TEST_CASE("bad task configs name the field", "[lab][task][errors]") {
  ag::Rng rng(0);
  lab::TaskConfig c;
  c.reward_noise = 1.5;
  CHECK_THROWS_WITH(lab::sample_batch<float>(c, 1, rng), Catch::Contains("task.reward_noise") && Catch::Contains("[0, 1]"));
  c = {};
  c.n_points = 2;
  CHECK_THROWS_WITH(lab::sample_batch<float>(c, 1, rng), Catch::Contains("task.n_points"));
}

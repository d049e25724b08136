// The self-correction critic: it gives training-like responses their true reward and is blind to an
// answer's length; what joins the context depends only on the answer, the context and the reported
// score, never on the truth the critic scores against; its noise reaches the reported scores.
#include <cmath>

#include "experiments/task/critic.hpp"
#include "experiments/studies/evaluate.hpp"
#include "experiments/train/on_policy.hpp"
#include "testing.hpp"

using Catch::Matchers::WithinAbs;

namespace {

ag::TensorD triplet(const ag::TensorD& ys, std::size_t j) {  // (B, N, d) -> (B, d)
  return ag::reshape(ag::slice(ys, 1, j, j + 1), {long(ys.shape()[0]), long(ys.shape()[2])});
}

lab::Batch<double> own_copy(const lab::Batch<double>& b) {
  return {ag::copy_as<double>(b.xs), ag::copy_as<double>(b.ys), ag::copy_as<double>(b.rs), ag::copy_as<double>(b.rs_true),
          ag::copy_as<double>(b.ystar), b.e.defined() ? ag::copy_as<double>(b.e) : ag::TensorD{}};
}

double norm(const double* v, std::size_t d) {
  double n = 0;
  for (std::size_t i = 0; i < d; ++i) n += v[i] * v[i];
  return std::sqrt(n);
}

}  // namespace

TEST_CASE("the critic scores responses on the training line by their true reward, blind to length", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(3);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 8, rng);
  const std::size_t N = task.n_points;
  for (std::size_t j : {0, 7, 19}) {
    const ag::TensorD y = triplet(b.ys, j);
    const std::vector<double> score = lab::critic_scores(task, b, y), score3 = lab::critic_scores(task, b, y * 3.0);
    for (std::size_t s = 0; s < 8; ++s) {
      CHECK_THAT(score[s], WithinAbs(b.rs_true.data()[s * N + j], 1e-9));
      CHECK_THAT(score3[s], WithinAbs(score[s], 1e-9));
    }
  }
  for (double r : lab::critic_scores(task, b, b.ystar)) CHECK_THAT(r, WithinAbs(1.0, 1e-6));  // cos is flat at the top
  for (double r : lab::critic_scores(task, b, lab::bad_responses(b))) CHECK(r < 1e-9);
}

TEST_CASE("the e a batch keeps is the bad response every line response mixes with y*", "[lab][task]") {
  lab::TaskConfig task;
  ag::Rng rng(4);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 4, rng);
  const std::size_t N = task.n_points, d = task.n_dims;
  for (std::size_t s = 0; s < 4; ++s)
    for (std::size_t j = 0; j < N; ++j) {
      const double r = b.rs_true.data()[s * N + j];
      for (std::size_t i = 0; i < d; ++i)
        CHECK_THAT(b.ys.data()[(s * N + j) * d + i], WithinAbs(r * b.ystar.data()[s * d + i] + (1 - r) * b.e.data()[s * d + i], 1e-12));
    }
  task.responses = lab::Responses::Spread;
  CHECK_THROWS_WITH(lab::bad_responses(lab::sample_batch<double>(task, 2, rng)), Catch::Contains("spread"));
}

TEST_CASE("an appended answer keeps its direction at the mean length of the context's responses", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(6);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 5, rng);
  const std::size_t N = task.n_points, d = task.n_dims, n = 4;
  const ag::TensorD a = ag::randn<double>({5, d}, rng);
  const ag::TensorD out = lab::at_context_length(b, n, a * 7.0);
  for (std::size_t s = 0; s < 5; ++s) {
    double mean = 0;
    for (std::size_t j = 0; j < n; ++j) mean += norm(b.ys.data() + (s * N + j) * d, d) / n;
    CHECK_THAT(norm(out.data() + s * d, d), WithinAbs(mean, 1e-12));
    const double scale = norm(out.data() + s * d, d) / norm(a.data() + s * d, d);
    for (std::size_t i = 0; i < d; ++i) CHECK_THAT(out.data()[s * d + i], WithinAbs(a.data()[s * d + i] * scale, 1e-12));
  }
}

TEST_CASE("no side channel: what joins the context does not depend on the truth the critic scores against", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(8);
  const std::size_t B = 32, N = task.n_points, d = task.n_dims, n = 5;
  const lab::Batch<double> b = lab::sample_batch<double>(task, B, rng);
  // The same context, another truth: other y* and e (so every answer's true quality differs).
  lab::Batch<double> other_truth = own_copy(b);
  const lab::Batch<double> elsewhere = lab::sample_batch<double>(task, B, rng);
  other_truth.ystar = elsewhere.ystar, other_truth.e = elsewhere.e;
  const ag::TensorD a = ag::randn<double>({B, d}, rng);
  for (double sigma : {0.0, 1.0}) {
    auto appended = [&](const lab::Batch<double>& truth, double q) {
      lab::Batch<double> ctx = own_copy(b);
      ag::Rng noise(11), explore(12);
      lab::append_critiqued(task, truth, ctx, n, a, {q, sigma}, noise, explore);
      std::vector<double> rs(B);
      for (std::size_t s = 0; s < B; ++s) rs[s] = ctx.rs.data()[s * N + n];
      return std::make_pair(triplet(ctx.ys, n).to_vector(), rs);
    };
    INFO("explore " << sigma);
    const auto [ys1, rs1] = appended(b, 1.0);
    const auto [ys2, rs2] = appended(other_truth, 1.0);
    CHECK(ys1 == ys2);  // a random critic: the appended triplet is bit for bit the same
    CHECK(rs1 == rs2);
    const auto [ys3, rs3] = appended(b, 0.0);
    const auto [ys4, rs4] = appended(other_truth, 0.0);
    CHECK(ys3 == ys4);  // an accurate critic: only the score changes
    CHECK(ys3 == ys1);
    std::size_t differ = 0;  // (answers below cos(e, y*) score 0 under either truth)
    for (std::size_t s = 0; s < B; ++s) differ += rs3[s] != rs4[s];
    CHECK(differ >= B / 2);
  }
}

TEST_CASE("the critic's noise reaches the reported scores: true at q = 0, fresh draws at q = 1", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(9);
  const std::size_t B = 400, N = task.n_points, d = task.n_dims, n = 3;
  const lab::Batch<double> b = lab::sample_batch<double>(task, B, rng);
  const ag::TensorD a = ag::randn<double>({B, d}, rng);
  const std::vector<double> truth = lab::critic_scores(task, b, lab::at_context_length(b, n, a));
  auto reported = [&](double q) {
    lab::Batch<double> ctx = own_copy(b);
    ag::Rng noise(21), explore(22);
    lab::append_critiqued(task, b, ctx, n, a, {q, 0.0}, noise, explore);
    std::vector<double> r(B);
    for (std::size_t s = 0; s < B; ++s) {
      r[s] = ctx.rs.data()[s * N + n];
      CHECK(ctx.rs_true.data()[s * N + n] == truth[s]);
    }
    return r;
  };
  CHECK(reported(0.0) == truth);
  ag::Rng same(21);  // the stream's second draw of each pair is the fresh score
  const std::vector<double> random = reported(1.0);
  for (std::size_t s = 0; s < B; ++s) {
    same.uniform();
    CHECK(random[s] == same.uniform());
  }
  const std::vector<double> half = reported(0.5);
  std::size_t replaced = 0;
  for (std::size_t s = 0; s < B; ++s) {
    CHECK((half[s] == truth[s] || half[s] == random[s]));  // nested: a replaced score is the same fresh draw
    replaced += half[s] != truth[s];
  }
  CHECK(replaced > 150);  // Binomial(400, 0.5): mean 200, sd 10
  CHECK(replaced < 250);
}

TEST_CASE("the constant critic reports 0.5 for every answer and draws no noise", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  ag::Rng rng(10);
  const std::size_t B = 6, N = task.n_points, d = task.n_dims, n = 3;
  const lab::Batch<double> b = lab::sample_batch<double>(task, B, rng);
  lab::Batch<double> ctx = own_copy(b);
  ag::Rng noise(1), explore(2), untouched(1);
  lab::append_critiqued(task, b, ctx, n, ag::randn<double>({B, d}, rng), {1.0, 0.0, 0.5}, noise, explore);
  for (std::size_t s = 0; s < B; ++s) CHECK(ctx.rs.data()[s * N + n] == 0.5);
  CHECK(noise.uniform() == untouched.uniform());
}

TEST_CASE("spread responses: each at the length of y*, rewarded by its quality, and the critic agrees", "[lab][selfcorrect]") {
  lab::TaskConfig task;
  task.responses = lab::Responses::Spread;
  ag::Rng rng(5);
  const lab::Batch<double> b = lab::sample_batch<double>(task, 16, rng);
  const std::size_t N = task.n_points, d = task.n_dims;
  double lowest = 1, highest = 0;
  for (std::size_t j = 0; j < N; ++j) {
    const ag::TensorD y = triplet(b.ys, j);
    const std::vector<double> score = lab::critic_scores(task, b, y * 0.25);  // blind to length
    for (std::size_t s = 0; s < 16; ++s) {
      const double *yi = y.data() + s * d, *ti = b.ystar.data() + s * d;
      double dot = 0;
      for (std::size_t a = 0; a < d; ++a) dot += yi[a] * ti[a];
      CHECK_THAT(norm(yi, d), WithinAbs(norm(ti, d), 1e-9));
      const double reward = b.rs.data()[s * N + j];
      CHECK_THAT(reward, WithinAbs(0.5 + 0.5 * dot / (norm(yi, d) * norm(ti, d)), 1e-12));
      CHECK_THAT(score[s], WithinAbs(reward, 1e-12));
      lowest = std::min(lowest, reward), highest = std::max(highest, reward);
    }
  }
  CHECK(lowest < 0.2);  // the responses cover good and bad directions alike
  CHECK(highest > 0.95);
  for (double r : lab::critic_scores(task, b, b.ystar)) CHECK_THAT(r, WithinAbs(1.0, 1e-12));
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
  // The first of them is the loop's step on the model's answer from the sampled triplets before it.
  const std::size_t k0 = changed.front();
  const ag::TensorD answers = lab::model_answers(model, b);
  ag::TensorD a = ag::TensorD::empty({4, d});
  for (std::size_t s = 0; s < 4; ++s) std::copy_n(answers.data() + (s * N + k0) * d, d, a.data() + s * d);
  lab::Batch<double> step = own_copy(b);
  ag::Rng unused(0);
  lab::append_critiqued(task, b, step, k0, a, {0.0, 0.0}, unused, unused);
  for (std::size_t s = 0; s < 4; ++s) {
    CHECK(own.rs.data()[s * N + k0] == static_cast<float>(step.rs.data()[s * N + k0]));
    for (std::size_t i = 0; i < d; ++i) CHECK(own.ys.data()[(s * N + k0) * d + i] == static_cast<float>(step.ys.data()[(s * N + k0) * d + i]));
  }
}

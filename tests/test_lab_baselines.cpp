// The evaluation metric and the baselines, on hand-made and sampled sequences.
#include <numeric>

#include "experiments/methods/answerer.hpp"
#include "experiments/task/losses.hpp"
#include "testing.hpp"

using Catch::Matchers::WithinAbs;

namespace {
double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

// One sequence, N = 3, d = 2, with hand-picked responses and rewards.
lab::Batch<double> hand_batch() {
  lab::Batch<double> b;
  b.xs = ag::TensorD::from_vector({1, 3, 2}, {1, 0, 1, 0, 1, 0});
  b.ys = ag::TensorD::from_vector({1, 3, 2}, {1, 0, 0, 2, 3, 3});
  b.rs = ag::TensorD::from_vector({1, 3}, {0.25, 0.75, 0.5});
  b.rs_true = b.rs;
  b.ystar = ag::TensorD::from_vector({1, 2}, {0, 1});
  return b;
}
}  // namespace

TEST_CASE("alignment error is 1 - cos: 0 when aligned, 2 when opposite, scale-free", "[lab][eval]") {
  const auto e = lab::alignment_error(ag::TensorD::from_vector({3, 2}, {2, 0, -1, 0, 0, 5}),
                                      ag::TensorD::from_vector({3, 2}, {1, 0, 1, 0, 1, 0}));
  CHECK_THAT(e[0], WithinAbs(0.0, 1e-15));
  CHECK_THAT(e[1], WithinAbs(2.0, 1e-15));
  CHECK_THAT(e[2], WithinAbs(1.0, 1e-15));
}

TEST_CASE("mean, top-1 and reward-weighted baselines by hand", "[lab][eval]") {
  const auto b = hand_batch();
  CHECK(lab::mean_response(b, 2).to_vector() == std::vector<double>{0.5, 1.0});
  const auto m3 = lab::mean_response(b, 3).to_vector();
  CHECK_THAT(m3[0], WithinAbs(4.0 / 3, 1e-15));
  CHECK_THAT(m3[1], WithinAbs(5.0 / 3, 1e-15));
  CHECK(lab::best_response(b, 1).to_vector() == std::vector<double>{1, 0});
  CHECK(lab::best_response(b, 3).to_vector() == std::vector<double>{0, 2});  // reward 0.75
  const auto w = lab::reward_weighted(b, 2).to_vector();                      // (0.25 y0 + 0.75 y1) / 1
  CHECK_THAT(w[0], WithinAbs(0.25, 1e-15));
  CHECK_THAT(w[1], WithinAbs(1.5, 1e-15));
  CHECK_THROWS_WITH(lab::mean_response(b, 0), Catch::Contains("k must be in 1..3"));
}

TEST_CASE("the exact solution recovers y* from two responses when the rewards are true", "[lab][eval]") {
  ag::Rng rng(1);
  const auto b = lab::sample_batch<double>({}, 64, rng);
  for (std::size_t k : {2, 5, 19}) CHECK(mean_of(lab::alignment_error(lab::exact_solution(b, k), b.ystar)) < 1e-9);
}

TEST_CASE("the GD objective is the PL loss of one answer against the context", "[lab][eval]") {
  // pl_loss_context for one answer equals the per-position PL loss when that answer sits at position k.
  const agtest::TensorD ys = agtest::randd({2, 5, 3}, 2), rs = agtest::uniformd({2, 5}, 3, 0, 1);
  const agtest::TensorD pred = agtest::randd({2, 3}, 4);
  // Put the answer at position 4 (N = 5; other positions fixed): only the term n = 4 of pl_loss depends
  // on it, and pl_loss is a mean over 3 positions and 2 sequences, so differences between two answers
  // must agree up to that factor of 6.
  const agtest::TensorD pred2 = agtest::randd({2, 3}, 5);
  auto at_position = [&](const agtest::TensorD& a) {
    agtest::TensorD full = agtest::TensorD::zeros({2, 5, 3});
    for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t n = 0; n < 5; ++n)
        for (std::size_t j = 0; j < 3; ++j) full.data()[(s * 5 + n) * 3 + j] = n == 4 ? a.data()[s * 3 + j] : 1.0 + j;
    return full;
  };
  const agtest::TensorD ys4 = ag::slice(ys, 1, 0, 4);
  const agtest::TensorD rs4 = ag::slice(rs, 1, 0, 4);
  const double diff_full = (lab::pl_loss(at_position(pred), ys, rs).item() - lab::pl_loss(at_position(pred2), ys, rs).item()) * 3 * 2;
  const auto a = lab::pl_loss_context(pred, ys4, rs4).to_vector(), c = lab::pl_loss_context(pred2, ys4, rs4).to_vector();
  CHECK_THAT(diff_full, WithinAbs((a[0] + a[1]) - (c[0] + c[1]), 1e-12));
}

TEST_CASE("GD on the PL loss improves with more examples and lowers its own loss", "[lab][eval]") {
  ag::Rng data(5);
  const auto b = lab::sample_batch<double>({}, 256, data);
  ag::Rng i1(6), i2(6), i3(6);
  const double err_k1 = mean_of(lab::alignment_error(lab::gd_answers(b, 1, {}, i1), b.ystar));
  const double err_k19 = mean_of(lab::alignment_error(lab::gd_answers(b, 19, {}, i2), b.ystar));
  INFO("GD error with 1 example " << err_k1 << ", with 19 examples " << err_k19);
  CHECK(err_k19 < 0.5 * err_k1);  // one response carries no ranking: GD cannot move from its random init
  const agtest::TensorD ys = ag::slice(b.ys, 1, 0, 19), rs = ag::slice(b.rs, 1, 0, 19);
  lab::GdOptions zero_steps;
  zero_steps.steps = 0;
  ag::Rng i4(6);
  const double before = mean_of(lab::pl_loss_context(lab::gd_answers(b, 19, zero_steps, i4), ys, rs).to_vector());
  const double after = mean_of(lab::pl_loss_context(lab::gd_answers(b, 19, {}, i3), ys, rs).to_vector());
  CHECK(after < before);
}

TEST_CASE("answerers: a model answers at x-token k, precomputed answers equal it, GD and baselines by name", "[lab][eval]") {
  lab::TaskConfig task;
  task.n_dims = 4, task.n_points = 6;
  ag::Rng rng(5);
  const auto b = lab::sample_batch<double>(task, 8, rng);
  lab::ModelConfig mc;
  mc.n_dims = 4, mc.n_points = 6, mc.n_embd = 8, mc.n_layer = 1, mc.n_head = 2;
  ag::Rng init(6);
  const lab::ICAlignTransformer<float> model(mc, init);
  const lab::Answerer live = lab::model_answerer(model), cached = lab::answers_of(lab::model_answers(model, b));
  for (std::size_t k : {1, 3, 5}) {
    const ag::TensorD a = live(b, k), c = cached(b, k);
    REQUIRE(a.shape() == ag::Shape{8, 4});
    for (std::size_t i = 0; i < a.numel(); ++i) CHECK(a.data()[i] == c.data()[i]);
  }
  lab::GdOptions opt;
  opt.steps = 5;
  const ag::TensorD g = lab::gd_answerer(opt, 11)(b, 3), h = lab::gd_answers_seeded(b, 3, opt, 11);
  for (std::size_t i = 0; i < g.numel(); ++i) CHECK(g.data()[i] == h.data()[i]);
  const ag::TensorD m = lab::baseline("mean_response")(b, 3), n = lab::mean_response(b, 3);
  for (std::size_t i = 0; i < m.numel(); ++i) CHECK(m.data()[i] == n.data()[i]);
  CHECK(lab::baseline("exact").name == "exact");
  CHECK_THROWS_WITH(lab::baseline("median"), Catch::Contains("no baseline called 'median'") && Catch::Contains("mean_response"));
}

// The agreement and invariance measures of `icalign agree`, on answerers whose answer is known: GD
// against itself agrees perfectly and, since the PL loss sees only the order of the rewards, GD is
// exactly invariant to increasing maps of them; an answerer that weighs by reward values is not.
#include "experiments/studies/agreement.hpp"
#include "experiments/methods/baselines.hpp"
#include "experiments/studies/sensitivity.hpp"
#include "testing.hpp"

namespace {

lab::Batch<double> batch(std::size_t B, std::uint64_t seed) {
  lab::TaskConfig task;
  task.n_dims = 5, task.n_points = 8;
  ag::Rng rng(seed);
  return lab::sample_batch<double>(task, B, rng);
}

const lab::Answerer kGd{"gd", [](const lab::Batch<double>& b, std::size_t k) {
  ag::Rng init(100 + k);
  lab::GdOptions opt;
  opt.steps = 20;
  return lab::gd_answers(b, k, opt, init);
}};

}  // namespace

TEST_CASE("agreement: GD agrees with itself and is exactly invariant to increasing maps of the rewards", "[lab][agreement]") {
  const auto b = batch(16, 1);
  for (std::size_t k : {2, 5, 7}) {
    INFO("k = " << k);
    const ag::TensorD g = kGd(b, k);
    for (double c : lab::cosines(g, g)) CHECK(c == Approx(1.0).margin(1e-12));
    for (double dist : lab::direction_distances(g, g)) CHECK(dist == 0.0);
    for (const auto& map : lab::increasing_reward_maps()) {
      INFO("map " << map.name);
      CHECK(kGd(map.apply(b, k), k).to_vector() == g.to_vector());  // bit for bit
    }
  }
  const auto rows = lab::agreement_study({}, kGd, b, 8);
  REQUIRE(rows.size() == 7 * (2 + 5));
  for (const auto& r : rows) {
    INFO(r.measure << " " << r.map << " k " << r.k);
    if (r.measure == "cos_with_gd") CHECK(r.mean == Approx(1.0).margin(1e-12));
    else CHECK(std::abs(r.mean) <= 1e-12);
  }
}

TEST_CASE("agreement: the measures see an answerer that uses reward values, and one that ignores rewards", "[lab][agreement]") {
  const auto b = batch(64, 2);
  const lab::Answerer weighted{"weighted", lab::baseline("reward_weighted").answer};
  const lab::Answerer mean{"mean", lab::baseline("mean_response").answer};
  const auto rows = lab::agreement_study({weighted, mean}, kGd, b, 8);
  for (const auto& r : rows) {
    if (r.measure != "map_shift" || r.k < 3) continue;
    INFO(r.method << " " << r.map << " k " << r.k);
    if (r.method == "mean") CHECK(std::abs(r.mean) <= 1e-12);  // never reads a reward
    // Every map but 0.2r (a common factor, which a normalised weighting cancels) moves the weighted mean.
    if (r.method == "weighted" && r.map != "0.2r") CHECK(r.mean > 1e-4);
    if (r.method == "weighted" && r.map == "0.2r") CHECK(std::abs(r.mean) <= 1e-12);
  }
  // Two answerers that differ agree less than one with itself.
  const auto w = weighted(b, 5), m = mean(b, 5);
  double below_one = 0;
  for (double c : lab::cosines(w, m)) below_one += c < 1 - 1e-9 ? 1 : 0;
  CHECK(below_one > 32);
}

TEST_CASE("agreement: rank/k maps the first k rewards to their rank over k and leaves the rest", "[lab][agreement]") {
  auto b = batch(1, 3);
  const double r[8] = {0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.4, 0.6};
  std::copy(r, r + 8, b.rs.data());
  const auto maps = lab::increasing_reward_maps();
  const auto rank = std::find_if(maps.begin(), maps.end(), [](const auto& m) { return m.name == "rank/k"; });
  REQUIRE(rank != maps.end());
  const auto mapped = rank->apply(b, 3).rs.to_vector();
  const std::vector<double> want{2.0 / 3, 1.0, 1.0 / 3, 0.5, 0.7, 0.2, 0.4, 0.6};
  CHECK(mapped == want);
}

// Sensitivity agreement: the finite differences against a closed form, the model's autograd path
// against finite differences of the same (double) model, and GD against itself.
TEST_CASE("sensitivity: finite differences match the closed form of cos(sum of responses, u)", "[lab][agreement]") {
  const auto b = batch(6, 3);
  const std::size_t d = 5, k = 4;
  const lab::Answerer sum_of_responses{"sum", [](const lab::Batch<double>& c, std::size_t n) {
    return ag::sum(ag::slice(c.ys, 1, 0, static_cast<long>(n)), {1});
  }};
  ag::Rng rng(4);
  const ag::TensorD u = lab::probe_directions(6, d, rng);
  const ag::TensorD fd = lab::finite_difference_sensitivity(sum_of_responses, b, k, u);
  const ag::TensorD a = sum_of_responses(b, k);
  for (std::size_t s = 0; s < 6; ++s) {
    double na = 0, au = 0;
    for (std::size_t j = 0; j < d; ++j) na += a.data()[s * d + j] * a.data()[s * d + j], au += a.data()[s * d + j] * u.data()[s * d + j];
    na = std::sqrt(na);
    for (std::size_t i = 0; i < k; ++i)  // ∂cos(a, u)/∂y_i = ∂cos/∂a = u/‖a‖ − (a·u) a/‖a‖³ for every i < k
      for (std::size_t j = 0; j < d; ++j) {
        const double exact = u.data()[s * d + j] / na - au * a.data()[s * d + j] / (na * na * na);
        const double got = fd.data()[(s * k + i) * d + j];
        CHECK(std::abs(got - exact) <= 1e-5 + 1e-3 * std::abs(exact));
      }
  }
}

TEST_CASE("sensitivity: the model's autograd gradient equals finite differences, and GD agrees with itself", "[lab][agreement]") {
  const auto b = batch(5, 6);
  lab::ModelConfig mc;
  mc.n_points = 8, mc.n_embd = 12, mc.n_layer = 2, mc.n_head = 2;
  ag::Rng init(7);
  const lab::ICAlignTransformer<double> model(mc, init);
  const lab::Answerer model_answer{"model", [&](const lab::Batch<double>& c, std::size_t k) {
    ag::NoGradGuard no_grad;
    const ag::TensorD p = model(c.xs, c.ys, c.rs);
    return ag::reshape(ag::slice(p, 1, static_cast<long>(k), static_cast<long>(k) + 1), {5, 5});
  }};
  ag::Rng rng(8);
  const ag::TensorD u = lab::probe_directions(5, 5, rng);
  for (std::size_t k : {1, 3, 7}) {
    INFO("k = " << k);
    const ag::TensorD by_autograd = lab::model_sensitivity(model, b, k, u);
    const ag::TensorD by_differences = lab::finite_difference_sensitivity(model_answer, b, k, u);
    REQUIRE(by_autograd.shape() == ag::Shape{5, k, 5});
    for (std::size_t i = 0; i < by_autograd.numel(); ++i) {
      const double n = by_differences.data()[i];
      CHECK(std::abs(by_autograd.data()[i] - n) <= 1e-5 + 1e-3 * std::abs(n));
    }
    for (double c : lab::sensitivity_cosines(by_autograd, by_differences)) CHECK(c > 0.99999);
  }
  const ag::TensorD g = lab::finite_difference_sensitivity(kGd, b, 3, u);
  for (double c : lab::sensitivity_cosines(g, g)) CHECK(c == Approx(1.0).margin(1e-12));
  // A sensitivity that does not agree: the sign-flipped one.
  for (double c : lab::sensitivity_cosines(g, g * -1.0)) CHECK(c == Approx(-1.0).margin(1e-12));
}

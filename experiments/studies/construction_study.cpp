#include "experiments/studies/construction_study.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "experiments/methods/baselines.hpp"

namespace lab {

Contexts random_contexts(std::size_t B, std::size_t N, std::size_t d, ag::Rng& rng) {
  Contexts c{ag::TensorD::zeros({B, d}), ag::TensorD::zeros({B, d, d}), ag::TensorD::zeros({B, d}),
             ag::TensorD::zeros({B, N, d}), ag::TensorD::zeros({B, N})};
  for (std::size_t b = 0; b < B; ++b) {
    double* x = c.x.data() + b * d;
    double norm = 0;
    for (std::size_t a = 0; a < d; ++a) x[a] = rng.normal(), norm += x[a] * x[a];
    for (std::size_t a = 0; a < d; ++a) x[a] /= std::sqrt(norm);
    double* W = c.W0.data() + b * d * d;
    for (std::size_t i = 0; i < d * d; ++i) W[i] = rng.normal() / std::sqrt(static_cast<double>(d));
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t a = 0; a < d; ++a) c.u0.data()[b * d + i] += W[i * d + a] * x[a];
    for (std::size_t i = 0; i < N * d; ++i) c.ys.data()[b * N * d + i] = rng.normal();
    std::vector<std::size_t> slot(N);
    std::iota(slot.begin(), slot.end(), 0);
    for (std::size_t i = N; i > 1; --i) std::swap(slot[i - 1], slot[static_cast<std::size_t>(rng.uniform() * i)]);
    for (std::size_t j = 0; j < N; ++j)
      c.rs.data()[b * N + j] = (static_cast<double>(slot[j]) + 0.25 + 0.5 * rng.uniform()) / static_cast<double>(N);
  }
  return c;
}

Outcome against_gd(const ConstructionConfig& cfg, const Contexts& c) {
  const ag::TensorD u_tf = answers(cfg, c.u0, c.ys, c.rs);
  const ag::TensorD u_gd = gd_quadratic_answers(c.W0, c.x, c.ys, c.rs, cfg.beta, cfg.eta, static_cast<int>(cfg.steps));
  const std::size_t B = c.u0.shape()[0], d = cfg.n_dims;
  Outcome o;
  for (std::size_t b = 0; b < B; ++b) {
    double worst = 0, diff = 0, move = 0;
    for (std::size_t a = 0; a < d; ++a) {
      const double e = u_tf.data()[b * d + a] - u_gd.data()[b * d + a], s = u_gd.data()[b * d + a] - c.u0.data()[b * d + a];
      worst = std::isnan(e) ? e : std::max(worst, std::abs(e)), diff += e * e, move += s * s;  // NaN shows
    }
    o.abs_err.push_back(worst);
    o.rel_err.push_back(std::sqrt(diff / move));
  }
  return o;
}

namespace {
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

ConstructionConfig study_config(std::size_t N, std::size_t K) {
  ConstructionConfig cfg;
  cfg.n_responses = N, cfg.steps = K, cfg.min_gap = grid_gap(N);
  return cfg;
}
}  // namespace

std::vector<EqualityRow> equality_study(std::size_t contexts, std::uint64_t seed) {
  std::vector<EqualityRow> rows;
  for (std::size_t N : {2, 3, 5, 10, 20})
    for (std::size_t K : {1, 3}) {
      ag::Rng rng(seed + 100 * N + K);
      const Outcome o = against_gd(study_config(N, K), random_contexts(contexts, N, 5, rng));
      rows.push_back({N, K, contexts, max_of(o.abs_err), max_of(o.rel_err)});
    }
  return rows;
}

std::vector<SharpnessRow> sharpness_study(std::size_t N, std::size_t contexts, std::uint64_t seed) {
  ag::Rng rng(seed);
  const Contexts c = random_contexts(contexts, N, 5, rng);
  std::vector<SharpnessRow> rows;
  for (double gd : {0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0, 24.0, 28.0, 32.0, 36.0, 40.0}) {
    ConstructionConfig cfg = study_config(N, 1);
    cfg.gamma = gd / cfg.min_gap;
    const ag::TensorD u_tf = answers(cfg, c.u0, c.ys, c.rs);
    const ag::TensorD u_gd = gd_quadratic_answers(c.W0, c.x, c.ys, c.rs, cfg.beta, cfg.eta, 1);
    double measured = 0;
    for (std::size_t b = 0; b < contexts; ++b) {
      double e2 = 0;
      for (std::size_t a = 0; a < cfg.n_dims; ++a) e2 += std::pow(u_tf.data()[b * cfg.n_dims + a] - u_gd.data()[b * cfg.n_dims + a], 2);
      measured = std::max(measured, std::sqrt(e2));
    }
    rows.push_back({gd, measured, max_of(selection_error_bound(cfg, c.ys, c.rs))});
  }
  return rows;
}

std::vector<ComponentRow> component_study(std::size_t N, std::size_t contexts, std::uint64_t seed) {
  ag::Rng rng(seed);
  const Contexts c = random_contexts(contexts, N, 5, rng);
  const ConstructionConfig full = study_config(N, 1);
  std::vector<std::pair<std::string, ConstructionConfig>> variants{{"construction (all components)", full}};
  auto add = [&](const std::string& name, auto change) {
    ConstructionConfig v = full;
    change(v);
    variants.emplace_back(name, v);
  };
  add("linear attention instead of softmax", [](ConstructionConfig& v) { v.attention = nn::AttentionKind::Linear; });
  add("without head S (selection)", [](ConstructionConfig& v) { v.select_head = false; });
  add("without head P (policy average)", [](ConstructionConfig& v) { v.policy_head = false; });
  add("without the FFN", [](ConstructionConfig& v) { v.ffn = false; });
  add("blunt selection (gamma delta = 1)", [](ConstructionConfig& v) { v.gamma = 1 / v.min_gap; });
  add(std::to_string(N - 2) + " blocks (N - 2)", [N](ConstructionConfig& v) { v.blocks_per_step = N - 2; });
  add(std::to_string((N - 1) / 2) + " blocks ((N - 1) / 2)", [N](ConstructionConfig& v) { v.blocks_per_step = (N - 1) / 2; });
  add("1 block", [](ConstructionConfig& v) { v.blocks_per_step = 1; });
  std::vector<ComponentRow> rows;
  for (const auto& [name, cfg] : variants) {
    const Outcome o = against_gd(cfg, c);
    rows.push_back({name, mean_of(o.rel_err), max_of(o.rel_err)});
  }
  return rows;
}

std::vector<Curve> compare_study(const std::string& run_dir, const CompareOptions& opt, double& max_diff, std::size_t& narrow) {
  const HeldOut run = held_out(load_run(run_dir), opt.eval);
  const Batch<double>& b = run.batch;
  const std::size_t B = b.xs.shape()[0], d = b.xs.shape()[2];
  // u0 = W0 x = 0; with ‖x‖ = 1 GD's step on W moves u by exactly 2βη g, as the construction does.
  const ag::TensorD x_unit = ag::TensorD::full({B, d}, 1.0 / std::sqrt(static_cast<double>(d)));
  const ag::TensorD u0 = ag::TensorD::zeros({B, d}), W0 = ag::TensorD::zeros({B, d, d});
  const std::vector<double> gaps = min_reward_gaps(b.rs);
  max_diff = 0, narrow = 0;
  for (double g : gaps) narrow += g < opt.min_gap;

  // The direction y* - e: every difference y_i - y_j = (r_i - r_j)(y* - e) is parallel to it, and so
  // is the quadratic PL gradient from u0 = 0.
  const ag::TensorD away = b.ystar - bad_responses(b);
  // The construction's answer after K steps from the first k triplets, checked against GD on W.
  auto construct = [&](std::size_t K, std::size_t k) {
    if (k < 2) return u0;  // one response: the PL loss is constant, GD stays at u0
    const ag::TensorD ys = ag::slice(b.ys, 1, 0, k), rs = ag::slice(b.rs, 1, 0, k);
    ConstructionConfig cfg;
    cfg.n_responses = k, cfg.n_dims = d, cfg.steps = K, cfg.beta = opt.beta, cfg.eta = opt.eta, cfg.min_gap = opt.min_gap;
    const ag::TensorD u = answers(cfg, u0, ys, rs);
    const ag::TensorD gd = gd_quadratic_answers(W0, x_unit, ys, rs, opt.beta, opt.eta, static_cast<int>(K));
    for (std::size_t i = 0; i < u.numel(); ++i)
      if (gaps[i / d] >= opt.min_gap) max_diff = std::max(max_diff, std::abs(u.data()[i] - gd.data()[i]));
    return u;
  };
  // Every answerer here answers on b alone (the construction's check against GD is per sequence of b).
  std::vector<Answerer> answerers{
      answers_of(run.answers),
      {"gd", [&](const Batch<double>&, std::size_t k) { return eval_gd_answers(b, k, opt.eval, run.task.reward_noise); }}};
  for (std::size_t K : opt.steps)
    answerers.push_back({"construct_K" + std::to_string(K), [&construct, K](const Batch<double>&, std::size_t k) { return construct(K, k); }});
  answerers.push_back(baseline("mean_response"));
  answerers.push_back({"ystar_minus_e", [&](const Batch<double>&, std::size_t) { return away; }});
  return curves_over_k(answerers, b);
}

}  // namespace lab

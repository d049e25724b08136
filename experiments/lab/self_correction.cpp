#include "experiments/lab/self_correction.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "experiments/lab/construction_study.hpp"
#include "nn/files.hpp"

namespace lab {

namespace {

Critique spread_critique(const Batch<double>& b, const ag::TensorD& a) {
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  Critique c{std::vector<double>(B), ag::TensorD::empty({B, d}), ag::TensorD::empty({B, d})};
  for (std::size_t s = 0; s < B; ++s) {
    const double *ys = b.ystar.data() + s * d, *as = a.data() + s * d;
    double norm_a = 0, norm_y = 0;
    for (std::size_t i = 0; i < d; ++i) norm_a += as[i] * as[i], norm_y += ys[i] * ys[i];
    const double scale = norm_a > 0 ? std::sqrt(norm_y / norm_a) : 0.0;
    for (std::size_t i = 0; i < d; ++i) c.response.data()[s * d + i] = c.projection.data()[s * d + i] = as[i] * scale;
    c.score[s] = spread_reward(as, ys, d);
  }
  return c;
}

}  // namespace

ag::TensorD sample_around(const ag::TensorD& a, double sigma, ag::Rng& rng) {
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  ag::TensorD out = ag::TensorD::empty({B, d});
  for (std::size_t s = 0; s < B; ++s) {
    double norm = 0;
    for (std::size_t i = 0; i < d; ++i) norm += a.data()[s * d + i] * a.data()[s * d + i];
    norm = norm > 0 ? std::sqrt(norm) : 1.0;
    for (std::size_t i = 0; i < d; ++i)
      out.data()[s * d + i] = a.data()[s * d + i] / norm + sigma * rng.normal() / std::sqrt(static_cast<double>(d));
  }
  return out;
}

Critique critique(const TaskConfig& task, const Batch<double>& b, const ag::TensorD& a) {
  if (task.responses == Responses::Spread) return spread_critique(b, a);  // every answer is in distribution
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  const ag::TensorD e = bad_responses(b);
  Critique c{std::vector<double>(B), ag::TensorD::empty({B, d}), ag::TensorD::empty({B, d})};
  for (std::size_t s = 0; s < B; ++s) {
    const double *ys = b.ystar.data() + s * d, *es = e.data() + s * d, *as = a.data() + s * d;
    auto point = [&](double r, std::size_t i) { return es[i] + r * (ys[i] - es[i]); };  // y_r
    auto cos_to_target = [&](auto coord) {
      double dot = 0, n1 = 0, n2 = 0;
      for (std::size_t i = 0; i < d; ++i) dot += coord(i) * ys[i], n1 += coord(i) * coord(i), n2 += ys[i] * ys[i];
      return dot / std::sqrt(std::max(n1 * n2, 1e-300));
    };
    const double want = cos_to_target([&](std::size_t i) { return as[i]; });
    double lo = 0, hi = 1;  // cos(y_r, y*) increases with r: bisect for the r of the same quality
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (lo + hi);
      (cos_to_target([&](std::size_t i) { return point(mid, i); }) < want ? lo : hi) = mid;
    }
    const double r = 0.5 * (lo + hi);
    double norm_a = 0, norm_y = 0;
    for (std::size_t i = 0; i < d; ++i) norm_a += as[i] * as[i], norm_y += point(r, i) * point(r, i);
    const double scale = norm_a > 0 ? std::sqrt(norm_y / norm_a) : 0.0;
    for (std::size_t i = 0; i < d; ++i) c.response.data()[s * d + i] = as[i] * scale;
    for (std::size_t i = 0; i < d; ++i) c.projection.data()[s * d + i] = point(r, i);
    c.score[s] = r;
  }
  return c;
}

namespace {

// An answerer of the loop: its answer from the first n triplets of ctx, (B, d), and whether what
// joins the context is the critic's projection y_r instead of the (rescaled) answer itself.
struct Answerer {
  const char* name;
  std::function<ag::TensorD(const Batch<double>& ctx, std::size_t n)> answer;
  bool appends_projection = false;
};

std::vector<Answerer> answerers(const ICAlignTransformer<float>& model, const SelfCorrectionOptions& opt) {
  // the prediction at x-token n has seen triplets 0..n-1 (causal)
  auto model_answer = [&model](const Batch<double>& ctx, std::size_t n) {
    const std::size_t B = ctx.xs.shape()[0], d = ctx.xs.shape()[2];
    return ag::reshape(ag::slice(model_answers(model, ctx), 1, n, n + 1), {long(B), long(d)});
  };
  auto gd = [&opt](const Batch<double>& ctx, std::size_t n) {
    ag::Rng init(opt.seed + n);
    return gd_answers(ctx, n, opt.gd, init);
  };
  return {{"model", model_answer}, {"gd", gd}, {"construct", construction_answers}, {"model_projected", model_answer, true}};
}

}  // namespace

std::vector<RoundCurve> self_correction(const std::string& run_dir, const SelfCorrectionOptions& opt, std::ostream& progress) {
  const std::size_t N = load_run_config(run_dir).model.n_points;  // check the options before loading weights
  if (opt.start < 1 || opt.start + opt.rounds >= N)
    throw std::invalid_argument("self-correction: need 1 <= start and start + rounds < n_points = " + std::to_string(N) +
                                " (got start " + std::to_string(opt.start) + ", rounds " + std::to_string(opt.rounds) + ")");
  if (!(opt.explore >= 0)) throw std::invalid_argument("self-correction: explore must be >= 0, got " + std::to_string(opt.explore));
  const TrainedRun run = load_run(run_dir, opt.weights);
  ag::Rng data(opt.seed);
  TaskConfig task = run.cfg.task;
  if (!opt.responses.empty()) task.responses = parse_responses(opt.responses);
  task.reward_noise = 0;  // the k starting triplets carry true rewards; only the critic is noisy
  const Batch<double> seqs = sample_batch<double>(task, opt.sequences, data);
  const std::size_t B = opt.sequences, d = run.cfg.model.n_dims;

  std::vector<RoundCurve> curves;
  for (double q : opt.critic_noise)
    for (const Answerer& who : answerers(*run.model, opt)) {
      progress << "self-correction: " << who.name << ", critic noise " << q << "\n";
      Batch<double> ctx = seqs;  // copies of the handles: the triplets after `start` are overwritten below
      ctx.ys = ag::TensorD::from_vector(seqs.ys.shape(), seqs.ys.to_vector());
      ctx.rs = ag::TensorD::from_vector(seqs.rs.shape(), seqs.rs.to_vector());
      ag::Rng critic(opt.seed ^ 0xC0FFEEull);  // the same critic and exploration draws for every answerer
      ag::Rng explore(opt.seed ^ 0xE7A1ull);
      RoundCurve c{who.name, q, {}, {}};
      for (std::size_t t = 0; t <= opt.rounds; ++t) {
        const std::size_t n = opt.start + t;
        const ag::TensorD a = who.answer(ctx, n);
        Curve summary;
        summarise(alignment_error(a, seqs.ystar), summary);
        c.mean.push_back(summary.mean[0]), c.sem.push_back(summary.sem[0]);
        const Critique crit = critique(task, seqs, opt.explore > 0 ? sample_around(a, opt.explore, explore) : a);
        const ag::TensorD& appended = who.appends_projection ? crit.projection : crit.response;
        for (std::size_t s = 0; s < B; ++s) {  // the answer and its score become triplet n
          const bool noisy = critic.uniform() < q;
          const double fresh = critic.uniform();
          ctx.rs.data()[s * N + n] = noisy ? fresh : crit.score[s];
          std::copy_n(appended.data() + s * d, d, ctx.ys.data() + (s * N + n) * d);
        }
      }
      curves.push_back(std::move(c));
    }
  return curves;
}

void write_rounds_csv(const std::string& path, const std::vector<RoundCurve>& curves, std::size_t n) {
  std::ostringstream out;
  out << "method,critic_noise,round,mean,sem,n\n";
  out.precision(10);
  for (const auto& c : curves)
    for (std::size_t t = 0; t < c.mean.size(); ++t)
      out << c.method << ',' << c.critic_noise << ',' << t << ',' << c.mean[t] << ',' << c.sem[t] << ',' << n << '\n';
  nn::write_atomically(path, out.str());
}

}  // namespace lab

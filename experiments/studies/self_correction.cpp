#include "experiments/studies/self_correction.hpp"

#include <ostream>
#include <sstream>
#include <stdexcept>

#include "nn/files.hpp"

namespace lab {

namespace {

std::vector<Answerer> answerers(const ICAlignTransformer<float>& model, const SelfCorrectionOptions& opt) {
  return {model_answerer(model), gd_answerer(opt.gd, opt.seed), baseline("construct")};
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

  struct Critic {
    std::string suffix;
    CriticOptions options;
    bool append = true;
  };
  std::vector<Critic> critics;
  for (double q : opt.critic_noise) critics.push_back({"", {q, opt.explore}});
  if (opt.constant_critic) critics.push_back({":constant", {0, opt.explore, 0.5}});
  if (opt.no_append) critics.push_back({":noappend", {0, opt.explore}, false});
  std::vector<RoundCurve> curves;
  for (const Critic& critic_kind : critics)
    for (const Answerer& answer : answerers(*run.model, opt)) {
      const std::string& name = answer.name;
      const CriticOptions& critic_options = critic_kind.options;
      progress << "self-correction: " << name << critic_kind.suffix << ", critic noise " << critic_options.noise << "\n";
      Batch<double> ctx = seqs;  // a Batch copy shares its tensors: the triplets overwritten below get their own
      ctx.ys = ag::copy_as<double>(seqs.ys), ctx.rs = ag::copy_as<double>(seqs.rs), ctx.rs_true = ag::copy_as<double>(seqs.rs_true);
      ag::Rng critic(opt.seed ^ 0xC0FFEEull);  // the same critic and exploration draws for every answerer
      ag::Rng explore(opt.seed ^ 0xE7A1ull);
      RoundCurve c{name + critic_kind.suffix, critic_options.noise, {}, {}};
      for (std::size_t t = 0; t <= opt.rounds; ++t) {
        const std::size_t n = critic_kind.append ? opt.start + t : opt.start;
        const ag::TensorD a = answer(ctx, n);
        Curve summary;
        summarise(alignment_error(a, seqs.ystar), summary);
        c.mean.push_back(summary.mean[0]), c.sem.push_back(summary.sem[0]);
        if (critic_kind.append && t < opt.rounds) append_critiqued(task, seqs, ctx, n, a, critic_options, critic, explore);
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

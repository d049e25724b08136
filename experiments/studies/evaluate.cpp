#include "experiments/studies/evaluate.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "nn/files.hpp"

namespace lab {

void summarise(const std::vector<double>& e, Curve& c) {
  double m = 0, v = 0;
  for (double x : e) m += x;
  m /= static_cast<double>(e.size());
  for (double x : e) v += (x - m) * (x - m);
  c.mean.push_back(m);
  c.sem.push_back(e.size() > 1 ? std::sqrt(v / static_cast<double>(e.size() - 1) / static_cast<double>(e.size())) : 0.0);
}

ag::TensorD eval_gd_answers(const Batch<double>& b, std::size_t k, const EvalOptions& opt, double reward_noise) {
  GdOptions gd = opt.gd;
  if (opt.gd_steps_by_noise) gd.steps = static_cast<int>(50 - 25 * reward_noise);
  return gd_answers_seeded(b, k, gd, opt.seed);
}

HeldOut held_out(const TrainedRun& run, const EvalOptions& opt) {
  TaskConfig task = run.cfg.task;
  if (opt.reward_noise >= 0) task.reward_noise = opt.reward_noise;
  if (!opt.responses.empty()) task.responses = parse_responses(opt.responses);
  ag::Rng data(opt.seed);
  Batch<double> b = sample_batch<double>(task, opt.sequences, data);
  ag::TensorD answers = model_answers(*run.model, b);
  return {run.cfg, task, std::move(b), std::move(answers)};
}

std::vector<Curve> evaluate(const HeldOut& h, const EvalOptions& opt) {
  const Answerer gd{"gd", [&](const Batch<double>& batch, std::size_t k) { return eval_gd_answers(batch, k, opt, h.task.reward_noise); }};
  return curves_over_k({answers_of(h.answers), gd, baseline("mean_response"), baseline("best_response"),
                        baseline("reward_weighted"), baseline("exact")},
                       h.batch);
}

std::vector<Curve> evaluate_run(const std::string& run_dir, const EvalOptions& opt) {
  return evaluate(held_out(load_run(run_dir), opt), opt);
}

std::vector<Curve> curves_over_k(const std::vector<Answerer>& answerers, const Batch<double>& b) {
  const std::size_t N = b.xs.shape()[1];
  std::vector<Curve> curves;
  for (const Answerer& answer : answerers) {
    Curve c{answer.name, {}, {}};
    for (std::size_t k = 1; k < N; ++k) summarise(alignment_error(answer(b, k), b.ystar), c);
    curves.push_back(std::move(c));
  }
  return curves;
}

void print_curves(std::FILE* out, const std::vector<Curve>& curves) {
  std::fprintf(out, "%4s", "k");
  for (const auto& c : curves) std::fprintf(out, " %16s", c.method.c_str());
  std::fprintf(out, "\n");
  for (std::size_t i = 0; i < curves[0].mean.size(); ++i) {
    std::fprintf(out, "%4zu", i + 1);
    for (const auto& c : curves) std::fprintf(out, " %9.4f ±%5.3f", c.mean[i], c.sem[i]);
    std::fprintf(out, "\n");
  }
}

std::string eval_csv_name(double reward_noise) {
  if (reward_noise < 0) return "eval.csv";
  char buf[32];
  std::snprintf(buf, sizeof buf, "eval_noise%.2f.csv", reward_noise);
  return buf;
}

void write_csv(const std::string& path, const std::vector<Curve>& curves, std::size_t n) {
  std::ostringstream out;
  out << "method,k,mean,sem,n\n";
  out.precision(10);
  for (const auto& c : curves)
    for (std::size_t i = 0; i < c.mean.size(); ++i) out << c.method << ',' << i + 1 << ',' << c.mean[i] << ',' << c.sem[i] << ',' << n << '\n';
  nn::write_atomically(path, out.str());
}

}  // namespace lab

#include <cstdio>
#include <memory>

#include "experiments/cli/commands.hpp"
#include "experiments/studies/evaluate.hpp"
#include "experiments/train/trainer.hpp"
#include "nn/checkpoint.hpp"

namespace cli {

void add_eval(CLI::App& app) {
  struct Options {
    std::string run;
    std::vector<double> noises;
    lab::EvalOptions eval;
    bool gd_plain = false;
    std::string out, dump;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("eval", "evaluate a run against the baselines; writes <run>/eval*.csv");
  cmd->add_option("--run", o->run, "run directory")->required();
  cmd->add_option("--noise", o->noises, "reward noise levels to evaluate at (default: the run's own)")->check(number_in(0.0, 1.0));
  cmd->add_option("--sequences", o->eval.sequences, "held-out sequences (mean and standard error over them)")
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--seed", o->eval.seed, "seed of the held-out sequences");
  cmd->add_option("--responses", o->eval.responses, "evaluate on this task's responses (default: the run's own)")
      ->check(CLI::IsMember({"line", "spread"}));
  cmd->add_option("--out", o->out, "the CSV's file name inside the run directory (default: eval.csv, eval_noiseP.csv)");
  cmd->add_option("--gd-steps", o->eval.gd.steps, "steps of the GD baseline at every noise level (default: int(50 - 25 p) "
                                                 "at reward noise p, as the official evaluation)")
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--gd-plain", o->gd_plain, "plain gradient descent instead of Adam for the GD baseline");
  cmd->add_option("--dump", o->dump, "also write the held-out sequences and the model's answers to this .safetensors "
                                     "file (float64 xs, ys, rs, rs_true, ystar, the model's answers and GD's, (B, N, d) with k = 0 empty), "
                                     "e.g. to check a PyTorch copy of the model or to probe it");
  cmd->callback([o, cmd] {
    std::vector<double> noises = o->noises;
    if (noises.empty()) noises.push_back(-1);
    if ((!o->out.empty() || !o->dump.empty()) && noises.size() > 1)
      throw std::invalid_argument("--out and --dump name one file: give one --noise level with them");
    const nn::DirectoryLock lock = lab::lock_existing_run(o->run, "icalign eval");
    lab::EvalOptions opt = o->eval;
    opt.gd.adam = !o->gd_plain;
    opt.gd_steps_by_noise = cmd->count("--gd-steps") == 0;
    const lab::TrainedRun run = lab::load_run(o->run);  // once, for every noise level
    for (double p : noises) {
      opt.reward_noise = p;
      const lab::HeldOut h = lab::held_out(run, opt);
      const auto curves = lab::evaluate(h, opt);
      if (!o->dump.empty()) {
        // GD's answer at every k, the eval CSV's gd row; k = 0 holds zeros.
        const std::size_t N = h.cfg.model.n_points, d = h.cfg.model.n_dims;
        ag::TensorD gd = ag::TensorD::zeros({opt.sequences, N, d});
        for (std::size_t k = 1; k < N; ++k) {
          const ag::TensorD a = lab::eval_gd_answers(h.batch, k, opt, h.task.reward_noise);
          for (std::size_t b = 0; b < opt.sequences; ++b)
            std::copy(a.data() + b * d, a.data() + (b + 1) * d, gd.data() + (b * N + k) * d);
        }
        nn::save_safetensors<double>(o->dump, {{"xs", h.batch.xs}, {"ys", h.batch.ys}, {"rs", h.batch.rs},
                                               {"rs_true", h.batch.rs_true}, {"ystar", h.batch.ystar},
                                               {"answers", h.answers}, {"gd", gd}});
      }
      const std::string path = cli::file_in_run(o->run, o->out.empty() ? lab::eval_csv_name(p) : o->out);
      lab::write_csv(path, curves, opt.sequences);
      std::printf("1 - cos(answer, y*), mean over %zu held-out sequences", opt.sequences);
      if (p >= 0) std::printf(", reward noise %.2f", p);
      std::printf(" -> %s\n", path.c_str());
      lab::print_curves(stdout, curves);
    }
  });
}

}  // namespace cli

#include <cstdio>
#include <iostream>
#include <memory>

#include "experiments/cli/commands.hpp"
#include "experiments/studies/self_correction.hpp"
#include "experiments/train/trainer.hpp"

namespace cli {

void add_selfcorrect(CLI::App& app) {
  struct Options {
    std::string run, out = "selfcorrect.csv";
    lab::SelfCorrectionOptions sc;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("selfcorrect", "multi-round self-correction with a critic: the model, GD and the "
                                                "construction each answer, get scored, and answer again; writes <run>/selfcorrect.csv and .png");
  cmd->add_option("--run", o->run, "a trained run")->required();
  cmd->add_option("--start", o->sc.start, "sampled triplets before the first answer")->capture_default_str();
  cmd->add_option("--rounds", o->sc.rounds, "rounds of answer, score, append")->capture_default_str();
  cmd->add_option("--critic-noise", o->sc.critic_noise, "probabilities q that the critic's score is replaced by U(0,1)")
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--sequences", o->sc.sequences, "held-out sequences")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--seed", o->sc.seed, "seed of the sequences and the critic's noise")->capture_default_str();
  cmd->add_option("--explore", o->sc.explore, "sigma: append a sample around each answer, unit(a) + sigma z/sqrt(d), not the answer")
      ->check(number_in(0.0, 100.0))->capture_default_str();
  cmd->add_option("--responses", o->sc.responses, "the task's responses for the loop (default: the run's own)")
      ->check(CLI::IsMember({"line", "spread"}));
  cmd->add_flag("--constant-critic", o->sc.constant_critic, "also the control whose critic reports 0.5 for every answer "
                                                             "(rows method:constant, critic_noise 0)");
  cmd->add_flag("--no-append", o->sc.no_append, "also the control whose context does not grow: every round answers from "
                                                 "the same sampled triplets (rows method:noappend, critic_noise 0)");
  cmd->add_option("--weights", o->sc.weights, "these weights (e.g. <run>/snapshots/step-000500.safetensors), not the checkpoint's")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "the CSV's file name inside the run directory")->capture_default_str();
  cmd->callback([o] {
    const nn::DirectoryLock lock = lab::lock_existing_run(o->run, "icalign selfcorrect");
    const auto curves = lab::self_correction(o->run, o->sc, std::cerr);
    const std::string path = cli::file_in_run(o->run, o->out);
    lab::write_rounds_csv(path, curves, o->sc.sequences);
    std::printf("1 - cos(answer, y*) by round (round 0: %zu sampled triplets), mean over %zu sequences -> %s\n%-16s %6s",
                o->sc.start, o->sc.sequences, path.c_str(), "method", "q");
    for (std::size_t t = 0; t < curves[0].mean.size(); ++t) std::printf(" %6zu", t);
    std::printf("\n");
    for (const auto& c : curves) {
      std::printf("%-16s %6.2f", c.method.c_str(), c.critic_noise);
      for (double m : c.mean) std::printf(" %6.3f", m);
      std::printf("\n");
    }
    run_plot_script("plot_selfcorrect.py", {path});
  });
}

}  // namespace cli

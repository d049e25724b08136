#include <cstdio>
#include <memory>

#include "experiments/cli/commands.hpp"
#include "experiments/lab/agreement.hpp"
#include "experiments/lab/evaluate.hpp"
#include "experiments/lab/trainer.hpp"

namespace cli {

void add_agree(CLI::App& app) {
  struct Options {
    std::string run;
    lab::EvalOptions eval;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("agree", "how close a trained model is to GD: prediction agreement and invariance to "
                                          "increasing maps of the rewards, per k; writes <run>/agreement.csv");
  cmd->add_option("--run", o->run, "a trained run")->required();
  cmd->add_option("--sequences", o->eval.sequences, "held-out sequences")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--seed", o->eval.seed, "seed of the held-out sequences")->capture_default_str();
  cmd->callback([o] {
    const nn::DirectoryLock lock = lab::lock_existing_run(o->run, "icalign agree");
    const lab::TrainedRun run = lab::load_run(o->run);
    ag::Rng data(o->eval.seed);
    const lab::Batch<double> b = lab::sample_batch<double>(run.cfg.task, o->eval.sequences, data);
    const lab::Answerer model = [&](const lab::Batch<double>& batch, std::size_t k) {
      const ag::TensorD all = lab::model_answers(*run.model, batch);  // (B, N, d): the answer after each k
      return ag::reshape(ag::slice(all, 1, k, k + 1), {long(batch.rs.shape()[0]), long(all.shape()[2])});
    };
    const lab::Answerer gd = [&](const lab::Batch<double>& batch, std::size_t k) {
      ag::Rng init(o->eval.seed + k);  // the same start for every map: only the rewards differ
      return lab::gd_answers(batch, k, o->eval.gd, init);
    };
    const auto rows = lab::agreement_study({{"model", model}}, gd, b, run.cfg.model.n_points);
    const std::string path = o->run + "/agreement.csv";
    lab::write_agreement_csv(path, rows, o->eval.sequences);
    std::printf("%-26s %-7s %-9s %8s %8s %8s %8s  (mean over %zu sequences) -> %s\n", "measure", "method", "map", "k=2",
                "k=5", "k=10", "k=19", o->eval.sequences, path.c_str());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      if (r.k != 1) continue;  // one line per (measure, method, map); its values at a few k
      std::printf("%-26s %-7s %-9s", r.measure.c_str(), r.method.c_str(), r.map.c_str());
      for (const auto& s : rows)
        if (s.measure == r.measure && s.method == r.method && s.map == r.map && (s.k == 2 || s.k == 5 || s.k == 10 || s.k == 19))
          std::printf(" %8.4f", s.mean);
      std::printf("\n");
    }
  });
}

}  // namespace cli

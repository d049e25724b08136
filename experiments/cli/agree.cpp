#include <algorithm>
#include <cstdio>
#include <set>
#include <memory>

#include "experiments/cli/commands.hpp"
#include "experiments/studies/agreement.hpp"
#include "experiments/studies/construction_study.hpp"
#include "experiments/studies/sensitivity.hpp"
#include "experiments/studies/evaluate.hpp"
#include "experiments/train/trainer.hpp"

namespace cli {

void add_agree(CLI::App& app) {
  struct Options {
    std::string run, weights, out = "agreement.csv";
    lab::EvalOptions eval;
    std::size_t sensitivity_sequences = 256;
    std::vector<std::size_t> sensitivity_k{2, 5, 10, 19};
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("agree", "how close a trained model (and the construction) is to GD: prediction agreement, "
                                          "sensitivity agreement and invariance to increasing maps of the rewards, per k; "
                                          "writes <run>/agreement.csv");
  cmd->add_option("--run", o->run, "a trained run")->required();
  cmd->add_option("--sequences", o->eval.sequences, "held-out sequences")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--seed", o->eval.seed, "seed of the held-out sequences")->capture_default_str();
  cmd->add_option("--weights", o->weights, "evaluate these weights (e.g. <run>/snapshots/step-000500.safetensors), not the checkpoint's")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "the CSV's file name inside the run directory")->capture_default_str();
  cmd->add_option("--sensitivity-sequences", o->sensitivity_sequences,
                  "sequences for the sensitivity agreement (GD's gradient costs 2·k·d GD runs per k)")
      ->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--sensitivity-k", o->sensitivity_k, "the k at which to measure sensitivity agreement (none: skip it)")
      ->capture_default_str();
  cmd->callback([o] {
    const nn::DirectoryLock lock = lab::lock_existing_run(o->run, "icalign agree");
    const std::string path = cli::file_in_run(o->run, o->out);
    const lab::TrainedRun run = lab::load_run(o->run, o->weights);
    ag::Rng data(o->eval.seed);
    const lab::Batch<double> b = lab::sample_batch<double>(run.cfg.task, o->eval.sequences, data);
    const lab::Answerer gd = lab::gd_answerer(o->eval.gd, o->eval.seed);  // the same start for every map
    const std::size_t N = run.cfg.model.n_points;
    for (std::size_t k : o->sensitivity_k)
      if (k < 1 || k >= N) throw std::invalid_argument("--sensitivity-k: every k must be in 1.." + std::to_string(N - 1) + ", got " + std::to_string(k));
    const lab::Answerer construct = lab::baseline("construct");
    // The ceiling of agreement with GD: GD itself from another initialisation.
    const lab::Answerer gd_other_init = lab::gd_answerer(o->eval.gd, o->eval.seed ^ 0x5EED5EEDull, "gd_other_init");
    auto rows = lab::agreement_study({lab::model_answerer(*run.model), construct, gd_other_init}, gd, b, N);
    ag::Rng first(o->eval.seed);  // the same sequences' first few, for the costly sensitivity measure
    const lab::Batch<double> few = lab::sample_batch<double>(run.cfg.task, std::min(o->sensitivity_sequences, o->eval.sequences), first);
    for (const auto& r : lab::sensitivity_study(*run.model, {construct}, gd, few, o->sensitivity_k, o->eval.seed))
      rows.push_back(r);
    lab::write_agreement_csv(path, rows);
    std::printf("%-24s %-9s %-9s %8s %8s %8s %8s  (mean over %zu sequences, sensitivity over %zu) -> %s\n", "measure", "method",
                "map", "k=2", "k=5", "k=10", "k=19", o->eval.sequences, few.xs.shape()[0], path.c_str());
    std::set<std::string> shown;  // one line per (measure, method, map): its values at a few k
    for (const auto& r : rows) {
      if (!shown.insert(r.measure + '/' + r.method + '/' + r.map).second) continue;
      std::printf("%-24s %-9s %-9s", r.measure.c_str(), r.method.c_str(), r.map.c_str());
      for (std::size_t k : {2, 5, 10, 19}) {
        const auto at = std::find_if(rows.begin(), rows.end(), [&](const lab::AgreementRow& s) {
          return s.measure == r.measure && s.method == r.method && s.map == r.map && s.k == k;
        });
        if (at == rows.end()) std::printf(" %8s", "-");
        else std::printf(" %8.4f", at->mean);
      }
      std::printf("\n");
    }
  });
}

}  // namespace cli

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "experiments/cli/commands.hpp"
#include "experiments/studies/construction_study.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace cli {
namespace {

struct Options {
  std::string out = "runs/construct", run;
  std::size_t contexts = 256;
  std::uint64_t seed = 1;
  lab::CompareOptions compare;
};

// Writes the CSV text and says where it went.
void save(const std::string& path, const std::string& csv) {
  nn::write_atomically(path, csv);
  std::printf("-> %s\n\n", path.c_str());
}

void run(const Options& o) {
  nn::make_directories(o.out);
  std::ostringstream csv;
  csv.precision(6);

  std::printf("1. The construction against direct GD on the quadratic-reward PL loss, %zu random contexts each\n"
              "   (d = 5, beta = 1, eta = %g, delta = 0.5/N, gamma = 40/delta)\n%4s %3s %16s %16s\n",
              o.contexts, lab::ConstructionConfig{}.eta, "N", "K", "max |tf - gd|", "max rel. error");
  csv << "N,K,contexts,max_abs_error,max_rel_error\n";
  for (const auto& r : lab::equality_study(o.contexts, o.seed)) {
    std::printf("%4zu %3zu %16.3e %16.3e\n", r.N, r.K, r.max_abs, r.max_rel);
    csv << r.N << ',' << r.K << ',' << r.contexts << ',' << r.max_abs << ',' << r.max_rel << '\n';
  }
  {
    lab::ConstructionConfig big;
    big.n_responses = 20, big.steps = 3;
    const lab::ConstructedTransformer tf(big);
    std::printf("   (N = 20, K = 3 is %zu blocks of width %zu, %zu parameters, all set by hand)\n", tf.h.size(),
                tf.layout.width, tf.num_parameters());
  }
  save(o.out + "/equality.csv", csv.str());

  csv.str("");
  std::printf("2. Error against selection sharpness gamma (N = 5, K = 1): measured max ||tf - gd|| and the bound\n"
              "%8s %14s %14s\n", "gamma*delta", "measured", "bound");
  csv << "gamma_delta,measured_max,bound_max\n";
  for (const auto& r : lab::sharpness_study(5, o.contexts, o.seed + 1)) {
    std::printf("%8g %14.3e %14.3e%s\n", r.gamma_delta, r.measured_max, r.bound_max,
                r.measured_max > r.bound_max * (1 + 1e-6) + 1e-13 ? "   (above the bound: a flag went wrong)" : "");
    csv << r.gamma_delta << ',' << r.measured_max << ',' << r.bound_max << '\n';
  }
  save(o.out + "/sharpness.csv", csv.str());

  csv.str("");
  std::printf("3. Components (N = 10, K = 1): relative error ||u - u_gd|| / ||u_gd - u0|| over %zu contexts\n"
              "%-40s %12s %12s\n", o.contexts, "variant", "mean", "max");
  csv << "variant,rel_error_mean,rel_error_max\n";
  for (const auto& r : lab::component_study(10, o.contexts, o.seed + 2)) {
    std::printf("%-40s %12.3e %12.3e\n", r.variant.c_str(), r.rel_mean, r.rel_max);
    csv << '"' << r.variant << "\"," << r.rel_mean << ',' << r.rel_max << '\n';
  }
  save(o.out + "/components.csv", csv.str());
  std::vector<std::string> figures{o.out + "/sharpness.csv"};

  if (!o.run.empty()) {
    double max_diff = 0;
    std::size_t narrow = 0;
    const auto curves = lab::compare_study(o.run, o.compare, max_diff, narrow);
    std::printf("4. Trained transformer (%s, cosine-reward PL objective) vs the construction (quadratic-reward PL,\n"
                "   beta = %g, eta = %g, u0 = 0) vs GD, on %zu held-out sequences: 1 - cos(answer, y*)\n",
                o.run.c_str(), o.compare.beta, o.compare.eta, o.compare.eval.sequences);
    lab::print_curves(stdout, curves);
    std::printf("   construction vs direct GD on the same sequences: max |difference| %.3e "
                "(%zu sequences with a reward gap below delta = %g left out)\n",
                max_diff, narrow, o.compare.min_gap);
    lab::write_csv(o.out + "/compare.csv", curves, o.compare.eval.sequences);
    std::printf("-> %s\n\n", (o.out + "/compare.csv").c_str());
    figures.push_back(o.out + "/compare.csv");
  }
  run_plot_script("plot_construct.py", figures);
}

}  // namespace

void add_construct(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("construct", "the explicit construction: equality with GD, error bound, ablations, "
                                              "comparison with a trained run; CSV and PNG in --out");
  cmd->add_option("--out", o->out, "output directory")->capture_default_str();
  cmd->add_option("--run", o->run, "a trained run to compare with on its held-out sequences (e.g. runs/small)");
  cmd->add_option("--contexts", o->contexts, "random contexts per table row")->check(CLI::Range(2, 1 << 16))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random contexts")->capture_default_str();
  cmd->add_option("--sequences", o->compare.eval.sequences, "held-out sequences for the comparison")
      ->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--steps", o->compare.steps, "GD steps K of the constructions compared")->check(CLI::Range(1, 100));
  cmd->add_option("--beta", o->compare.beta, "reward sharpness of the construction in the comparison")
      ->check(number_in(1e-300, 1e300))->capture_default_str();
  cmd->add_option("--eta", o->compare.eta, "GD learning rate of the construction in the comparison")
      ->check(number_in(0.0, 1e300))->capture_default_str();
  cmd->callback([o] {
    if (!o->run.empty() && nn::training_state_dir(o->run + "/checkpoint").empty())
      throw std::runtime_error("run '" + o->run + "' has no checkpoint to compare with (train it first)");
    run(*o);
  });
}

}  // namespace cli

// A whole (tiny) run: train, evaluate against the baselines, write the CSV; and the errors on the way.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/studies/evaluate.hpp"
#include "experiments/train/trainer.hpp"
#include "testing.hpp"

using Catch::Contains;
namespace fs = std::filesystem;

namespace {
lab::RunConfig tiny() {
  return lab::parse_config("model: {n_points: 5, n_embd: 8, n_layer: 1, n_head: 2}\n"
                           "training: {batch_size: 4, train_steps: 12, log_every: 5, checkpoint_every: 5}\n");
}
}  // namespace

TEST_CASE("train then evaluate a tiny run: every method, every k, a CSV", "[lab][run]") {
  const std::string dir = "tiny_run_dir";
  fs::remove_all(dir);
  std::ostringstream progress;
  const auto r = lab::train(tiny(), dir, false, progress);
  CHECK(r.steps == 12);
  CHECK_THAT(progress.str(), Contains("step 12/12"));
  std::ifstream log(dir + "/log.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(log, line)) ++lines, last = line;
  CHECK(lines == 3);  // steps 5, 10, 12
  CHECK_THAT(last, Contains("\"step\":12,"));

  SECTION("with the Bradley-Terry loss and held-out evaluation in the log") {
    const std::string bt_dir = "tiny_run_bt_dir";
    fs::remove_all(bt_dir);
    lab::RunConfig c = tiny();
    c.training.loss = lab::Loss::BradleyTerry;
    c.training.eval_every = 4;
    lab::train(c, bt_dir, false, progress);
    std::ifstream bt_log(bt_dir + "/log.jsonl");
    std::string all((std::istreambuf_iterator<char>(bt_log)), std::istreambuf_iterator<char>());
    CHECK_THAT(all, Contains("{\"step\":8,\"held_out_error\":"));
    fs::remove_all(bt_dir);
  }

  lab::EvalOptions opt;
  opt.sequences = 16;
  opt.gd.steps = 3;
  const auto curves = lab::evaluate_run(dir, opt);
  REQUIRE(curves.size() == 6);
  for (const auto& c : curves) {
    INFO(c.method);
    REQUIRE(c.mean.size() == 4);  // k = 1..N-1
    for (std::size_t i = 0; i < 4; ++i) CHECK((c.mean[i] >= -1e-12 && c.mean[i] <= 2.0 && c.sem[i] >= 0.0));  // 1 - cos rounds below 0
  }
  // The exact solution is exact from two responses on; with one response seen, every baseline
  // answers that response.
  const auto by_name = [&](const std::string& m) {
    for (const auto& c : curves)
      if (c.method == m) return c;
    FAIL("no curve " << m);
    return curves[0];
  };
  for (std::size_t i = 1; i < 4; ++i) CHECK(by_name("exact").mean[i] < 1e-9);
  CHECK(by_name("best_response").mean[0] == by_name("mean_response").mean[0]);
  // The model's curve, recomputed by hand: the checkpoint's model on the same held-out sequences,
  // 1 - cos at x-token k, averaged in a plain loop.
  {
    const lab::TrainedRun run = lab::load_run(dir);
    ag::Rng data(opt.seed);
    const auto b = lab::sample_batch<double>(run.cfg.task, opt.sequences, data);
    const ag::TensorD pred = lab::model_answers(*run.model, b);  // (16, 5, 5)
    const std::size_t N = 5, d = 5;
    for (std::size_t k = 1; k < N; ++k) {
      double mean = 0;
      for (std::size_t s = 0; s < opt.sequences; ++s) {
        double dot = 0, pp = 0, yy = 0;
        for (std::size_t i = 0; i < d; ++i) {
          const double p = pred.data()[(s * N + k) * d + i], y = b.ystar.data()[s * d + i];
          dot += p * y, pp += p * p, yy += y * y;
        }
        mean += (1 - dot / std::sqrt(pp * yy)) / static_cast<double>(opt.sequences);
      }
      CHECK_THAT(by_name("model").mean[k - 1], Catch::Matchers::WithinAbs(mean, 1e-9));
    }
  }
  lab::write_csv(dir + "/eval.csv", curves, 16);
  std::ifstream csv(dir + "/eval.csv");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == 1 + 6 * 4);

  CHECK_THROWS_WITH(lab::train(tiny(), dir, false, progress), Contains("already holds a checkpoint"));
  CHECK_THROWS_WITH(lab::write_csv("no/such/dir/eval.csv", curves, 16), Contains("cannot write"));
  fs::remove_all(dir);
}

TEST_CASE("evaluating or resuming what is not a run is a clear error", "[lab][run][errors]") {
  std::ostringstream progress;
  CHECK_THROWS_WITH(lab::evaluate_run("no_such_run", {}), Contains("not a run directory"));
  CHECK_THROWS_WITH(lab::train(tiny(), "no_such_run_either", true, progress), Contains("has no checkpoint"));
  CHECK_FALSE(fs::exists("no_such_run_either/config.yaml"));  // nothing partial left behind
  fs::remove_all("no_such_run_either");
}

TEST_CASE("a resume drops log lines past the checkpoint, and a line torn by a kill", "[lab][run][resume]") {
  const std::string dir = "tiny_run_torn_log_dir";
  fs::remove_all(dir);
  std::ostringstream progress;
  lab::RunConfig c = tiny();
  c.training.train_steps = 10;  // checkpoints at 5 and 10, log lines at 5 and 10
  lab::train(c, dir, false, progress);
  std::ofstream(dir + "/log.jsonl", std::ios::app) << "{\"step\":15,\"loss\":0.5}\n{\"step\":17,\"lo";  // torn mid-write
  c.training.train_steps = 12;
  CHECK(lab::train(c, dir, true, progress).steps == 12);
  std::ifstream log(dir + "/log.jsonl");
  std::vector<std::string> steps;
  for (std::string line; std::getline(log, line);) steps.push_back(line.substr(0, line.find(',')));
  CHECK(steps == std::vector<std::string>{"{\"step\":5", "{\"step\":10", "{\"step\":12"});
  fs::remove_all(dir);
}

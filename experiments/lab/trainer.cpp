#include "experiments/lab/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

#include "experiments/lab/losses.hpp"
#include "experiments/lab/model.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace lab {
namespace {

// A fresh run needs a directory without a checkpoint; --resume needs one with.
void prepare_run_dir(const RunConfig& cfg, const std::string& run_dir, bool resume) {
  const bool has_checkpoint = !nn::training_state_dir(run_dir + "/checkpoint").empty();
  if (!resume && has_checkpoint)
    throw std::runtime_error("run directory '" + run_dir + "' already holds a checkpoint: pass --resume to continue it, "
                             "or choose another directory");
  if (resume && !has_checkpoint) throw std::runtime_error("cannot resume: '" + run_dir + "' has no checkpoint");
  // Only the run directory itself is created: a missing parent is more likely a typo than a wish.
  const std::string parent = std::filesystem::path(run_dir).parent_path().string();
  if (!parent.empty() && !nn::path_exists(parent))
    throw std::runtime_error("cannot create run directory '" + run_dir + "': '" + parent + "' does not exist");
  nn::make_directories(run_dir);
  nn::write_atomically(run_dir + "/config.yaml", cfg.to_yaml());
}

// On resume, the log keeps only the lines up to the checkpoint's step: later lines belong to work
// that is about to be redone. A line torn by a kill mid-write is not JSON: it is dropped too.
void truncate_log(const std::string& path, long step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("step", step + 1) <= step) kept += line + "\n";
  }
  nn::write_atomically(path, kept);
}

// Everything a run draws from its one seed: the initial weights, the training data, and a fixed
// held-out batch from a stream the training data never uses.
struct Streams {
  ag::Rng init, data, eval;
  explicit Streams(std::uint64_t seed)
      : init(seed), data(seed ^ 0x9E3779B97F4A7C15ull), eval(seed ^ 0x5851F42D4C957F2Dull) {}
};

// Mean over k = 2..N-1 of 1 - cos(answer at x-token k, y*).
double held_out_error(const ICAlignTransformer<float>& model, const Batch<float>& b) {
  ag::NoGradGuard no_grad;
  const ag::TensorF pred = model(b.xs, b.ys, b.rs);
  const std::size_t B = pred.shape()[0], N = pred.shape()[1], d = pred.shape()[2];
  const ag::TensorF ystar = ag::reshape(b.ystar, {long(B), 1, long(d)});
  const ag::TensorF err = 1.0f - ag::cosine_similarity(pred, ystar, -1);  // (B, N)
  return ag::mean(ag::slice(err, 1, 2, N)).item();
}

std::string duration(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  return buf;
}

// One line, redrawn in place: [####......] step 120/3000  loss 0.51  9.8 steps/s  ETA 4m54s
class ProgressBar {
 public:
  ProgressBar(std::ostream& out, long first, long total) : out_(out), first_(first), total_(total) {}
  void show(long step, double loss) const {
    const double rate = static_cast<double>(step - first_) / std::max(elapsed(), 1e-9);
    const int filled = static_cast<int>(30.0 * static_cast<double>(step) / static_cast<double>(total_));
    out_ << "\r[" << std::string(filled, '#') << std::string(30 - filled, '.') << "] step " << step << "/" << total_
         << "  loss " << loss << "  " << rate << " steps/s  ETA "
         << duration(static_cast<double>(total_ - step) / std::max(rate, 1e-9)) << "   " << std::flush;
  }
  double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

 private:
  std::ostream& out_;
  long first_, total_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// log.jsonl: one JSON object a line, flushed as written so a killed run keeps every line.
class Log {
 public:
  explicit Log(const std::string& path) : out_(path, std::ios::app) {
    if (!out_) throw std::runtime_error("cannot open '" + path + "' for appending");
  }
  void write(const nlohmann::ordered_json& line) {
    out_ << line.dump() << "\n" << std::flush;
    if (!out_) throw std::runtime_error("cannot write the training log");
  }

 private:
  std::ofstream out_;
};

bool due(long step, long every, long total) { return step % every == 0 || step == total; }

}  // namespace

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::ostream& progress) {
  cfg.validate();
  prepare_run_dir(cfg, run_dir, resume);
  const std::string ckpt = run_dir + "/checkpoint", log_path = run_dir + "/log.jsonl";
  const TrainConfig& tc = cfg.training;
  ag::set_num_threads(tc.threads);

  Streams rng(tc.seed);
  const ICAlignTransformer<float> model(cfg.model, rng.init);
  nn::Adam<float> opt(model.named_parameters(), tc.learning_rate);
  const nn::Metadata meta = cfg.model.to_metadata();
  const Batch<float> held_out = sample_batch<float>(cfg.task, 256, rng.eval);
  long step = 0;
  if (resume) {
    step = nn::load_training_state(ckpt, model, opt, rng.data, meta);
    truncate_log(log_path, step);
    progress << "resumed " << run_dir << " at step " << step << "\n";
  } else {
    nn::write_atomically(log_path, "");
  }
  Log log(log_path);
  ProgressBar bar(progress, step, tc.train_steps);
  double loss_sum = 0;
  long loss_count = 0;
  TrainResult result;
  while (step < tc.train_steps) {
    const Batch<float> b = sample_batch<float>(cfg.task, tc.batch_size, rng.data);
    const ag::TensorF pred = model(b.xs, b.ys, b.rs);
    const ag::TensorF loss = tc.bradley_terry ? bt_loss(pred, b.ys, b.rs) : pl_loss(pred, b.ys, b.rs);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ++step, ++loss_count, loss_sum += loss.item();
    if (due(step, tc.log_every, tc.train_steps)) {
      result.last_loss = loss_sum / static_cast<double>(loss_count);
      log.write({{"step", step}, {"loss", result.last_loss}, {"elapsed_s", bar.elapsed()}});
      bar.show(step, result.last_loss);
      loss_sum = 0, loss_count = 0;
    }
    if (tc.eval_every > 0 && step % tc.eval_every == 0)
      log.write({{"step", step}, {"held_out_error", held_out_error(model, held_out)}});
    if (due(step, tc.checkpoint_every, tc.train_steps)) nn::save_training_state(ckpt, model, opt, rng.data, meta);
  }
  progress << "\n";
  result.steps = step;
  return result;
}

}  // namespace lab

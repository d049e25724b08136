#include "experiments/train/trainer.hpp"

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "experiments/train/data_parallel.hpp"
#include "experiments/train/interrupts.hpp"
#include "experiments/train/memory.hpp"
#include "experiments/train/on_policy.hpp"
#include "experiments/model/model.hpp"
#include "nn/checkpoint.hpp"
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
  explicit Log(const std::string& path) : path_(path), out_(path, std::ios::app) {
    if (!out_) throw std::runtime_error("cannot open '" + path + "' for appending");
  }
  void write(const nlohmann::ordered_json& line) {
    out_ << line.dump() << "\n" << std::flush;
    if (!out_) throw std::runtime_error("cannot append to '" + path_ + "': " + std::strerror(errno));
  }

 private:
  std::string path_;
  std::ofstream out_;
};

// The losses summed since the last log line. A checkpoint between log lines (one written on
// Ctrl-C) keeps them, exactly (as hex floats), so the resumed run's next log line is the same.
struct PartialLoss {
  double sum = 0;
  long count = 0;
  nn::Metadata into(nn::Metadata meta) const {
    char hex[64];
    std::snprintf(hex, sizeof hex, "%a", sum);
    meta["log.loss_sum"] = hex;
    meta["log.loss_count"] = std::to_string(count);
    return meta;
  }
  static PartialLoss from(const nn::Metadata& saved) {
    PartialLoss p;
    const auto sum = saved.find("log.loss_sum"), count = saved.find("log.loss_count");
    if (sum != saved.end() && count != saved.end()) p.sum = std::strtod(sum->second.c_str(), nullptr), p.count = std::stol(count->second);
    return p;
  }
};

// "" when the step's loss and every gradient are finite; else what is not.
std::string what_is_nonfinite(double loss, const ICAlignTransformer<float>& model) {
  if (std::isnan(loss)) return "the loss is NaN";
  if (std::isinf(loss)) return "the loss is infinite";
  const std::string bad = nn::first_nonfinite(model.named_parameters(), /*of_gradients=*/true);
  return bad.empty() ? "" : "the gradient of '" + bad + "' holds a NaN or an infinity";
}

bool due(long step, long every, long total) { return step % every == 0 || step == total; }

}  // namespace

nn::DirectoryLock lock_run_dir(const std::string& run_dir, const std::string& task) {
  const std::string parent = std::filesystem::path(run_dir).parent_path().string();
  if (!parent.empty() && !nn::path_exists(parent))
    throw std::runtime_error("cannot create run directory '" + run_dir + "': '" + parent + "' does not exist");
  nn::make_directories(run_dir);
  return nn::DirectoryLock(run_dir, task);
}

nn::DirectoryLock lock_existing_run(const std::string& run_dir, const std::string& task) {
  load_run_config(run_dir);  // "... is not a run directory" before anything else
  return nn::DirectoryLock(run_dir, task);
}

std::string snapshot_path(const std::string& run_dir, long step) {
  char name[40];
  std::snprintf(name, sizeof name, "/snapshots/step-%06ld.safetensors", step);
  return run_dir + name;
}

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::ostream& progress,
                  const Group& group) {
  cfg.validate();
  refuse_if_too_large(cfg);
  const bool leader = group.leader();  // the one rank that writes files and progress
  if (leader) prepare_run_dir(cfg, run_dir, resume);
  const std::string ckpt = run_dir + "/checkpoint", log_path = run_dir + "/log.jsonl";
  const TrainConfig& tc = cfg.training;
  ag::set_num_threads(tc.threads);

  Streams rng(tc.seed);
  const ICAlignTransformer<float> model(cfg.model, rng.init);
  nn::Adam<float> opt(model.named_parameters(), tc.learning_rate);
  const nn::Metadata meta = cfg.model.to_metadata();
  const Batch<float> held_out = sample_batch<float>(cfg.task, 256, rng.eval);
  long step = 0, saved_step = 0;
  PartialLoss loss;
  if (resume) {  // every rank loads the same state
    nn::Metadata saved;
    step = saved_step = nn::load_training_state(ckpt, model, opt, rng.data, meta, &saved);
    loss = PartialLoss::from(saved);
    if (leader) truncate_log(log_path, step), progress << "resumed " << run_dir << " at step " << step << "\n";
  } else if (leader) {
    nn::write_atomically(log_path, "");
  }
  auto checkpoint = [&] {
    if (leader) nn::save_training_state(ckpt, model, opt, rng.data, loss.into(meta));
    saved_step = step;
  };
  std::optional<Log> log;
  if (leader) log.emplace(log_path);
  ProgressBar bar(progress, step, tc.train_steps);
  const InterruptGuard interrupts;
  TrainResult result;
  while (step < tc.train_steps) {
    // Every rank draws the whole batch (cheap) and trains on its own micro-batches of it.
    const Batch<float> b = tc.on_policy == 0 ? sample_batch<float>(cfg.task, tc.batch_size, rng.data)
                                             : with_own_answers(model, cfg.task, sample_batch<double>(cfg.task, tc.batch_size, rng.data),
                                                                tc.on_policy, tc.on_policy_explore, rng.data);
    const StepGradient g = data_parallel_gradient(model, b, tc, group, interrupts.caught() != 0);
    // A NaN or an infinity stops the run before it reaches the weights; the last checkpoint stays.
    // Every rank holds the same gradient, so every rank stops at the same step.
    const std::string nonfinite = what_is_nonfinite(g.loss, model);
    if (!nonfinite.empty())
      throw std::runtime_error("step " + std::to_string(step + 1) + ": " + nonfinite +
                               "; training stopped before the update, the checkpoint of step " + std::to_string(saved_step) +
                               " is intact (a lower training.learning_rate may help)");
    opt.step();
    ++step, ++loss.count, loss.sum += g.loss;
    if (due(step, tc.log_every, tc.train_steps)) {
      result.last_loss = loss.sum / static_cast<double>(loss.count);
      if (leader) {
        log->write({{"step", step}, {"loss", result.last_loss}, {"elapsed_s", bar.elapsed()}});
        bar.show(step, result.last_loss);
      }
      loss = {};
    }
    if (leader && tc.eval_every > 0 && step % tc.eval_every == 0)
      log->write({{"step", step}, {"held_out_error", held_out_error(model, held_out)}});
    if (due(step, tc.checkpoint_every, tc.train_steps)) checkpoint();
    if (leader && tc.snapshot_every > 0 && step % tc.snapshot_every == 0) {
      nn::make_directories(run_dir + "/snapshots");
      nn::save_safetensors(snapshot_path(run_dir, step), model.named_parameters(), meta);
    }
    if (g.interrupted && step < tc.train_steps) {
      if (saved_step != step) checkpoint();
      throw Interrupted("interrupted at step " + std::to_string(step) + " of " + std::to_string(tc.train_steps) +
                            "; the training state is saved in " + ckpt + ": --resume continues from it",
                        interrupts.caught() != 0 ? interrupts.caught() : SIGINT);
    }
  }
  if (leader) progress << "\n";
  result.steps = step;
  return result;
}

}  // namespace lab

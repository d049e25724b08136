#include "experiments/lab/trainer.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "experiments/lab/io.hpp"
#include "experiments/lab/losses.hpp"
#include "nn/train_state.hpp"

namespace lab {
namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// On resume, the log keeps only the lines up to the checkpoint's step: later lines belong to work
// that is about to be redone.
void truncate_log(const std::string& path, long step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    const auto pos = line.find("\"step\":");
    if (pos != std::string::npos && std::stol(line.substr(pos + 7)) <= step) kept += line + "\n";
  }
  write_atomically(path, kept);
}

std::string duration(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  return buf;
}

}  // namespace

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::ostream& progress) {
  cfg.validate();
  const std::string ckpt = run_dir + "/checkpoint", log_path = run_dir + "/log.jsonl";
  if (!resume && !nn::training_state_dir(ckpt).empty())
    throw std::runtime_error("run directory '" + run_dir + "' already holds a checkpoint: pass --resume to continue it, "
                             "or choose another directory");
  if (resume && nn::training_state_dir(ckpt).empty())
    throw std::runtime_error("cannot resume: '" + run_dir + "' has no checkpoint");
  if (::mkdir(run_dir.c_str(), 0755) != 0 && !exists(run_dir))
    throw std::runtime_error("cannot create run directory '" + run_dir + "'");
  write_atomically(run_dir + "/config.yaml", cfg.to_yaml());

  ag::set_num_threads(cfg.training.threads);
  // Separate streams for the initial weights and for the data, both from the one seed.
  ag::Rng init_rng(cfg.training.seed), data_rng(cfg.training.seed ^ 0x9E3779B97F4A7C15ull);
  const nn::ICAlignTransformer<float> model(cfg.model, init_rng);
  nn::Adam<float> opt(model.named_parameters(), cfg.training.learning_rate);
  long step = 0;
  if (resume) {
    step = nn::load_training_state(ckpt, model, opt, data_rng);
    truncate_log(log_path, step);
    progress << "resumed " << run_dir << " at step " << step << "\n";
  } else {
    write_atomically(log_path, "");
  }
  std::ofstream log(log_path, std::ios::app);

  // A fixed held-out batch for eval_every, from a stream the training data never uses.
  ag::Rng eval_rng(cfg.training.seed ^ 0x5851F42D4C957F2Dull);
  const Batch<float> held_out = sample_batch<float>(cfg.task, 256, eval_rng);
  auto held_out_error = [&] {  // mean over k = 2..N-1 of 1 - cos(answer at x-token k, y*)
    ag::NoGradGuard no_grad;
    const ag::TensorF pred = model(held_out.xs, held_out.ys, held_out.rs);
    const std::size_t B = pred.shape()[0], N = pred.shape()[1], d = pred.shape()[2];
    const ag::TensorF ystar = ag::reshape(held_out.ystar, {long(B), 1, long(d)});
    const ag::TensorF err = 1.0f - ag::cosine_similarity(pred, ystar, -1);  // (B, N)
    return ag::mean(ag::slice(err, 1, 2, N)).item();
  };
  auto loss_of = [&](const ag::TensorF& pred, const Batch<float>& b) {
    return cfg.training.bradley_terry ? bt_loss(pred, b.ys, b.rs) : pl_loss(pred, b.ys, b.rs);
  };

  const long total = cfg.training.train_steps;
  const auto t0 = std::chrono::steady_clock::now();
  const long first = step;
  double loss_sum = 0;
  long loss_count = 0;
  TrainResult result;
  while (step < total) {
    const Batch<float> b = sample_batch<float>(cfg.task, cfg.training.batch_size, data_rng);
    const ag::TensorF loss = loss_of(model(b.xs, b.ys, b.rs), b);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ++step;
    loss_sum += loss.item();
    ++loss_count;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step % cfg.training.log_every == 0 || step == total) {
      result.last_loss = loss_sum / static_cast<double>(loss_count);
      log << "{\"step\": " << step << ", \"loss\": " << result.last_loss << ", \"elapsed_s\": " << elapsed << "}\n";
      log.flush();
      loss_sum = 0, loss_count = 0;
      const double rate = static_cast<double>(step - first) / std::max(elapsed, 1e-9);
      const int filled = static_cast<int>(30.0 * static_cast<double>(step) / static_cast<double>(total));
      progress << "\r[" << std::string(filled, '#') << std::string(30 - filled, '.') << "] step " << step << "/" << total
               << "  loss " << result.last_loss << "  " << rate << " steps/s  ETA "
               << duration(static_cast<double>(total - step) / std::max(rate, 1e-9)) << "   " << std::flush;
    }
    if (cfg.training.eval_every > 0 && step % cfg.training.eval_every == 0) {
      log << "{\"step\": " << step << ", \"held_out_error\": " << held_out_error() << "}\n";
      log.flush();
    }
    if (step % cfg.training.checkpoint_every == 0 || step == total) nn::save_training_state(ckpt, model, opt, data_rng);
  }
  progress << "\n";
  result.steps = step;
  return result;
}

}  // namespace lab

#include "experiments/lab/trainer.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "experiments/lab/losses.hpp"
#include "nn/train_state.hpp"

namespace lab {
namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
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

  const long total = cfg.training.train_steps;
  const auto t0 = std::chrono::steady_clock::now();
  const long first = step;
  double loss_sum = 0;
  long loss_count = 0;
  TrainResult result;
  while (step < total) {
    const Batch<float> b = sample_batch<float>(cfg.task, cfg.training.batch_size, data_rng);
    const ag::TensorF loss = pl_loss(model(b.xs, b.ys, b.rs), b.ys, b.rs);
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
    if (step % cfg.training.checkpoint_every == 0 || step == total) nn::save_training_state(ckpt, model, opt, data_rng);
  }
  progress << "\n";
  result.steps = step;
  return result;
}

}  // namespace lab

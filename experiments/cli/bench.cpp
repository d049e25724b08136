// icalign bench: the training step of the paper's workload (configs A, B, C: the model and batch of
// experiments/configs/paper_default.yaml, paper_heads4.yaml and small.yaml, handed to the PyTorch
// oracle's bench as numbers), timed phase by phase, next to PyTorch on the same config in the same invocation, OpenBLAS's own threaded sgemm, and the machine's fp32 peak (the step's floor).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "autograd/blas.hpp"
#include "experiments/train/child_process.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/task/losses.hpp"
#include "experiments/train/config.hpp"
#include "experiments/task/task.hpp"
#include "nn/optim.hpp"
#include "experiments/model/model.hpp"

namespace cli {
namespace {

// A workload: the model and batch size of a config file.
struct Workload {
  lab::ModelConfig model;
  std::size_t batch;
};
const std::map<std::string, std::string> kWorkloadConfigs{
    {"A", "paper_default.yaml"}, {"B", "paper_heads4.yaml"}, {"C", "small.yaml"}};
Workload workload(const std::string& name) {
  const lab::RunConfig c = lab::load_config(AG_SOURCE_DIR "/experiments/configs/" + kWorkloadConfigs.at(name));
  return {c.model, c.training.batch_size};
}

// GEMM flops of one step, counted as the reference's matmul_flops() does.
struct Flops {
  double forward, train;
};
Flops matmul_flops(const Workload& w) {
  const double N = static_cast<double>(w.model.n_points), d = static_cast<double>(w.model.n_dims);
  const double T = 3 * N, BT = static_cast<double>(w.batch) * T, D = static_cast<double>(w.model.n_embd), B = static_cast<double>(w.batch);
  const double per_layer = 2 * BT * D * (3 * D + D + 4 * D + 4 * D) + 2 * 2 * B * T * T * D;
  const double io = 2 * BT * d * D + 2 * BT * D * d;
  const double fwd = static_cast<double>(w.model.n_layer) * per_layer + io;
  const double loss = 2 * B * N * N * d + 2 * B * N * N * N;
  const double bwd = 2 * fwd - 2 * BT * d * D;
  return {fwd + loss, fwd + bwd + 3 * loss};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

struct Timing {
  double step = 0, fwd_loss = 0, backward = 0, adam = 0, forward_only = 0, rss_mb = 0;
};

Timing time_ours(const Workload& w, int threads, int steps, int warmup) {
  ag::set_num_threads(threads);
  ag::Rng rng(0);
  const lab::ICAlignTransformer<float> model(w.model, rng);
  nn::Adam<float> opt(model.named_parameters(), 1e-4);
  lab::TaskConfig task;
  task.n_dims = w.model.n_dims, task.n_points = w.model.n_points;
  std::vector<lab::Batch<float>> batches;
  for (int i = 0; i < 4; ++i) batches.push_back(lab::sample_batch<float>(task, w.batch, rng));
  std::vector<double> step, fwd, bwd, adam, fwd_only;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto& b = batches[i % 4];
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    const ag::TensorF loss = lab::pl_loss(model(b.xs, b.ys, b.rs), b.ys, b.rs);
    const double t_fwd = seconds_since(t0);
    loss.backward();
    const double t_bwd = seconds_since(t0);
    opt.step();
    (void)loss.item();
    const double t_all = seconds_since(t0);
    if (i >= warmup) step.push_back(t_all), fwd.push_back(t_fwd), bwd.push_back(t_bwd - t_fwd), adam.push_back(t_all - t_bwd);
  }
  for (int i = 0; i < warmup + steps; ++i) {
    const auto& b = batches[i % 4];
    const auto t0 = std::chrono::steady_clock::now();
    ag::NoGradGuard no_grad;
    (void)lab::pl_loss(model(b.xs, b.ys, b.rs), b.ys, b.rs).item();
    if (i >= warmup) fwd_only.push_back(seconds_since(t0));
  }
  return {median(step), median(fwd), median(bwd), median(adam), median(fwd_only), peak_rss_mb()};
}

// OpenBLAS's own threaded sgemm on the model's largest GEMM shape, (B T × C)·(C × 4C): GFLOP/s.
double sgemm_gflops(const Workload& w, int threads) {
  const std::size_t M = w.batch * 3 * w.model.n_points, K = w.model.n_embd, N = 4 * w.model.n_embd;
  std::vector<float> A(M * K, 0.5f), B(K * N, 0.25f), C(M * N);
  const auto backend = ag::blas::backend();
  ag::blas::set_backend(ag::blas::Backend::OpenBLAS);  // the yardstick is OpenBLAS's, whatever we run on
  ag::blas::set_native_threads(threads);
  std::vector<double> t;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ag::blas::gemm<float>(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    t.push_back(seconds_since(t0));
  }
  ag::blas::set_single_threaded();
  ag::blas::set_backend(backend);
  return 2.0 * static_cast<double>(M * N * K) / median(t) * 1e-9;
}

// PyTorch's bench mode on the same config, with its best threading (docs/performance.md): median
// s/step for training and forward only, and its peak RSS. Empty when PyTorch is missing.
struct TorchTiming {
  bool ok = false;
  double step = 0, forward_only = 0, rss_mb = 0;
  std::string note;
};
TorchTiming time_torch(const Workload& w, int threads, int steps, int warmup) {
  TorchTiming r;
  // PyTorch at its best: its OpenBLAS misdetects the same CPUs ours does, so it gets the same fix.
  std::vector<std::string> env{"OMP_WAIT_POLICY=PASSIVE", "OPENBLAS_THREAD_TIMEOUT=4", "PYTHONPATH=" AG_SOURCE_DIR "/python"};
  if (!ag::blas::openblas_coretype_fix().empty()) env.push_back("OPENBLAS_CORETYPE=" + ag::blas::openblas_coretype_fix());
  auto run = [&](const std::vector<std::string>& extra, double& seconds, double* rss) {
    std::vector<std::string> argv{"/usr/bin/python3", "-m", "icalign_torch", "bench",
                                  "--n-layer", std::to_string(w.model.n_layer), "--n-embd", std::to_string(w.model.n_embd),
                                  "--n-head", std::to_string(w.model.n_head), "--n-points", std::to_string(w.model.n_points),
                                  "--n-dims", std::to_string(w.model.n_dims), "--batch", std::to_string(w.batch),
                                  "--threads", std::to_string(threads), "--steps", std::to_string(steps), "--warmup", std::to_string(warmup)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    lab::ChildResult child;
    try {
      child = lab::run_child(argv, env);
    } catch (const std::exception& e) {
      r.note = e.what();
      return false;
    }
    const std::string& out = child.output;
    const int status = child.exit_status;
    const auto at = out.find("median=");
    if (status != 0 || at == std::string::npos) {
      r.note = "exit status " + std::to_string(status) + ": " + lab::last_lines(out, 4);
      return false;
    }
    seconds = std::stod(out.substr(at + 7));
    const auto rs = out.find("rss=");
    if (rss && rs != std::string::npos) *rss = std::stod(out.substr(rs + 4));
    return true;
  };
  r.ok = run({}, r.step, &r.rss_mb) && run({"--forward-only"}, r.forward_only, nullptr);
  return r;
}

struct Options {
  std::vector<std::string> configs{"A", "C"};
  std::vector<int> threads{1, 2};
  int steps = 5, warmup = 2;
  bool torch = true;
};

void run(const Options& o) {
  std::printf("GEMM: %s\n", ag::blas::config().c_str());
  if (!ag::blas::slow_path_warning().empty()) std::printf("%s\n", ag::blas::slow_path_warning().c_str());
  if (o.torch && !ag::blas::openblas_coretype_fix().empty())
    std::printf("PyTorch runs with OPENBLAS_CORETYPE=%s: its OpenBLAS does not know this CPU either\n",
                ag::blas::openblas_coretype_fix().c_str());
  const double peak = ag::blas::fp32_peak_gflops(2.0);
  std::printf("fp32 multiply-add peak: %.1f GFLOP/s per core (a JIT kernel in cache, one thread)\n", peak);
  std::printf("%-6s %3s %9s %9s %9s %8s %9s %8s %8s %8s %8s %9s %7s %8s %8s\n", "config", "thr", "step s", "fwd+loss",
              "backward", "adam", "fwd-only", "GFLOP/s", "sgemm", "floor s", "x floor", "torch s", "ratio", "fwd rat.",
              "RSS MB");
  // PyTorch runs first, for every row: the peak RSS the kernel reports for a child starts from the
  // peak of the process that spawned it (posix_spawn shares our memory until exec, and the peak
  // survives exec), so once our model had grown this process, a small config's PyTorch peak read as ours.
  std::map<std::pair<std::string, int>, TorchTiming> torch;
  for (const auto& name : o.configs)
    for (int thr : o.threads) torch[{name, thr}] = o.torch ? time_torch(workload(name), thr, o.steps, o.warmup) : TorchTiming{};
  for (const auto& name : o.configs) {
    const Workload w = workload(name);
    const Flops f = matmul_flops(w);
    for (int thr : o.threads) {
      const Timing t = time_ours(w, thr, o.steps, o.warmup);
      const double sgemm = sgemm_gflops(w, thr);
      const double floor = f.train / (thr * peak * 1e9);  // every GEMM flop at the peak, nothing else
      const TorchTiming& pt = torch.at({name, thr});
      std::printf("%-6s %3d %9.4f %9.4f %9.4f %8.4f %9.4f %8.1f %8.1f %8.4f %7.2fx", name.c_str(), thr, t.step, t.fwd_loss,
                  t.backward, t.adam, t.forward_only, f.train / t.step * 1e-9, sgemm, floor, t.step / floor);
      if (pt.ok)
        std::printf(" %9.4f %6.2fx %7.2fx %8.0f (torch %.0f)\n", pt.step, t.step / pt.step, t.forward_only / pt.forward_only,
                    t.rss_mb, pt.rss_mb);
      else
        std::printf(" %9s %7s %8s %8.0f%s\n", "-", "-", "-", t.rss_mb, o.torch ? "  (PyTorch failed: see below)" : "");
      if (o.torch && !pt.ok) std::printf("PyTorch: %s\n", pt.note.c_str());
      std::fflush(stdout);
    }
  }
  std::printf("ratio = our time / PyTorch's (below 1: we are faster); GFLOP/s counts the step's GEMMs as the reference "
              "does; sgemm = OpenBLAS's own threaded sgemm on (B*T x C)(C x 4C); floor = the step's GEMM flops at the "
              "fp32 peak on thr cores, x floor = step / floor; RSS is the peak of this process so far.\n");
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("bench", "time training steps on configs A, B, C against PyTorch in the same run");
  cmd->add_option("--config", o->configs, "configs: A (20L, 96, 3H, B256), B (20L, 128, 4H), C (4L, 64, 4H, B64)")
      ->check(CLI::IsMember({"A", "B", "C"}))->capture_default_str();
  cmd->add_option("--threads", o->threads, "thread counts")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--steps", o->steps, "timed steps (median)")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed steps first")->check(CLI::Range(0, 1000))->capture_default_str();
  cmd->add_flag("!--no-torch", o->torch, "skip the PyTorch reference");
  cmd->callback([o] { run(*o); });
}

}  // namespace cli

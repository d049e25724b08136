#include "experiments/lab/sweep.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "experiments/lab/evaluate.hpp"
#include "experiments/lab/trainer.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace lab {

Sweep load_sweep(const std::string& path) {
  YAML::Node g;
  try {
    g = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("sweep grid '" + path + "': " + e.what());
  }
  auto fail = [&](const std::string& what) { throw std::invalid_argument("sweep grid '" + path + "': " + what); };
  for (const auto& kv : g) {
    const auto key = kv.first.as<std::string>();
    if (key != "base" && key != "out" && key != "seeds" && key != "set" && key != "runs" && key != "eval_noise")
      fail("unknown key '" + key + "' (allowed: base, out, seeds, set, runs, eval_noise)");
  }
  if (!g["base"]) fail("'base' (the config every run starts from) is missing");
  if (!g["runs"] || !g["runs"].IsMap() || g["runs"].size() == 0) fail("'runs' must map run names to override lists");
  Sweep s{g["base"].as<std::string>(), g["out"] ? g["out"].as<std::string>() : "runs/sweep", {}};
  const auto seeds = g["seeds"] ? g["seeds"].as<std::vector<std::uint64_t>>() : std::vector<std::uint64_t>{0};
  if (seeds.empty()) fail("'seeds' is empty");
  const auto common = g["set"] ? g["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  for (const auto& kv : g["runs"]) {
    const auto run = kv.first.as<std::string>();
    if (run.empty() || run.find_first_of("/ ") != std::string::npos) fail("run name '" + run + "' must be a plain word");
    const auto own = kv.second.IsNull() ? std::vector<std::string>{} : kv.second.as<std::vector<std::string>>();
    const auto noise = g["eval_noise"] && g["eval_noise"][run] ? g["eval_noise"][run].as<std::vector<double>>()
                                                               : std::vector<double>{};
    for (auto seed : seeds) {
      SweepRun r{run + "-s" + std::to_string(seed), run, "", seed, common, noise};
      r.dir = s.out + "/" + r.name;
      r.overrides.insert(r.overrides.end(), own.begin(), own.end());
      r.overrides.push_back("training.seed=" + std::to_string(seed));
      load_config(s.base, r.overrides);  // every run's config is checked before any run starts
      s.runs.push_back(std::move(r));
    }
  }
  return s;
}

int run_sweep(const Sweep& sweep, int shard, int shards, std::ostream& progress) {
  if (shards < 1 || shard < 0 || shard >= shards)
    throw std::invalid_argument("--shard must be i/n with 0 <= i < n, got " + std::to_string(shard) + "/" + std::to_string(shards));
  nn::make_directories(sweep.out);
  int trained = 0;
  for (std::size_t i = 0; i < sweep.runs.size(); ++i) {
    const SweepRun& r = sweep.runs[i];
    if (static_cast<int>(i % static_cast<std::size_t>(shards)) != shard) continue;
    if (nn::path_exists(r.dir + "/done")) {
      progress << "[" << i + 1 << "/" << sweep.runs.size() << "] " << r.name << ": done, skipped\n";
      continue;
    }
    const bool resume = !nn::training_state_dir(r.dir + "/checkpoint").empty();
    progress << "[" << i + 1 << "/" << sweep.runs.size() << "] " << r.name << (resume ? ": resuming\n" : ": training\n");
    train(load_config(sweep.base, r.overrides), r.dir, resume, progress);
    EvalOptions opt;
    for (double p : r.noise_levels()) {
      opt.reward_noise = p;
      write_csv(r.dir + "/" + eval_csv_name(p), evaluate_run(r.dir, opt), opt.sequences);
    }
    nn::write_atomically(r.dir + "/done", "");
    ++trained;
    gather_results(sweep);
  }
  gather_results(sweep);
  return trained;
}

void gather_results(const Sweep& sweep) {
  std::ostringstream out;
  out << "run,seed,noise,method,k,mean,sem,n\n";
  for (const SweepRun& r : sweep.runs) {
    if (!nn::path_exists(r.dir + "/done")) continue;
    for (double noise : r.noise_levels()) {
      const std::string file = r.dir + "/" + eval_csv_name(noise);
      std::ifstream in(file);
      if (!in) throw std::runtime_error("run '" + r.name + "' is marked done but has no " + file);
      std::string line;
      std::getline(in, line);  // header: method,k,mean,sem,n
      while (std::getline(in, line)) out << r.run << ',' << r.seed << ',' << noise << ',' << line << '\n';
    }
  }
  nn::write_atomically(sweep.out + "/results.csv", out.str());
}

}  // namespace lab

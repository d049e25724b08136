#include "experiments/studies/sweep.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "experiments/studies/evaluate.hpp"
#include "experiments/train/trainer.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"

namespace lab {

namespace {

// "~/x" -> "$HOME/x", so a grid can keep its runs outside the checkout by default.
std::string expand_home(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == 0) throw std::runtime_error("'" + path + "' starts with ~/ but HOME is not set");
  return std::string(home) + path.substr(1);
}

}  // namespace

Sweep load_sweep(const std::string& path, const SweepOptions& options) {
  YAML::Node g;
  try {
    g = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("sweep grid '" + path + "': " + e.what());
  }
  auto fail = [&](const std::string& what) { throw std::invalid_argument("sweep grid '" + path + "': " + what); };
  if (!g.IsMap()) fail("must be a map of base, out, seeds, set, runs, eval_noise, order");
  for (const auto& kv : g) {
    const auto key = kv.first.as<std::string>();
    if (key != "base" && key != "out" && key != "seeds" && key != "set" && key != "runs" && key != "eval_noise" &&
        key != "order")
      fail("unknown key '" + key + "' (allowed: base, out, seeds, set, runs, eval_noise, order)");
  }
  if (!g["base"]) fail("'base' (the config every run starts from) is missing");
  if (!g["runs"] || !g["runs"].IsMap() || g["runs"].size() == 0) fail("'runs' must map run names to override lists");
  const std::string order = g["order"] ? g["order"].as<std::string>() : "runs";
  if (order != "runs" && order != "seeds") fail("'order' must be runs (each run's seeds together) or seeds (every run's first seed first), got '" + order + "'");
  Sweep s{g["base"].as<std::string>(), "", {}, {}};
  s.out = expand_home(!options.runs_dir.empty() ? options.runs_dir : g["out"] ? g["out"].as<std::string>() : "runs/sweep");
  const auto seeds = g["seeds"] ? g["seeds"].as<std::vector<std::uint64_t>>() : std::vector<std::uint64_t>{0};
  if (seeds.empty()) fail("'seeds' is empty");
  auto common = g["set"] ? g["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  common.insert(common.end(), options.overrides.begin(), options.overrides.end());

  // A run is `name: [overrides]`, or `name: {set: [overrides], seeds: [its own seeds]}`.
  struct Entry {
    std::string run;
    std::vector<std::string> own;
    std::vector<std::uint64_t> seeds;
  };
  std::vector<Entry> entries;
  for (const auto& kv : g["runs"]) {
    Entry e{kv.first.as<std::string>(), {}, seeds};
    if (e.run.empty() || e.run.find_first_of("/ ") != std::string::npos) fail("run name '" + e.run + "' must be a plain word");
    const YAML::Node v = kv.second;
    if (v.IsMap()) {
      for (const auto& f : v) {
        const auto key = f.first.as<std::string>();
        if (key != "set" && key != "seeds") fail("run '" + e.run + "': unknown key '" + key + "' (allowed: set, seeds)");
      }
      if (v["set"]) e.own = v["set"].as<std::vector<std::string>>();
      if (v["seeds"]) e.seeds = v["seeds"].as<std::vector<std::uint64_t>>();
      if (e.seeds.empty()) fail("run '" + e.run + "': 'seeds' is empty");
    } else if (!v.IsNull()) {
      e.own = v.as<std::vector<std::string>>();
    }
    entries.push_back(std::move(e));
  }
  auto add = [&](const Entry& e, std::uint64_t seed) {
    const auto noise = g["eval_noise"] && g["eval_noise"][e.run] ? g["eval_noise"][e.run].as<std::vector<double>>()
                                                                 : std::vector<double>{};
    SweepRun r{e.run + "-s" + std::to_string(seed), e.run, "", seed, common, noise};
    r.dir = s.out + "/" + r.name;
    r.overrides.insert(r.overrides.end(), e.own.begin(), e.own.end());
    r.overrides.push_back("training.seed=" + std::to_string(seed));
    load_config(s.base, r.overrides);  // every run's config is checked before any run starts
    s.all.push_back(std::move(r));
  };
  if (order == "runs") {
    for (const Entry& e : entries)
      for (auto seed : e.seeds) add(e, seed);
  } else {
    for (std::size_t i = 0;; ++i) {  // the i-th seed of every run, then the (i+1)-th
      bool any = false;
      for (const Entry& e : entries)
        if (i < e.seeds.size()) add(e, e.seeds[i]), any = true;
      if (!any) break;
    }
  }
  for (const std::string& name : options.only)
    if (std::none_of(s.all.begin(), s.all.end(), [&](const SweepRun& r) { return r.run == name || r.name == name; })) {
      std::string names;
      for (const Entry& e : entries) names += (names.empty() ? "" : ", ") + e.run;
      fail("--only '" + name + "' names no run (runs: " + names + "; or one seed of one, as in " + s.all[0].name + ")");
    }
  for (const SweepRun& r : s.all)
    if (options.only.empty() || std::any_of(options.only.begin(), options.only.end(),
                                            [&](const std::string& n) { return r.run == n || r.name == n; }))
      s.runs.push_back(r);
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
    std::optional<nn::DirectoryLock> lock;
    try {
      lock.emplace(lock_run_dir(r.dir, "icalign sweep, run " + r.name));
    } catch (const nn::DirectoryBusy& busy) {
      progress << "[" << i + 1 << "/" << sweep.runs.size() << "] " << r.name << ": skipped, " << busy.what() << "\n";
      continue;
    }
    if (nn::path_exists(r.dir + "/done")) continue;  // another process finished it between our look and the lock
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
  for (const SweepRun& r : sweep.all) {
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

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "experiments/cli/commands.hpp"

namespace cli {

void run_plot_script(const std::string& script, const std::vector<std::string>& files) {
  std::string cmd = "/usr/bin/python3 '" AG_SOURCE_DIR "/experiments/" + script + "'";
  for (const auto& f : files) cmd += " '" + f + "'";
  std::fflush(stdout);  // our table first, then the script's output
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("plotting failed (is python3-matplotlib installed?)");
}

void add_plot(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("plot", "draw <run>/eval*.csv as PNG figures (needs python3-matplotlib)");
  cmd->add_option("--run", *run, "run directory")->required()->check(CLI::ExistingDirectory);
  cmd->callback([run] {
    std::vector<std::string> csvs;
    for (const auto& entry : std::filesystem::directory_iterator(*run)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("eval", 0) == 0 && entry.path().extension() == ".csv") csvs.push_back(entry.path().string());
    }
    if (csvs.empty()) throw std::runtime_error("no eval*.csv in '" + *run + "': run icalign eval first");
    run_plot_script("plot_eval.py", csvs);
  });
}

}  // namespace cli

#include <filesystem>
#include <stdexcept>
#include <iostream>
#include <memory>

#include "experiments/train/child_process.hpp"
#include "experiments/cli/commands.hpp"

namespace cli {

std::string file_in_run(const std::string& run, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw std::invalid_argument("--out is a file name inside the run directory, got '" + name + "'");
  return run + "/" + name;
}

void run_plot_script(const std::string& script, const std::vector<std::string>& files) {
  std::vector<std::string> argv{"/usr/bin/python3", AG_SOURCE_DIR "/experiments/analysis/" + script};
  argv.insert(argv.end(), files.begin(), files.end());
  const lab::ChildResult r = lab::run_child(argv);
  if (r.exit_status != 0) {
    const bool no_matplotlib = r.output.find("No module named 'matplotlib'") != std::string::npos;
    throw std::runtime_error("plotting failed: experiments/analysis/" + script + " exited with status " +
                             std::to_string(r.exit_status) + (no_matplotlib ? " (install python3-matplotlib)" : "") +
                             ":\n" + lab::last_lines(r.output, 6));
  }
  std::cout << r.output << std::flush;
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

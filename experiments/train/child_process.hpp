// Starting another program (python3 for the figures and the PyTorch reference) without a shell:
// the arguments go to the child as a vector, so a path holding quotes, spaces, `;`, `$(...)` or a
// newline is a path and nothing else.
#pragma once
#include <string>
#include <vector>

namespace lab {

struct ChildResult {
  int exit_status = -1;  // the child's exit status; 128 + n when signal n killed it
  std::string output;    // its stdout and stderr, interleaved as written
};

// Runs argv[0] (an absolute path) with argv, its environment being ours plus `env` ("NAME=value"
// entries, which win over ours), and waits for it. Throws only when the child cannot be started.
ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// The last `lines` lines of a child's output, for error messages.
std::string last_lines(const std::string& output, int lines);

}  // namespace lab

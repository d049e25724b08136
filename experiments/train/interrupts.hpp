// Ctrl-C (SIGINT) and SIGTERM while training. The first one asks the training loop to stop after
// the step it is in: the loop saves a checkpoint and throws Interrupted, so `--resume` continues
// exactly where it stopped. A second one ends the process at once, by that signal; the last
// checkpoint stays valid because every save is atomic (nn/train_state.hpp).
#pragma once
#include <csignal>
#include <stdexcept>

namespace lab {

struct Interrupted : std::runtime_error {
  Interrupted(const std::string& what, int sig) : std::runtime_error(what), signal(sig) {}
  int signal;  // the process should exit with 128 + signal, as a shell reports a death by it
};

// Catches SIGINT and SIGTERM for its lifetime; the previous handlers come back after it.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  int caught() const;  // the first signal caught, or 0

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace lab

#include "experiments/train/interrupts.hpp"

#include <unistd.h>

namespace lab {
namespace {

volatile std::sig_atomic_t g_caught = 0;

// Only async-signal-safe calls here: write, signal, raise.
void on_signal(int sig) {
  if (g_caught != 0) {  // the second: go now, by the signal's default action
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_caught = sig;
  static const char msg[] = "\ninterrupted: stopping after this step to save a checkpoint (again to quit at once)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_caught = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in flight carry on; the loop polls caught()
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int InterruptGuard::caught() const { return g_caught; }

}  // namespace lab

#include "autograd/reference.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace ag {
namespace {
std::atomic<int> g_reference{-1};  // -1: not read from AG_REFERENCE yet
}  // namespace

bool reference_path() {
  if (g_reference.load() < 0) {
    const char* env = std::getenv("AG_REFERENCE");
    const std::string v = env ? env : "0";
    if (v != "0" && v != "1") throw std::invalid_argument("AG_REFERENCE must be 0 or 1, got '" + v + "'");
    int expected = -1;
    g_reference.compare_exchange_strong(expected, v == "1" ? 1 : 0);
  }
  return g_reference.load() == 1;
}

void set_reference_path(bool on) { g_reference = on ? 1 : 0; }

}  // namespace ag

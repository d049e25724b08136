#include "autograd/parallel.hpp"

#include <malloc.h>

#include <climits>
#include <memory>
#include <thread>

#include <tbb/global_control.h>

#include "autograd/blas.hpp"

namespace ag {

namespace {
std::unique_ptr<tbb::global_control> g_limit;

// Memory policy, process-wide, set once at start-up (any program that can set the thread count
// links this file). A training step allocates and frees the same tensors every step, many of them
// megabytes large. By default glibc serves those with fresh mmap()s and hands freed heap tops back
// to the kernel, so every step page-faults and zeroes its memory again (docs/performance.md, "The
// profile, before and after"). Serving them from the heap (up to glibc's 32 MiB limit) and never
// trimming it lets the steady state reuse the memory of the step before.
const bool kHeapKept = [] {
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}();
}  // namespace

void set_num_threads(int n) {
  blas::set_single_threaded();
  g_limit.reset();
  if (n > 0) g_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, n);
}

int num_threads() {
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace ag

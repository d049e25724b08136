#include "autograd/parallel.hpp"

#include <memory>
#include <thread>

#include <tbb/global_control.h>

#include "autograd/blas.hpp"

namespace ag {

namespace {
std::unique_ptr<tbb::global_control> g_limit;
}

void set_num_threads(int n) {
  blas::set_single_threaded();
  g_limit.reset();
  if (n > 0) g_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, n);
}

int num_threads() {
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace ag

// Built by ctest, not by `all`: see tests/CMakeLists.txt.
#include "autograd/ops.hpp"

int main() {
  const ag::TensorF a = ag::TensorF::ones({2});
#ifdef AG_MIX_DTYPES
  const ag::TensorD b = ag::TensorD::ones({2});  // float + double: no such op exists
#else
  const ag::TensorF b = ag::TensorF::ones({2});
#endif
  return static_cast<int>(ag::add(a, b).numel()) - 2;
}

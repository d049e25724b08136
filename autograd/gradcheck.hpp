// Finite-difference gradient checks, in double, with torch.autograd.gradcheck's semantics:
// central differences with eps = 1e-6, and an analytic entry a passes against the numeric n when
// |a - n| <= atol + rtol * |n| (atol 1e-5, rtol 1e-3).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // on failure: the input, the worst element, analytic vs numeric
};

using DoubleFn = std::function<TensorD(const std::vector<TensorD>&)>;

// The full Jacobian of f at `inputs`: one backward per output element against two forward
// evaluations per input element. For small tensors (it costs O(inputs x outputs)).
GradcheckResult gradcheck(const DoubleFn& f, const std::vector<TensorD>& inputs, const GradcheckOptions& opt = {});

// For large inputs, JAX's check: for random directions u (inputs) and v (output), compare
// <u, J^T v> from one backward with <v, (f(x + eps u) - f(x - eps u)) / (2 eps)>.
GradcheckResult gradcheck_random_direction(const DoubleFn& f, const std::vector<TensorD>& inputs,
                                           std::uint64_t seed = 0, const GradcheckOptions& opt = {});

}  // namespace ag

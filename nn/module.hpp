// Module: the parameter bookkeeping every layer shares — dotted names as in PyTorch's
// named_parameters(), zero_grad, parameter count. (No train/eval mode: no layer here behaves
// differently in training, there is no dropout or batch norm.)
#pragma once
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.hpp"

namespace nn {

template <class T>
class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;  // children are registered by address: modules stay put
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Own parameters first, then each child's, prefixed "child." (or unprefixed for a child
  // registered with an empty name: its parameters read as the parent's own).
  std::vector<std::pair<std::string, ag::Tensor<T>>> named_parameters() const {
    std::vector<std::pair<std::string, ag::Tensor<T>>> out = params_;
    for (const auto& [name, child] : children_)
      for (auto& [n, p] : child->named_parameters()) out.emplace_back(name.empty() ? n : name + "." + n, p);
    return out;
  }

  std::vector<ag::Tensor<T>> parameters() const {
    std::vector<ag::Tensor<T>> out;
    for (auto& np : named_parameters()) out.push_back(np.second);
    return out;
  }

  std::size_t num_parameters() const {
    std::size_t n = 0;
    for (auto& p : parameters()) n += p.numel();
    return n;
  }

  void zero_grad() {
    for (auto& p : parameters()) p.zero_grad();
  }

 protected:
  ag::Tensor<T> register_parameter(const std::string& name, ag::Tensor<T> t) {
    t.requires_grad_();
    params_.emplace_back(name, t);
    return t;
  }
  void register_module(const std::string& name, Module& child) { children_.emplace_back(name, &child); }

 private:
  std::vector<std::pair<std::string, ag::Tensor<T>>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
};

// The name of the first parameter whose value (or, with of_gradients, whose gradient) holds a NaN
// or an infinity; "" when every one is finite. Parameters without a gradient count as finite.
template <class T>
std::string first_nonfinite(const std::vector<std::pair<std::string, ag::Tensor<T>>>& params, bool of_gradients) {
  for (const auto& [name, p] : params) {
    if (of_gradients && !p.has_grad()) continue;
    const ag::Tensor<T> t = of_gradients ? p.grad() : p;
    const T* x = t.data();
    for (std::size_t i = 0, n = t.numel(); i < n; ++i)
      if (!std::isfinite(x[i])) return name;
  }
  return "";
}

}  // namespace nn

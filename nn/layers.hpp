// The basic layers: Linear, Embedding, LayerNorm. Parameter names and layouts follow PyTorch
// (Linear weight is (out, in)), so checkpoints load into the PyTorch reference unchanged.
#pragma once
#include <cmath>

#include "autograd/autograd.hpp"
#include "nn/module.hpp"

namespace nn {

// y = x Wᵀ + b. Initialised as PyTorch's default: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
template <class T>
class Linear : public Module<T> {
 public:
  Linear(std::size_t in, std::size_t out, ag::Rng& rng, bool with_bias = true) {
    const double k = 1.0 / std::sqrt(static_cast<double>(in));
    weight = this->register_parameter("weight", ag::rand_uniform<T>({out, in}, rng, -k, k));
    if (with_bias) bias = this->register_parameter("bias", ag::rand_uniform<T>({out}, rng, -k, k));
  }
  ag::Tensor<T> operator()(const ag::Tensor<T>& x) const { return ag::linear(x, weight, bias); }  // (..., in) -> (..., out)

  ag::Tensor<T> weight, bias;  // (out, in), (out) or undefined
};

// A table of learned vectors, rows picked by index. Initialised N(0, 1) as PyTorch.
template <class T>
class Embedding : public Module<T> {
 public:
  Embedding(std::size_t num, std::size_t dim, ag::Rng& rng) {
    weight = this->register_parameter("weight", ag::randn<T>({num, dim}, rng));
  }
  ag::Tensor<T> operator()(const std::vector<std::size_t>& index) const { return ag::index_select(weight, 0, index); }

  ag::Tensor<T> weight;  // (num, dim)
};

// LayerNorm over the last axis, gamma = 1, beta = 0 at init (named weight and bias, as PyTorch).
template <class T>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(std::size_t dim, T eps = T(1e-5)) : eps_(eps) {
    weight = this->register_parameter("weight", ag::Tensor<T>::ones({dim}));
    bias = this->register_parameter("bias", ag::Tensor<T>::zeros({dim}));
  }
  ag::Tensor<T> operator()(const ag::Tensor<T>& x) const { return ag::layer_norm(x, weight, bias, eps_); }
  T eps() const { return eps_; }

  ag::Tensor<T> weight, bias;

 private:
  T eps_;
};

}  // namespace nn

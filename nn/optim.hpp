// Optimizers (SGD with momentum, Adam, AdamW), global-norm gradient clipping and LR schedules.
// Each optimizer keeps its state (moments, step) beside the parameters it updates.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.hpp"

namespace nn {

template <class T>
using NamedParams = std::vector<std::pair<std::string, ag::Tensor<T>>>;

template <class T>
class Optimizer {
 public:
  explicit Optimizer(NamedParams<T> params, double lr) : params_(std::move(params)), lr_(lr) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;  // parameters whose gradient never arrived are left untouched
  void zero_grad() {
    for (auto& p : params_) p.second.zero_grad();
  }
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

 protected:
  NamedParams<T> params_;
  double lr_;
};

// p -= lr * b, b = momentum * b + g  (PyTorch's SGD; b = g on the first step)
template <class T>
class SGD : public Optimizer<T> {
 public:
  SGD(NamedParams<T> params, double lr, double momentum = 0.0);
  void step() override;

 private:
  double momentum_;
  std::vector<std::vector<T>> buf_;
};

// Adam (Kingma & Ba, as torch.optim.Adam), with AdamW's decoupled weight decay when
// weight_decay > 0: p -= lr * wd * p before the Adam step, applied to tensors of rank >= 2 only
// (weights, not biases or LayerNorm gains), as nanoGPT and minGPT do.
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;  p -= lr · (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
template <class T>
class Adam : public Optimizer<T> {
 public:
  Adam(NamedParams<T> params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0.0);
  void step() override;
  long steps() const { return t_; }

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  long t_ = 0;
  std::vector<std::vector<T>> m_, v_;
};

// Scales all gradients so their global L2 norm is at most max_norm (accumulated in double).
// Returns the norm before clipping.
template <class T>
double clip_grad_norm(const std::vector<ag::Tensor<T>>& params, double max_norm);

// Learning rate at `step` (0-based): linear warmup from 0 over `warmup` steps, then cosine decay
// from `lr` to `min_lr` at `total` steps (constant afterwards). warmup = 0 and min_lr = lr give a
// constant schedule.
double warmup_cosine_lr(long step, double lr, long warmup, long total, double min_lr);

}  // namespace nn

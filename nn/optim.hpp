// Optimizers (SGD with momentum, Adam, AdamW), global-norm gradient clipping and LR schedules.
// An optimizer's state (moments, step count) is a list of named tensors plus a step, so it is saved
// and restored by the same checkpoint code as the parameters (nn/train_state.hpp).
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
  virtual std::string kind() const = 0;
  void zero_grad() {
    for (auto& p : params_) p.second.zero_grad();
  }
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

  // The state to checkpoint: tensors named "<slot>.<parameter name>" (sharing storage, so loading
  // into them restores the optimizer), and the number of steps taken.
  const NamedParams<T>& state() const { return state_; }
  long steps() const { return t_; }
  void set_steps(long t) { t_ = t; }

 protected:
  // One zero tensor per parameter, of the parameter's shape, registered under `slot`.
  std::vector<ag::Tensor<T>> add_slot(const std::string& slot) {
    std::vector<ag::Tensor<T>> out;
    for (auto& [name, p] : params_) {
      out.push_back(ag::Tensor<T>::zeros(p.shape()));
      state_.emplace_back(slot + "." + name, out.back());
    }
    return out;
  }

  NamedParams<T> params_;
  double lr_;
  long t_ = 0;

 private:
  NamedParams<T> state_;
};

// b = momentum * b + g;  p -= lr * b. With b starting at 0 the first step gives b = g, which is
// what PyTorch's SGD does.
template <class T>
class SGD : public Optimizer<T> {
 public:
  SGD(NamedParams<T> params, double lr, double momentum = 0.0);
  void step() override;
  std::string kind() const override { return "sgd"; }

 private:
  double momentum_;
  std::vector<ag::Tensor<T>> buf_;
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
  std::string kind() const override { return weight_decay_ > 0 ? "adamw" : "adam"; }

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  std::vector<ag::Tensor<T>> m_, v_;
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

#include "nn/optim.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/parallel.hpp"

namespace nn {

template <class T>
SGD<T>::SGD(NamedParams<T> params, double lr, double momentum) : Optimizer<T>(std::move(params), lr), momentum_(momentum) {
  if (momentum_ != 0.0) buf_ = this->add_slot("momentum");
}

template <class T>
void SGD<T>::step() {
  ++this->t_;
  const T lr = static_cast<T>(this->lr_), mu = static_cast<T>(momentum_);
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    auto& p = this->params_[i].second;
    if (!p.has_grad()) continue;
    const T* g = p.grad().data();
    T* w = p.data();
    if (momentum_ == 0.0) {
      for (std::size_t k = 0; k < p.numel(); ++k) w[k] -= lr * g[k];
      continue;
    }
    T* b = buf_[i].data();
    for (std::size_t k = 0; k < p.numel(); ++k) {
      b[k] = mu * b[k] + g[k];
      w[k] -= lr * b[k];
    }
  }
}

template <class T>
Adam<T>::Adam(NamedParams<T> params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Optimizer<T>(std::move(params), lr), beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
  m_ = this->add_slot("exp_avg");
  v_ = this->add_slot("exp_avg_sq");
}

template <class T>
void Adam<T>::step() {
  const long t = ++this->t_;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(t));
  const T step_size = static_cast<T>(this->lr_ / bc1), b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_);
  const T rsqrt_bc2 = static_cast<T>(1.0 / std::sqrt(bc2)), eps = static_cast<T>(eps_);
  // One task per parameter tensor: every element's update is independent of the others, so the
  // result does not depend on the thread count.
  ag::parallel_chunks(this->params_.size(), 1, [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      auto& p = this->params_[i].second;
      if (!p.has_grad()) continue;
      const T* g = p.grad().data();
      T* w = p.data();
      if (weight_decay_ > 0 && p.dim() >= 2) {
        const T keep = static_cast<T>(1.0 - this->lr_ * weight_decay_);
        for (std::size_t k = 0; k < p.numel(); ++k) w[k] *= keep;
      }
      T *m = m_[i].data(), *v = v_[i].data();
      for (std::size_t k = 0; k < p.numel(); ++k) {
        m[k] = b1 * m[k] + (T(1) - b1) * g[k];
        v[k] = b2 * v[k] + (T(1) - b2) * g[k] * g[k];
        w[k] -= step_size * m[k] / (std::sqrt(v[k]) * rsqrt_bc2 + eps);
      }
    }
  });
}

template <class T>
double clip_grad_norm(const std::vector<ag::Tensor<T>>& params, double max_norm) {
  double sq = 0;
  for (const auto& p : params)
    if (p.has_grad())
      for (T g : p.grad().to_vector()) sq += static_cast<double>(g) * g;
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const T scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (const auto& p : params)
      if (p.has_grad()) {
        T* g = p.grad().data();
        for (std::size_t k = 0; k < p.numel(); ++k) g[k] *= scale;
      }
  }
  return norm;
}

double warmup_cosine_lr(long step, double lr, long warmup, long total, double min_lr) {
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (step >= total) return min_lr;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max(1L, total - warmup));
  return min_lr + 0.5 * (1.0 + std::cos(M_PI * progress)) * (lr - min_lr);
}

template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;
template double clip_grad_norm(const std::vector<ag::Tensor<float>>&, double);
template double clip_grad_norm(const std::vector<ag::Tensor<double>>&, double);

}  // namespace nn

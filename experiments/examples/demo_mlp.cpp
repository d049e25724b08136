// A tiny end-to-end demo of the engine: a 2-layer MLP learns to classify two interleaved spirals
// with softmax cross-entropy and plain SGD. Prints the loss falling and the final accuracy.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "autograd/autograd.hpp"
#include "autograd/blas.hpp"

using ag::TensorF;

int main() {
  ag::set_num_threads(0);
  std::printf("BLAS: %s | threads: %d\n", ag::blas::config().c_str(), ag::num_threads());

  // ---- data: two spirals, 2-D points, labels 0/1
  const std::size_t n = 512, hidden = 64, steps = 600;
  ag::Rng rng(1234);
  std::vector<float> pts(n * 2);
  std::vector<std::size_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % 2;
    const double t = 0.25 + 3.0 * rng.uniform(), angle = 2.2 * t + 3.14159265 * c;
    pts[2 * i] = static_cast<float>(t * std::cos(angle) + 0.08 * rng.normal());
    pts[2 * i + 1] = static_cast<float>(t * std::sin(angle) + 0.08 * rng.normal());
    labels[i] = c;
  }
  const TensorF X = TensorF::from_vector({n, 2}, pts);
  const ag::Index Y{{n, 1}, labels};

  // ---- model: x (n,2) -> tanh(x W1 + b1) (n,H) -> logits (n,2)
  TensorF W1 = ag::randn<float>({2, hidden}, rng, 1.0).requires_grad_();
  TensorF b1 = TensorF::zeros({hidden}).requires_grad_();
  TensorF W2 = ag::randn<float>({hidden, 2}, rng, 1.0 / std::sqrt(double(hidden))).requires_grad_();
  TensorF b2 = TensorF::zeros({2}).requires_grad_();
  std::vector<TensorF*> params{&W1, &b1, &W2, &b2};

  const float lr = 0.5f;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t step = 0; step <= steps; ++step) {
    const TensorF h = ag::tanh(ag::matmul(X, W1) + b1);
    const TensorF logits = ag::matmul(h, W2) + b2;
    // cross-entropy = mean over points of -log_softmax(logits)[label]
    const TensorF loss = -ag::mean(ag::gather(ag::log_softmax(logits, -1), 1, Y));
    for (auto* p : params) p->zero_grad();
    loss.backward();
    {
      ag::NoGradGuard no_grad;  // the update itself is not part of any graph
      for (auto* p : params) {
        const float* g = p->grad().data();
        for (std::size_t k = 0; k < p->numel(); ++k) p->data()[k] -= lr * g[k];
      }
    }
    if (step % 100 == 0) {
      std::size_t correct = 0;
      for (std::size_t i = 0; i < n; ++i)
        correct += (logits.data()[2 * i + 1] > logits.data()[2 * i]) == (labels[i] == 1);
      std::printf("step %4zu  loss %.4f  accuracy %5.1f%%\n", step, loss.item(), 100.0 * correct / n);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("trained %zu steps in %.2f s\n", steps, secs);
  return 0;
}

#include "experiments/train/data_parallel.hpp"

#include <stdexcept>

#include "experiments/task/losses.hpp"

namespace lab {
namespace {

ag::TensorF batch_loss(const ICAlignTransformer<float>& model, const Batch<float>& b, Loss loss) {
  const ag::TensorF pred = model(b.xs, b.ys, b.rs);
  return loss == Loss::BradleyTerry ? bt_loss(pred, b.ys, b.rs) : pl_loss(pred, b.ys, b.rs);
}

Batch<float> micro_batch(const Batch<float>& b, std::size_t i, std::size_t per) {
  auto rows = [&](const ag::TensorF& t) { return ag::slice(t, 0, i * per, (i + 1) * per); };
  return {rows(b.xs), rows(b.ys), rows(b.rs), rows(b.rs_true), rows(b.ystar), b.e.defined() ? rows(b.e) : ag::TensorF{}};
}

}  // namespace

StepGradient data_parallel_gradient(const ICAlignTransformer<float>& model, const Batch<float>& batch,
                                    const TrainConfig& tc, const Group& group, bool interrupted_here) {
  const std::size_t m = tc.micro_batches, ranks = static_cast<std::size_t>(group.size());
  auto params = model.parameters();
  if (m == 1 && ranks == 1) {  // the plain step: one forward and backward on the whole batch
    for (auto& p : params) p.zero_grad();
    const ag::TensorF loss = batch_loss(model, batch, tc.loss);
    loss.backward();
    return {loss.item(), interrupted_here};
  }
  if (m % ranks != 0)
    throw std::invalid_argument("training.micro_batches (" + std::to_string(m) + ") must be a multiple of the number of "
                                "processes (" + std::to_string(ranks) + ")");
  std::size_t n_grad = 0;
  for (const auto& p : params) n_grad += p.numel();
  const std::size_t mine = m / ranks, per = tc.batch_size / m, first = static_cast<std::size_t>(group.rank()) * mine;

  // This rank's payload: its micro-batches' gradients one after another, their losses, its interrupt flag.
  std::vector<float> payload(mine * (n_grad + 1) + 1, 0.0f);
  for (std::size_t j = 0; j < mine; ++j) {
    for (auto& p : params) p.zero_grad();
    const ag::TensorF loss = batch_loss(model, micro_batch(batch, first + j, per), tc.loss);
    loss.backward();
    float* out = payload.data() + j * n_grad;
    for (const auto& p : params) {
      if (p.has_grad()) std::copy_n(p.grad().data(), p.numel(), out);  // else: it stays zero
      out += p.numel();
    }
    payload[mine * n_grad + j] = loss.item();
  }
  payload.back() = interrupted_here ? 1.0f : 0.0f;

  const std::vector<float> all = group.all_gather(payload);
  // Micro-batch i lives in rank i / mine's payload, at slot i % mine.
  auto gradient_of = [&](std::size_t i) { return all.data() + (i / mine) * payload.size() + (i % mine) * n_grad; };
  StepGradient result;
  std::size_t at = 0;
  for (auto& p : params) {
    if (p.has_grad()) {  // every parameter of this model is reached by every micro-batch's backward
      float* g = p.grad().data();
      for (std::size_t k = 0; k < p.numel(); ++k) {
        float sum = gradient_of(0)[at + k];
        for (std::size_t i = 1; i < m; ++i) sum += gradient_of(i)[at + k];
        g[k] = sum / static_cast<float>(m);
      }
    }
    at += p.numel();
  }
  double loss_sum = 0;
  for (std::size_t i = 0; i < m; ++i) loss_sum += all[(i / mine) * payload.size() + mine * n_grad + i % mine];
  result.loss = loss_sum / static_cast<double>(m);
  for (std::size_t r = 0; r < ranks; ++r) result.interrupted = result.interrupted || all[(r + 1) * payload.size() - 1] != 0;
  return result;
}

}  // namespace lab

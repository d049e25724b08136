// The alignment losses of the paper's training objective (official code: tasks.pl_loss_mean_batch;
// docs/paper.md, "The losses"). For the prediction at x-token n, which has seen responses
// 0..n-1, the model's score of response j is s_nj = cos(pred_n, y_j), and the responses are ranked
// by their in-context reward (descending, ties by index).
//
//   Plackett-Luce:  loss_n = sum_{i<n} [ -s_{τ(i)} + log sum_{k ranked at or after τ(i)} exp s_k ]
//   Bradley-Terry:  loss_n = sum over pairs (w, l) among the first n, w ranked before l, of
//                   -log sigmoid(s_w - s_l)
// Both are averaged over n = 2..N-1, then over the batch. For two responses they are the same
// number. Built from differentiable engine ops, vectorised over the batch.
#pragma once
#include "autograd/autograd.hpp"

namespace lab {

enum class Loss { PlackettLuce, BradleyTerry };  // a config's training.loss: pl (the paper's) or bt

// pred, ys (B, N, d); rs (B, N). Returns a scalar.
template <class T>
ag::Tensor<T> pl_loss(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs);
// The PL loss of one prediction per sequence against a context of k ranked responses: pred (B, d),
// ys (B, k, d), rs (B, k) -> (B), one loss per sequence. The objective of the GD baseline.
template <class T>
ag::Tensor<T> pl_loss_context(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs);
// The same loss with the quadratic reward of the theory (docs/paper.md, "The losses"), s_j = -β ‖pred - y_j‖²:
// the objective the explicit construction (construction.hpp) runs gradient descent on. (B) losses.
template <class T>
ag::Tensor<T> pl_loss_context_quadratic(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs, T beta);
template <class T>
ag::Tensor<T> bt_loss(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs);

}  // namespace lab

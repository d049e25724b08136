#include "experiments/task/losses.hpp"

namespace lab {
namespace {

// S[b, m, j] = cos(pred_m, y_j), (B, M, K): pred (B, M, 1, d) against ys (B, 1, K, d), broadcast.
template <class T>
ag::Tensor<T> scores(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys) {
  if (pred.dim() != 3 || ys.dim() != 3 || ys.shape()[0] != pred.shape()[0] || ys.shape()[2] != pred.shape()[2])
    throw ag::ShapeError("alignment loss: pred (B, M, d) and ys (B, K, d) do not match: " + ag::shape_str(pred.shape()) +
                         " and " + ag::shape_str(ys.shape()));
  const long B = static_cast<long>(pred.shape()[0]), M = static_cast<long>(pred.shape()[1]);
  const long K = static_cast<long>(ys.shape()[1]), d = static_cast<long>(pred.shape()[2]);
  return ag::cosine_similarity(ag::reshape(pred, {B, M, 1, d}), ag::reshape(ys, {B, 1, K, d}), -1);
}

// at_or_after_T[b, k, j] = 1 when response k is ranked at or after response j under rewards rs (B, K).
template <class T>
ag::Tensor<T> ranking(const ag::Tensor<T>& rs);

// seen[n, j] = 1 when response j is in the context of x-token n (j < n): (N, N).
template <class T>
ag::Tensor<T> seen_mask(std::size_t N) {
  ag::Tensor<T> m = ag::Tensor<T>::zeros({N, N});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t j = 0; j < n; ++j) m.data()[n * N + j] = 1;
  return m;
}

// Whether response k is ranked strictly after response j: lower reward, or equal reward and a
// larger index (ties are broken by position, as a stable sort by descending reward does).
template <class T>
bool ranked_after(const T* r, std::size_t j, std::size_t k) { return r[k] < r[j] || (r[k] == r[j] && k > j); }

// The mean of loss_n (B, N) over positions n = 2..N-1, then over the batch.
template <class T>
ag::Tensor<T> average_positions(const ag::Tensor<T>& loss_n) {
  return ag::mean(ag::slice(loss_n, 1, 2, loss_n.shape()[1]));
}

void check_rewards(const ag::Shape& pred, const ag::Shape& rs) {
  if (rs != ag::Shape{pred[0], pred[1]} || pred[1] < 3)
    throw ag::ShapeError("alignment loss: rs must be (B, N) with N >= 3 for pred " + ag::shape_str(pred) + ", got " +
                         ag::shape_str(rs));
}

template <class T>
ag::Tensor<T> ranking(const ag::Tensor<T>& rs) {
  const std::size_t B = rs.shape()[0], K = rs.shape()[1];
  ag::Tensor<T> a = ag::Tensor<T>::zeros({B, K, K});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < K; ++j)
      for (std::size_t k = 0; k < K; ++k)
        if (k == j || ranked_after(rs.data() + b * K, j, k)) a.data()[(b * K + k) * K + j] = 1;
  return a;
}

// The PL negative log-likelihood of each row m of the scores S (B, M, K), over the responses that
// row has seen (seen (M, K), 0/1). With E = exp(S) restricted to seen responses and A[b, j, k] = 1
// when k is ranked at or after j:
//   denom[b, m, j] = sum_k E[b, m, k] A[b, j, k]        (one batched matmul)
//   loss[b, m]     = sum_{j seen} (log denom[b, m, j] - S[b, m, j])
// Unseen entries get 1 added to their denominator, so that its log is finite even where a row has
// seen nothing; their terms are masked out.
template <class T>
ag::Tensor<T> pl_rows(const ag::Tensor<T>& S, const ag::Tensor<T>& seen, const ag::Tensor<T>& rs) {
  const ag::Tensor<T> denom = ag::matmul(ag::exp(S) * seen, ranking(rs)) + (T(1) - seen);
  return ag::sum((ag::log(denom) - S) * seen, {2});
}

}  // namespace

template <class T>
ag::Tensor<T> pl_loss(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) {
  if (ys.shape() != pred.shape())
    throw ag::ShapeError("alignment loss: pred and ys must both be (B, N, d), got " + ag::shape_str(pred.shape()) +
                         " and " + ag::shape_str(ys.shape()));
  const ag::Tensor<T> S = scores(pred, ys);
  check_rewards(pred.shape(), rs.shape());
  return average_positions(pl_rows(S, seen_mask<T>(pred.shape()[1]), rs));
}

void check_context(const ag::Shape& pred, const ag::Shape& ys, const ag::Shape& rs, const char* op) {
  if (pred.size() != 2 || rs.size() != 2 || rs[0] != pred[0] || ys.size() != 3 || ys[0] != pred[0] || ys[1] != rs[1] ||
      ys[2] != pred[1])
    throw ag::ShapeError(std::string(op) + ": need pred (B, d), ys (B, k, d), rs (B, k), got " + ag::shape_str(pred) + ", " +
                         ag::shape_str(ys) + ", " + ag::shape_str(rs));
}

template <class T>
ag::Tensor<T> pl_loss_context(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) {
  check_context(pred.shape(), ys.shape(), rs.shape(), "pl_loss_context");
  const long B = static_cast<long>(pred.shape()[0]), d = static_cast<long>(pred.shape()[1]);
  const ag::Tensor<T> S = scores(ag::reshape(pred, {B, 1, d}), ys);  // (B, 1, k)
  return ag::reshape(pl_rows(S, ag::Tensor<T>::ones({1, ys.shape()[1]}), rs), {B});
}

template <class T>
ag::Tensor<T> pl_loss_context_quadratic(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs, T beta) {
  check_context(pred.shape(), ys.shape(), rs.shape(), "pl_loss_context_quadratic");
  const long B = static_cast<long>(pred.shape()[0]), d = static_cast<long>(pred.shape()[1]);
  const ag::Tensor<T> diff = ag::reshape(pred, {B, 1, d}) - ys;               // (B, k, d)
  ag::Tensor<T> S = ag::sum(diff * diff, {2}, /*keepdim=*/false) * (-beta);  // (B, k)
  // Unlike cosine scores these are unbounded below, so exp(S) can underflow to 0 for a whole row. The
  // loss -s + log sum exp s is unchanged by a shift per row: subtract the (constant) row max.
  S = S - ag::max(S, 1, /*keepdim=*/true).detach();
  return ag::reshape(pl_rows(ag::reshape(S, {B, 1, long(ys.shape()[1])}), ag::Tensor<T>::ones({1, ys.shape()[1]}), rs), {B});
}

// D[b, n, i, j] = s_ni - s_nj; the pairs counted for position n are i, j < n with i ranked before j.
template <class T>
ag::Tensor<T> bt_loss(const ag::Tensor<T>& pred, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) {
  const ag::Tensor<T> S = scores(pred, ys);
  check_rewards(pred.shape(), rs.shape());
  const std::size_t B = pred.shape()[0], N = pred.shape()[1];
  const long Bl = static_cast<long>(B), Nl = static_cast<long>(N);
  ag::Tensor<T> pairs = ag::Tensor<T>::zeros({B, N, N, N});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
          if (ranked_after(rs.data() + b * N, i, j)) pairs.data()[((b * N + n) * N + i) * N + j] = 1;
  const ag::Tensor<T> D = ag::reshape(S, {Bl, Nl, Nl, 1}) - ag::reshape(S, {Bl, Nl, 1, Nl});
  return average_positions(ag::sum(-ag::log(ag::sigmoid(D)) * pairs, {2, 3}));
}

template ag::Tensor<float> pl_loss(const ag::Tensor<float>&, const ag::Tensor<float>&, const ag::Tensor<float>&);
template ag::Tensor<double> pl_loss(const ag::Tensor<double>&, const ag::Tensor<double>&, const ag::Tensor<double>&);
template ag::Tensor<float> pl_loss_context(const ag::Tensor<float>&, const ag::Tensor<float>&, const ag::Tensor<float>&);
template ag::Tensor<double> pl_loss_context(const ag::Tensor<double>&, const ag::Tensor<double>&, const ag::Tensor<double>&);
template ag::Tensor<float> pl_loss_context_quadratic(const ag::Tensor<float>&, const ag::Tensor<float>&, const ag::Tensor<float>&, float);
template ag::Tensor<double> pl_loss_context_quadratic(const ag::Tensor<double>&, const ag::Tensor<double>&, const ag::Tensor<double>&, double);
template ag::Tensor<float> bt_loss(const ag::Tensor<float>&, const ag::Tensor<float>&, const ag::Tensor<float>&);
template ag::Tensor<double> bt_loss(const ag::Tensor<double>&, const ag::Tensor<double>&, const ag::Tensor<double>&);

}  // namespace lab

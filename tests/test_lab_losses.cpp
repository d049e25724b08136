// The alignment losses: against a direct loop transcription of the official per-sequence code,
// against the Plackett-Luce probability itself, BT == PL for two responses, gradient checks.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "experiments/task/losses.hpp"
#include "testing.hpp"

using namespace agtest;
using Catch::Matchers::WithinAbs;
using V = std::vector<TensorD>;

namespace {

double cosine(const double* a, const double* b, std::size_t d) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < d; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / (std::max(std::sqrt(aa), 1e-8) * std::max(std::sqrt(bb), 1e-8));
}

// -log P_PL(order | scores s): the probability of drawing `order` one item at a time, each with
// probability proportional to exp(s) among those not yet drawn.
double pl_nll(const std::vector<double>& s, const std::vector<std::size_t>& order) {
  double nll = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    double z = 0;
    for (std::size_t k = i; k < order.size(); ++k) z += std::exp(s[order[k]]);
    nll -= s[order[i]] - std::log(z);
  }
  return nll;
}

// The official code's loop: per sequence and position n >= 2, sort the first n responses by reward
// (descending, stable), score them by cosine with pred_n, and sum the PL terms. Mean over n, batch.
double pl_loss_loop(const TensorD& pred, const TensorD& ys, const TensorD& rs) {
  const std::size_t B = pred.shape()[0], N = pred.shape()[1], d = pred.shape()[2];
  double total = 0;
  for (std::size_t b = 0; b < B; ++b) {
    double seq = 0;
    for (std::size_t n = 2; n < N; ++n) {
      std::vector<std::size_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t i, std::size_t j) { return rs.data()[b * N + i] > rs.data()[b * N + j]; });
      std::vector<double> s(n);
      for (std::size_t j = 0; j < n; ++j) s[j] = cosine(pred.data() + (b * N + n) * d, ys.data() + (b * N + j) * d, d);
      seq += pl_nll(s, order);
    }
    total += seq / static_cast<double>(N - 2);
  }
  return total / static_cast<double>(B);
}

}  // namespace

TEST_CASE("PL loss equals the loop form of the official code, ties broken by index", "[lab][loss]") {
  TensorD rs = uniformd({3, 7}, 3, 0, 1);
  rs.data()[2] = rs.data()[4];  // a tie
  const TensorD pred = randd({3, 7, 4}, 1), ys = randd({3, 7, 4}, 2);
  CHECK_THAT(lab::pl_loss(pred, ys, rs).item(), WithinAbs(pl_loss_loop(pred, ys, rs), 1e-12));
}

TEST_CASE("the PL terms are a probability: they sum to 1 over all orders", "[lab][loss]") {
  const std::vector<double> s{0.3, -0.7, 0.1, 0.9};
  std::vector<std::size_t> order{0, 1, 2, 3};
  double total = 0;
  do total += std::exp(-pl_nll(s, order));
  while (std::next_permutation(order.begin(), order.end()));
  CHECK_THAT(total, WithinAbs(1.0, 1e-12));
}

TEST_CASE("pl_loss is a PL probability: over both orders of two rewards, exp(-loss) sums to 1", "[lab][loss]") {
  // N = 3: only position n = 2 counts, and it ranks responses 0 and 1 by their rewards.
  const TensorD pred = randd({1, 3, 4}, 8), ys = randd({1, 3, 4}, 9);
  const TensorD up = TensorD::from_vector({1, 3}, {0.2, 0.7, 0.5}), down = TensorD::from_vector({1, 3}, {0.7, 0.2, 0.5});
  const double total = std::exp(-lab::pl_loss(pred, ys, up).item()) + std::exp(-lab::pl_loss(pred, ys, down).item());
  CHECK_THAT(total, WithinAbs(1.0, 1e-12));
  CHECK(lab::pl_loss(pred, ys, up).item() != lab::pl_loss(pred, ys, down).item());  // the order matters
}

TEST_CASE("BT equals PL for two responses", "[lab][loss]") {
  // N = 3: only position n = 2 counts, and it has seen exactly two responses.
  const TensorD pred = randd({4, 3, 5}, 4), ys = randd({4, 3, 5}, 5), rs = uniformd({4, 3}, 6, 0, 1);
  CHECK_THAT(lab::bt_loss(pred, ys, rs).item(), WithinAbs(lab::pl_loss(pred, ys, rs).item(), 1e-14));
}

TEST_CASE("gradcheck: PL and BT losses with respect to the predictions and the responses", "[lab][loss][gradcheck]") {
  const TensorD rs = uniformd({2, 5}, 7, 0, 1);
  CHECK_GRADS([&](const V& v) { return lab::pl_loss(v[0], v[1], rs); }, randd({2, 5, 3}, 8), randd({2, 5, 3}, 9));
  CHECK_GRADS([&](const V& v) { return lab::bt_loss(v[0], v[1], rs); }, randd({2, 5, 3}, 10), randd({2, 5, 3}, 11));
}

TEST_CASE("loss inputs of the wrong shape are errors", "[lab][loss][errors]") {
  const TensorD pred = randd({2, 5, 3}, 1);
  CHECK_THROWS_WITH(lab::pl_loss(pred, randd({2, 4, 3}, 2), randd({2, 5}, 3)), Catch::Contains("(2, 4, 3)"));
  CHECK_THROWS_WITH(lab::bt_loss(pred, randd({2, 5, 3}, 2), randd({2, 4}, 3)), Catch::Contains("rs must be (B, N)"));
}

// Every error path: an exception whose message names the op and the shapes, never a crash.
#include "testing.hpp"

using namespace agtest;
using Catch::Contains;

TEST_CASE("shape mismatches name the op and both shapes", "[errors]") {
  const TensorD a = randd({2, 3}, 1), b = randd({4, 5}, 2);
  CHECK_THROWS_AS(ag::add(a, b), ag::ShapeError);
  CHECK_THROWS_WITH(ag::add(a, b), Contains("add") && Contains("(2, 3)") && Contains("(4, 5)"));
  CHECK_THROWS_WITH(ag::mul(a, randd({2}, 3)), Contains("mul") && Contains("(2)"));
  CHECK_THROWS_WITH(ag::matmul(a, b), Contains("matmul") && Contains("(2, 3)") && Contains("(4, 5)"));
  CHECK_THROWS_WITH(ag::matmul(randd({2, 3, 4}, 4), randd({3, 4, 2}, 5)), Contains("matmul") && Contains("(2)") && Contains("(3)"));
  CHECK_THROWS_WITH(ag::matmul(randd({3}, 6), randd({3, 2}, 7)), Contains("matmul") && Contains("rank"));
  CHECK_THROWS_WITH(ag::linear(a, randd({4, 2}, 8)), Contains("linear") && Contains("(2, 3)") && Contains("(4, 2)"));
  CHECK_THROWS_WITH(ag::linear(a, randd({4, 3}, 9), randd({3}, 10)), Contains("linear") && Contains("bias (3)"));
  CHECK_THROWS_WITH(ag::attention(randd({1, 2, 3, 4}, 11), randd({1, 2, 3, 4}, 12), randd({1, 2, 4, 3}, 13), true),
                    Contains("attention") && Contains("(1, 2, 4, 3)"));
  CHECK_THROWS_WITH(ag::attention_qkv(randd({2, 3, 10}, 14), 2, true), Contains("attention_qkv") && Contains("(2, 3, 10)"));
  CHECK_THROWS_WITH(ag::reshape(a, {4, 2}), Contains("reshape") && Contains("(2, 3)") && Contains("(4, 2)"));
  CHECK_THROWS_WITH(ag::concat<double>({a, b}, 0), Contains("concat") && Contains("(2, 3)") && Contains("(4, 5)"));
  CHECK_THROWS_WITH(ag::stack<double>({a, b}, 0), Contains("stack"));
  CHECK_THROWS_WITH(ag::layer_norm(a, TensorD::ones({2}), TensorD::zeros({2}), 1e-5),
                    Contains("layer_norm") && Contains("(2, 3)"));
  CHECK_THROWS_WITH(ag::masked_fill(a, ag::causal_mask(3), 0.0), Contains("masked_fill") && Contains("(3, 3)"));
  CHECK_THROWS_WITH(ag::broadcast_to(a, {3, 3}), Contains("broadcast_to") && Contains("(2, 3)"));
  CHECK_THROWS_WITH(ag::permute(a, {0, 0}), Contains("permute"));
  CHECK_THROWS_WITH(ag::cosine_similarity(a, b, 0), Contains("cosine_similarity"));
}

TEST_CASE("bad axes and indices are errors", "[errors]") {
  const TensorD a = randd({2, 3}, 1);
  CHECK_THROWS_WITH(ag::sum(a, {2}), Contains("sum") && Contains("axis 2"));
  CHECK_THROWS_WITH(ag::sum(a, {1, -1}), Contains("sum") && Contains("twice"));
  CHECK_THROWS_WITH(ag::softmax(a, -3), Contains("softmax"));
  CHECK_THROWS_WITH(ag::slice(a, 1, 2, 5), Contains("slice") && Contains("(2, 3)"));
  CHECK_THROWS_WITH(ag::index_select(a, 0, {0, 2}), Contains("index_select") && Contains("index 2"));
  CHECK_THROWS_WITH(ag::gather(a, 1, ag::Index{{2, 1}, {0, 3}}), Contains("gather") && Contains("index 3"));
  CHECK_THROWS_WITH(ag::gather(a, 1, ag::Index{{2}, {0, 1}}), Contains("gather") && Contains("rank"));
  CHECK_THROWS_WITH(TensorD::from_vector({2, 2}, {1, 2, 3}), Contains("from_vector") && Contains("(2, 2)"));
}

TEST_CASE("backward misuse is an error", "[errors]") {
  TensorD x = randd({2, 3}, 1).requires_grad_();
  const TensorD y = ag::exp(x);
  CHECK_THROWS_WITH(y.backward(), Contains("backward") && Contains("(2, 3)") && Contains("seed"));
  CHECK_THROWS_WITH(y.backward(TensorD::ones({3})), Contains("backward") && Contains("(3)") && Contains("(2, 3)"));
  CHECK_THROWS_WITH(randd({1}, 2).backward(), Contains("does not require grad"));
  CHECK_THROWS_WITH(randd({1}, 3).grad(), Contains("grad"));
  CHECK_THROWS_WITH(x.item(), Contains("item") && Contains("(2, 3)"));
  y.backward(TensorD::ones({2, 3}));  // an explicit seed works for a non-scalar
  CHECK(x.has_grad());
}

TEST_CASE("a backward that produces a wrongly shaped gradient is caught at accumulation", "[errors]") {
  TensorD x = randd({2}, 4).requires_grad_();
  TensorD y = TensorD::zeros({2});
  y.impl().requires_grad = true;
  ag::Tape::current().record("broken", y.impl_ptr(), [xi = x.impl_ptr()] {
    ag::detail::grad_sink(*xi, ag::Shape{3}, "broken");
  });
  CHECK_THROWS_WITH(y.backward(TensorD::ones({2})), Contains("broken") && Contains("(3)") && Contains("(2)"));
  CHECK(ag::Tape::current().size() == 0);  // a failed backward still leaves an empty tape
}

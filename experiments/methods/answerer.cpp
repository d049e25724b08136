#include "experiments/methods/answerer.hpp"

#include <stdexcept>
#include <utility>

namespace lab {
namespace {
ag::TensorD at_k(const ag::TensorD& answers, std::size_t k) {  // (B, N, d) -> (B, d)
  const long B = static_cast<long>(answers.shape()[0]), d = static_cast<long>(answers.shape()[2]);
  return ag::reshape(ag::slice(answers, 1, static_cast<long>(k), static_cast<long>(k) + 1), {B, d});
}
}  // namespace

Answerer model_answerer(const ICAlignTransformer<float>& model, std::string name) {
  return {std::move(name), [&model](const Batch<double>& b, std::size_t k) { return at_k(model_answers(model, b), k); }};
}

Answerer answers_of(const ag::TensorD& answers, std::string name) {
  return {std::move(name), [answers](const Batch<double>&, std::size_t k) { return at_k(answers, k); }};
}

Answerer gd_answerer(const GdOptions& opt, std::uint64_t seed, std::string name) {
  return {std::move(name), [opt, seed](const Batch<double>& b, std::size_t k) { return gd_answers_seeded(b, k, opt, seed); }};
}

Answerer baseline(const std::string& name) {
  using F = ag::TensorD (*)(const Batch<double>&, std::size_t);
  const std::pair<const char*, F> all[] = {{"mean_response", mean_response}, {"best_response", best_response},
                                            {"reward_weighted", reward_weighted}, {"exact", exact_solution},
                                            {"construct", construction_answers}};
  std::string names;
  for (const auto& [n, f] : all) {
    if (name == n) return {name, f};
    names += (names.empty() ? "" : ", ") + std::string(n);
  }
  throw std::invalid_argument("no baseline called '" + name + "' (allowed: " + names + ")");
}

}  // namespace lab

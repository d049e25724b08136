// Something that answers in context: a trained model, GD, the construction, a baseline. Every study
// (evaluation, the self-correction loop, agreement, sensitivity, the construction's comparison)
// compares answerers on the same sequences through this one type.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "experiments/methods/baselines.hpp"
#include "experiments/model/model.hpp"

namespace lab {

struct Answerer {
  std::string name;
  std::function<ag::TensorD(const Batch<double>& b, std::size_t k)> answer;  // (B, d) from the first k triplets of b

  ag::TensorD operator()(const Batch<double>& b, std::size_t k) const { return answer(b, k); }
};

// The model's answer at x-token k, which has seen triplets 0..k-1 (causal). One forward per call.
Answerer model_answerer(const ICAlignTransformer<float>& model, std::string name = "model");

// The answers of a model already run on one batch (answers (B, N, d), from model_answers): for that
// batch alone, so that an evaluation over every k runs the model once.
Answerer answers_of(const ag::TensorD& answers, std::string name = "model");

// GD with the studies' seeded initialisation (gd_answers_seeded): the same GD for every study that
// uses the same seed.
Answerer gd_answerer(const GdOptions& opt, std::uint64_t seed, std::string name = "gd");

// The baselines of baselines.hpp by name: mean_response, best_response, reward_weighted, exact,
// construct. Throws std::invalid_argument naming the allowed names.
Answerer baseline(const std::string& name);

}  // namespace lab

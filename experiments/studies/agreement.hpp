// How close is a trained model to an in-context optimiser? Two measures, per number k of in-context
// examples, on held-out sequences (`icalign agree`):
//
//  - prediction agreement with GD: the mean cos(ŷ_model, ŷ_GD), and the mean distance between the
//    two answers as unit vectors, ‖ŷ_model/‖ŷ_model‖ − ŷ_GD/‖ŷ_GD‖‖ (0 when they point the same way);
//  - reward-map invariance: the PL loss uses the rewards only through their order, so GD's answer is
//    exactly unchanged when the rewards pass through an increasing map (r², √r, 0.5 + 0.5 r, 0.2 r,
//    rank/k). An answerer that has learned PL-based alignment should not move either; we report the
//    mean 1 − cos(answer with mapped rewards, answer with the original ones).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "experiments/methods/answerer.hpp"

namespace lab {

// An increasing map of the rewards, applied to the first k rewards of every sequence.
struct RewardMap {
  std::string name;
  std::function<Batch<double>(const Batch<double>& b, std::size_t k)> apply;
};
std::vector<RewardMap> increasing_reward_maps();

// Per sequence: cos(a_b, c_b), and ‖a_b/‖a_b‖ − c_b/‖c_b‖‖. a, c (B, d).
std::vector<double> cosines(const ag::TensorD& a, const ag::TensorD& c);
std::vector<double> direction_distances(const ag::TensorD& a, const ag::TensorD& c);

// One row of agreement.csv: measure ∈ {cos_with_gd, direction_distance_to_gd, map_shift,
// sensitivity_cos_with_gd (sensitivity.hpp)}, method (the answerer measured), map ("" but for
// map_shift), k, mean and standard error over the n sequences.
struct AgreementRow {
  std::string measure, method, map;
  std::size_t k;
  double mean, sem;
  std::size_t n;
};

// Every measure for every k in 1..N-1: each answerer against `reference` (the agreement), and each
// answerer (the reference included) under every map (the invariance).
std::vector<AgreementRow> agreement_study(const std::vector<Answerer>& answerers,
                                          const Answerer& reference, const Batch<double>& b, std::size_t N);

void write_agreement_csv(const std::string& path, const std::vector<AgreementRow>& rows);

}  // namespace lab

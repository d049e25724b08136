// Sensitivity agreement (`icalign agree`): does the trained model respond to a change of its
// context as GD does? For a fixed probe direction u of each sequence (unit, random), the score
// f = cos(answer, u) is a function of the k in-context responses y_1..y_k; we compare its gradient
// ∂f/∂y (k·d numbers per sequence) of the model with GD's, by their cosine.
//
//  - The model's gradient comes from the engine's own autograd: one backward pass through the
//    transformer with the responses as a leaf.
//  - GD's answer (50 Adam steps) and the construction's come out of an optimisation loop, so their
//    gradients are central finite differences in double; one perturbation of coordinate (i, j) moves
//    every sequence at once, because the sequences are independent: 2·k·d calls per k.
//
// The rewards are left out on purpose: the PL loss uses them only through their order, so GD's answer
// is piecewise constant in the rewards and its gradient with respect to them is zero wherever it
// exists. The reward-map invariance of agreement.hpp measures that side instead.
#pragma once
#include "experiments/studies/agreement.hpp"
#include "experiments/model/model.hpp"

namespace lab {

// One probe direction per sequence, unit norm: (B, d).
ag::TensorD probe_directions(std::size_t B, std::size_t d, ag::Rng& rng);

// ∂ cos(answer_k, u) / ∂ y_{1..k} of the model, by autograd: (B, k, d).
template <class T>
ag::TensorD model_sensitivity(const ICAlignTransformer<T>& model, const Batch<double>& b, std::size_t k, const ag::TensorD& u);

// The same by central differences with step h for any answerer: (B, k, d).
ag::TensorD finite_difference_sensitivity(const Answerer& answer, const Batch<double>& b, std::size_t k, const ag::TensorD& u,
                                          double h = 1e-5);

// Per sequence, the cosine between two sensitivities (B, k, d) flattened per sequence.
std::vector<double> sensitivity_cosines(const ag::TensorD& a, const ag::TensorD& c);

// Rows of agreement.csv, measure sensitivity_cos_with_gd, for each k in ks: the model (autograd)
// and each of `others` (finite differences) against GD (finite differences), on b's sequences.
std::vector<AgreementRow> sensitivity_study(const ICAlignTransformer<float>& model,
                                            const std::vector<Answerer>& others,
                                            const Answerer& gd, const Batch<double>& b, const std::vector<std::size_t>& ks,
                                            std::uint64_t seed);

}  // namespace lab

// The experiments of `icalign construct` on the explicit construction (construction.hpp):
//   equality    construction vs direct GD on random contexts, N in {2, 3, 5, 10, 20}, K in {1, 3}
//   sharpness   the error against the selection sharpness γ, next to the predicted bound
//   components  each component removed or replaced: how far the output moves from GD
//   compare     trained transformer vs construction vs GD on a run's held-out task sequences
#pragma once
#include <string>
#include <vector>

#include "experiments/model/construction.hpp"
#include "experiments/studies/evaluate.hpp"

namespace lab {

// Random contexts with distinct rewards: x of unit norm, W0 with N(0, 1/d) entries, u0 = W0 x,
// responses y_j ~ N(0, I), rewards a random permutation of the jittered grid (j + 0.25 + 0.5 U)/N,
// so any two differ by at least 0.5/N.
struct Contexts {
  ag::TensorD x, W0, u0, ys, rs;  // (B, d), (B, d, d), (B, d), (B, N, d), (B, N)
};
Contexts random_contexts(std::size_t B, std::size_t N, std::size_t d, ag::Rng& rng);
inline double grid_gap(std::size_t N) { return 0.5 / static_cast<double>(N); }


// The construction's answers and direct GD's on the same contexts (cfg.n_responses, cfg.steps).
struct Outcome {
  std::vector<double> abs_err;  // max_a |u_tf - u_gd| per context
  std::vector<double> rel_err;  // ‖u_tf - u_gd‖ / ‖u_gd - u0‖ per context
};
Outcome against_gd(const ConstructionConfig& cfg, const Contexts& c);

struct EqualityRow {
  std::size_t N, K, contexts;
  double max_abs, max_rel;
};
std::vector<EqualityRow> equality_study(std::size_t contexts, std::uint64_t seed);

struct SharpnessRow {
  double gamma_delta;            // γ δ
  double measured_max, bound_max;  // over contexts, of ‖u_tf - u_gd‖
};
std::vector<SharpnessRow> sharpness_study(std::size_t N, std::size_t contexts, std::uint64_t seed);

struct ComponentRow {
  std::string variant;
  double rel_mean, rel_max;  // ‖u - u_gd‖ / ‖u_gd - u0‖
};
std::vector<ComponentRow> component_study(std::size_t N, std::size_t contexts, std::uint64_t seed);

// On a run's held-out sequences (u0 = 0, x taken as unit norm): curves for the trained model,
// the cosine-reward GD baseline of `icalign eval`, the construction for each K in `steps` (named
// construct_K<k>, the quadratic-reward objective), the mean response, and the fixed direction
// y* - e (ystar_minus_e) that the quadratic objective's gradient always points along on this task. `max_diff` receives the
// largest |construction - direct GD| over sequences whose rewards are at least δ apart, and `narrow`
// the number of the others (where equality is not promised).
struct CompareOptions {
  EvalOptions eval;
  std::vector<std::size_t> steps{1, 3};
  double beta = 1.0, eta = 0.1, min_gap = 1e-6;
};
std::vector<Curve> compare_study(const std::string& run_dir, const CompareOptions& opt, double& max_diff,
                                 std::size_t& narrow);

}  // namespace lab

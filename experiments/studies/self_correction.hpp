// Multi-round self-correction, beyond the paper: the model answers, a critic scores the answer, the
// (answer, score) triplet joins the context, and the model answers again, for R rounds. The critic,
// what it reports and what joins the context are critic.hpp's.
//
// Exploration (explore = σ > 0): what joins the context is not the answer but a sample around it,
// unit(a) + σ z / √d with z ~ N(0, I), as a language model samples its responses; the error is still
// that of the answer itself.
//
// Round 0 answers from the k sampled triplets; round t from those plus t (answer, score) triplets.
// The same loop runs with three answerers on the same sequences, critic draws and exploration draws:
// the trained model, GD on the cosine PL loss (the `gd` baseline of icalign eval), and the explicit
// construction (quadratic PL, construction.hpp). With constant_critic, also a control: the critic
// reports 0.5 (the mean of U(0, 1)) for every answer, so the context grows by the answerer's own
// answers with no information about them; it separates what the scores teach from what appending
// one's own answers does. With no_append, a second control: nothing joins the context, so every round
// answers from the same k triplets; any change over its rounds comes from the loop itself (an
// answerer's own randomness), not from the context.
#pragma once
#include <string>
#include <vector>

#include "experiments/task/critic.hpp"
#include "experiments/studies/evaluate.hpp"

namespace lab {

struct SelfCorrectionOptions {
  std::size_t start = 4;     // k: sampled triplets before round 0
  std::size_t rounds = 12;   // R: answers after round 0; k + R must be < the model's n_points
  std::vector<double> critic_noise{0, 0.25, 0.5, 1};
  std::size_t sequences = 512;
  std::uint64_t seed = 1000003;
  double explore = 0;       // σ: the appended response is a sample around the answer (0: the answer)
  std::string responses;    // the task's responses ("line" or "spread"); empty: the run's own
  std::string weights;      // a .safetensors file (a snapshot) instead of the run's checkpoint
  bool constant_critic = false;  // also the control whose critic reports 0.5 for every answer
  bool no_append = false;        // also the control whose context does not grow
  GdOptions gd;
};

struct RoundCurve {
  std::string method;  // model, gd, construct; with ":constant" or ":noappend" a control
  double critic_noise;  // q (0 for the controls)
  std::vector<double> mean, sem;  // index: round 0..R
};

std::vector<RoundCurve> self_correction(const std::string& run_dir, const SelfCorrectionOptions& opt, std::ostream& progress);

// CSV method,critic_noise,round,mean,sem,n, written atomically.
void write_rounds_csv(const std::string& path, const std::vector<RoundCurve>& curves, std::size_t n);

}  // namespace lab

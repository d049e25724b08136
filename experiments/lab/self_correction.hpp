// Multi-round self-correction, beyond the paper: the model answers, a critic scores the answer, the
// (answer, score) triplet joins the context, and the model answers again, for R rounds.
//
// The critic maps an answer's true quality onto the reward scale the model was trained on. Every
// training response of a sequence is y_r = e + r (y* - e), with reward r, and its quality
// cos(y_r, y*) grows with r along that line. The critic gives an answer a the reward r of the training
// response of the same quality: cos(y_r, y*) = cos(a, y*) (bisection; r = 0 below cos(e, y*), 1 at
// the top). This uses only what the error metric uses, the direction of a. The answer joins the
// context rescaled to ‖y_r‖. A model trained with a cosine loss gives directions, not lengths, and
// the context should hold responses of the size the model has seen. A critic with noise q replaces
// the score, with probability q, by a fresh U(0, 1) draw (the task's reward noise, applied to the
// critic).
//
// On the spread task (task.responses: spread) the critic is the task's own reward, (1 + cos(a, y*))/2,
// and the answer joins the context scaled to ‖y*‖, as every response of that task is.
//
// Exploration (explore = σ > 0): what joins the context is not the answer but a sample around it,
// unit(a) + σ z / √d with z ~ N(0, I) (then scored and rescaled as above), as a language model
// samples its responses; the error is still that of the answer itself. Every answerer gets the same
// draws of z.
//
// Round 0 answers from the k sampled triplets; round t from those plus t (answer, score) triplets.
// The same loop runs with three answerers on the same sequences and critic draws: the trained
// model, GD on the cosine PL loss (the `gd` baseline of icalign eval), and the explicit
// construction (quadratic PL, construction.hpp). A fourth loop, `model_projected`, is a diagnostic:
// the model answers, but what joins the context is y_r itself, the training response of the same
// quality. It separates "the model cannot use scores" from "the model's own answers, which lie off
// the training line, are out of distribution as context".
#pragma once
#include <string>
#include <vector>

#include "experiments/lab/evaluate.hpp"

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
  GdOptions gd;
};

struct RoundCurve {
  std::string method;  // model, gd, construct, model_projected
  double critic_noise;
  std::vector<double> mean, sem;  // index: round 0..R
};

// The critic's score r of answers a (B, d) for the batch's sequences, before noise, and each answer
// rescaled to ‖y_r‖ (line) or ‖y*‖ (spread): what joins the context.
struct Critique {
  std::vector<double> score;
  ag::TensorD response;    // (B, d)
  ag::TensorD projection;  // (B, d): y_r, the training response of the same quality
};
Critique critique(const TaskConfig& task, const Batch<double>& b, const ag::TensorD& answers);

// unit(a) + σ z / √d for each row of a (B, d), z ~ N(0, I): a response sampled around the answer.
ag::TensorD sample_around(const ag::TensorD& a, double sigma, ag::Rng& rng);

std::vector<RoundCurve> self_correction(const std::string& run_dir, const SelfCorrectionOptions& opt, std::ostream& progress);

// CSV method,critic_noise,round,mean,sem,n, written atomically.
void write_rounds_csv(const std::string& path, const std::vector<RoundCurve>& curves, std::size_t n);

}  // namespace lab

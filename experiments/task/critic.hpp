// The critic of multi-round self-correction (docs/self_correction.md), a part of the task: it scores
// an answer the way the task rewards its responses, and decides what joins the context.
//
// The score. Line task: every response of a sequence is y_r = e + r (y* - e) with reward r, and its
// quality cos(y_r, y*) grows with r along that line; an answer a gets the reward r of the response of
// the same quality, cos(y_r, y*) = cos(a, y*) (bisection; 0 below cos(e, y*), 1 at the top). Spread
// task: the task's own reward, (1 + cos(a, y*)) / 2. Either way only the answer's direction counts,
// as in the error metric.
//
// What joins the context may depend only on the answer, the context the answerer sees, and the score
// the critic reports; never on the truth (y*, e, the answer's true quality) the critic scores
// against, or a control that hides the score would still leak it. So the appended response is the
// answer's direction at the mean length of the context's responses (a model trained with a cosine
// loss gives directions, not lengths, and the context should hold responses of the size it has
// seen), and a critic with noise q reports, with probability q, a fresh U(0, 1) draw instead of its
// score: the task's reward noise, applied to the critic.
#pragma once
#include <vector>

#include "experiments/task/task.hpp"

namespace lab {

struct CriticOptions {
  double noise = 0;    // q: the probability that a reported score is a fresh U(0, 1) draw
  double explore = 0;  // σ: the appended response is a sample around the answer (0: the answer)
  double constant = -1;  // >= 0: a control that reports this score for every answer (no information, no noise)
};

// The critic's scores, before noise, of answers a (B, d) to the sequences of `truth`.
std::vector<double> critic_scores(const TaskConfig& task, const Batch<double>& truth, const ag::TensorD& a);

// Each row of a (B, d) rescaled to the mean length of the responses in triplets 0..n-1 of ctx.
ag::TensorD at_context_length(const Batch<double>& ctx, std::size_t n, const ag::TensorD& a);

// unit(a) + σ z / √d for each row of a (B, d), z ~ N(0, I): a response sampled around the answer.
ag::TensorD sample_around(const ag::TensorD& a, double sigma, ag::Rng& rng);

// One round: answers a (B, d) from the first n triplets of ctx become its triplet n, the response (a,
// or a sample around it, at the context's length) and the score the critic reports (rs; rs_true gets
// the score before noise). `truth` holds the sequences' y* and e; ctx's first n triplets are what the
// answerer saw. Draws from `noise` (two per sequence, whatever q; none for a constant critic) and, when
// exploring, `explore`.
void append_critiqued(const TaskConfig& task, const Batch<double>& truth, Batch<double>& ctx, std::size_t n,
                      const ag::TensorD& a, const CriticOptions& critic, ag::Rng& noise, ag::Rng& explore);

}  // namespace lab

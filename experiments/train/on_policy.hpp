// On-policy contexts (training.on_policy: m), an intervention beyond the paper for multi-round
// self-correction (docs/self_correction.md). In the loop of self_correction.hpp the model reads its
// own answers, scored by a critic, as context; trained on the paper's task alone it has never seen
// such a context. Here, m consecutive triplets of every training sequence, from a position k0 drawn
// per step in [1, N-1-m], are replaced by the model's own answers of that moment, appended one round
// at a time by the loop's own step (critic.hpp's append_critiqued, with an accurate critic; with
// training.on_policy_explore = σ > 0, a sample around each answer, as the loop's --explore appends). The rollout runs without a tape: no gradient flows through the answers, as in
// learning-to-self-correct training. The loss is the paper's PL loss over the whole new sequence.
#pragma once
#include "experiments/model/model.hpp"
#include "experiments/task/task.hpp"

namespace lab {

// b's triplets k0 .. k0+m-1 replaced by the model's answers (m forward passes), in float for training.
// The caller's batch is left as it was.
Batch<float> with_own_answers(const ICAlignTransformer<float>& model, const TaskConfig& task, Batch<double> b,
                              std::size_t m, double explore, ag::Rng& rng);

}  // namespace lab

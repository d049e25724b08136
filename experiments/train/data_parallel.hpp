// One training step's gradient over micro-batches, spread over the ranks of a Group.
//
// The batch is cut into m equal micro-batches (training.micro_batches). Rank r of N computes the
// gradients of micro-batches r·m/N .. (r+1)·m/N − 1, each on its own (zero_grad, forward, backward),
// every rank gets every micro-batch's gradient (an all-gather, which moves bytes and adds nothing),
// and each rank sums them in micro-batch order and divides by m. So the sum is the same on every
// rank and the same for any N that divides m: `mpirun -np m` equals `micro_batches: m` in one
// process, bit for bit. (MPI_Allreduce would send less, but its summation order is the library's.)
#pragma once
#include "experiments/train/config.hpp"
#include "experiments/train/distributed.hpp"
#include "experiments/model/model.hpp"
#include "experiments/task/task.hpp"

namespace lab {

struct StepGradient {
  double loss = 0;          // the mean of the micro-batches' losses
  bool interrupted = false;  // some rank caught Ctrl-C / SIGTERM: every rank stops after this step
};

// Leaves the batch's mean gradient in the parameters' .grad on every rank. `interrupted_here` is
// this rank's own interrupt flag, shared with the others in the same exchange.
StepGradient data_parallel_gradient(const ICAlignTransformer<float>& model, const Batch<float>& batch,
                                    const TrainConfig& tc, const Group& group, bool interrupted_here);

}  // namespace lab

// A resumable training checkpoint: a directory holding
//   model.safetensors      the parameters (loads into the PyTorch reference unchanged), and
//   optimizer.safetensors  the optimizer's moments, with the step, the data RNG's state, the model
//                          config and the optimizer's kind in its metadata.
// A save writes DIR.new and swaps it in with renames, so a process killed at any moment leaves a
// complete state behind (training_state_dir finds it). Both files also carry the step, and a pair
// that does not match is rejected: a resumed run continues bit-identically or not at all.
#pragma once
#include <string>

#include "autograd/rng.hpp"
#include "nn/checkpoint.hpp"
#include "nn/transformer.hpp"

namespace nn {

// The directory that holds the newest complete state saved under `dir` (dir itself, or a leftover
// of an interrupted save), or "" when there is none.
std::string training_state_dir(const std::string& dir);

template <class T>
void save_training_state(const std::string& dir, const ICAlignTransformer<T>& model, const Optimizer<T>& opt,
                         const ag::Rng& data_rng);

// Restores model, optimizer and RNG; returns the step to continue from. Throws CheckpointError if
// the directory, a file, the config or the optimizer kind does not match.
template <class T>
long load_training_state(const std::string& dir, const ICAlignTransformer<T>& model, Optimizer<T>& opt,
                         ag::Rng& data_rng);

}  // namespace nn

// A resumable training checkpoint: a directory holding
//   model.safetensors      the parameters (loads into the PyTorch reference unchanged), and
//   optimizer.safetensors  the optimizer's moments, with the step, the data RNG's state, the caller's
//                          metadata (e.g. the model config) and the optimizer's kind in its metadata.
// A save writes DIR.new and swaps it in with renames, so a process killed at any moment leaves a
// complete state behind (training_state_dir finds it). Both files also carry the step, and a pair
// that does not match is rejected: a resumed run continues bit-identically or not at all.
#pragma once
#include <map>
#include <string>

#include "autograd/rng.hpp"
#include "nn/checkpoint.hpp"
#include "nn/module.hpp"

namespace nn {

using Metadata = std::map<std::string, std::string>;

// The directory that holds the newest complete state saved under `dir` (dir itself, or a leftover
// of an interrupted save), or "" when there is none.
std::string training_state_dir(const std::string& dir);

// `metadata` describes the model (its config): load_training_state requires the same entries; other
// entries are the caller's to keep (see saved_metadata below). Throws CheckpointError, writing
// nothing, if a parameter holds a NaN or an infinity: a checkpoint is always a state to resume from.
template <class T>
void save_training_state(const std::string& dir, const Module<T>& model, const Optimizer<T>& opt,
                         const ag::Rng& data_rng, const Metadata& metadata);

// Restores model, optimizer and RNG; returns the step to continue from, and every saved metadata
// entry in *saved_metadata if given. Throws CheckpointError if the directory, a file, an entry of
// `metadata` or the optimizer kind does not match; then nothing has been changed.
template <class T>
long load_training_state(const std::string& dir, const Module<T>& model, Optimizer<T>& opt, ag::Rng& data_rng,
                         const Metadata& metadata, Metadata* saved_metadata = nullptr);

}  // namespace nn

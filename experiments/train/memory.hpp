// What a training run will hold in memory, worked out from its config before anything is allocated,
// so that a config too large for the machine is refused at once, naming the estimate, instead of
// ending in std::bad_alloc (or building a model for minutes) after the run directory was made.
#pragma once
#include <cstddef>
#include <string>

#include "experiments/train/config.hpp"

namespace lab {

struct MemoryEstimate {
  std::size_t parameters = 0;  // the transformer's parameter count, exact
  double weight_bytes = 0;     // weights, gradients and Adam's two moments: 4 float copies
  double activation_bytes = 0; // what backward keeps of one step's forward: a lower bound
  double total() const { return weight_bytes + activation_bytes; }
};

// The parameter count of the transformer built from `m` (ICAlignTransformer), without building it.
std::size_t parameter_count(const ModelConfig& m);

MemoryEstimate estimate_training_memory(const RunConfig& cfg);

// The machine's physical memory in bytes (0 when the system does not say).
double physical_memory_bytes();

// Throws std::invalid_argument when the estimate exceeds `available` bytes, naming the estimate,
// its parts and the memory it was compared with.
void refuse_if_too_large(const RunConfig& cfg, double available = physical_memory_bytes());

// "1.5 GiB", "820 MiB": for messages.
std::string bytes_text(double bytes);

}  // namespace lab

// Checkpoints in the safetensors format: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor bytes. Any safetensors reader opens them; PyTorch names and
// layouts (nn/layers.hpp) make them load into the reference model unchanged.
#pragma once
#include <map>
#include <stdexcept>
#include <string>

#include "nn/optim.hpp"

namespace nn {

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes atomically: a temporary file beside `path`, fsync, then rename, so a crash leaves either
// the old checkpoint or the new one, never half of one. `metadata` goes to "__metadata__", with
// an FNV-1a checksum of the data added so that flipped bits are detected on load.
template <class T>
void save_safetensors(const std::string& path, const NamedParams<T>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Validates everything before touching the destination — header size, JSON, dtype, every name
// present and no extra, shapes, offsets inside the file and contiguous, checksum — and only then
// copies into the tensors' storage. Throws CheckpointError naming the first problem.
template <class T>
std::map<std::string, std::string> load_safetensors(const std::string& path, const NamedParams<T>& into);

}  // namespace nn

// libFuzzer target: any bytes as a safetensors checkpoint. Loading must either fill the tensors or
// throw CheckpointError; anything else (a crash, a sanitizer report, another exception) is a bug.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "nn/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/fuzz_safetensors." + std::to_string(::getpid());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  const nn::NamedParams<float> into{{"w", ag::TensorF::zeros({3, 4})}, {"b", ag::TensorF::zeros({4})}};
  try {
    nn::load_safetensors(path, into);
  } catch (const nn::CheckpointError&) {
  }
  return 0;
}

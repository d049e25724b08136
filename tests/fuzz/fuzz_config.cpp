// libFuzzer target: a run config as YAML text, then `--set` overrides, one per line after a line
// "--". Parsing must return a valid config or throw std::invalid_argument naming the problem.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/train/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find("\n--\n");
  const std::string yaml = input.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos)
    for (std::size_t at = split + 4; at <= input.size();) {
      const auto end = std::min(input.find('\n', at), input.size());
      overrides.push_back(input.substr(at, end - at));
      at = end + 1;
    }
  try {
    const lab::RunConfig c = lab::parse_config(yaml, overrides);
    c.validate();
    (void)lab::parse_config(c.to_yaml());  // what we write parses back
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

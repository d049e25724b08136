// Small file helpers of the lab.
#pragma once
#include <string>

namespace lab {

// Writes text to path through path.tmp and a rename, so a reader never sees half a file.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace lab

// Small file helpers of the lab.
#pragma once
#include <string>

namespace lab {

// Writes text to path through a temp file of this process (path.tmp.<pid>) and a rename, so a reader
// never sees half a file and two writers never share a temp file.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace lab

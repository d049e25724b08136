// The file operations every writer here shares: an atomic, durable write and directory creation,
// each reporting the OS's reason when it fails.
#pragma once
#include <string>

namespace nn {

// Writes `bytes` to path through a temp file of this process (path.tmp.<pid>), fsync, then rename:
// a reader (or a crash) sees the old file or the new one, never half of one, and two processes
// writing the same path at once never share a temp file. On failure the temp file is removed, the
// old file is left as it was, and std::runtime_error names the path and the reason.
void write_atomically(const std::string& path, const std::string& bytes);

// Creates dir and its missing parents; throws std::runtime_error with the reason if it cannot.
void make_directories(const std::string& dir);

bool path_exists(const std::string& path);

}  // namespace nn

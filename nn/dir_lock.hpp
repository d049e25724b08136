// One writer per run directory: an advisory lock (flock) on <dir>/lock, held for the life of a
// DirectoryLock. The kernel drops it when the holder exits however it exits (a kill -9 included),
// so a stale lock never blocks anyone. The file keeps the holder's pid and task for the error
// message of whoever is refused.
#pragma once
#include <stdexcept>
#include <string>

namespace nn {

// Thrown when another process holds the lock; the message names the directory and the holder.
struct DirectoryBusy : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DirectoryLock {
 public:
  // Takes the lock on an existing directory without waiting; throws DirectoryBusy if another
  // process holds it, std::runtime_error if the lock file cannot be opened. `task` (e.g.
  // "icalign train") goes into the lock file.
  DirectoryLock(const std::string& dir, const std::string& task);
  ~DirectoryLock();
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  DirectoryLock& operator=(DirectoryLock&&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace nn

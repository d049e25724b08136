#include "nn/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nn {

DirectoryLock::DirectoryLock(const std::string& dir, const std::string& task) {
  const std::string path = dir + "/lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    char holder[256] = {};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    if (why != EWOULDBLOCK) throw std::runtime_error("cannot lock '" + path + "': " + std::strerror(why));
    std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "another process";
    while (!who.empty() && who.back() == '\n') who.pop_back();
    throw DirectoryBusy("run directory '" + dir + "' is in use by " + who +
                        "; one process at a time may write to a run directory");
  }
  // Ours now: say who holds it. Failing to write this only makes a refusal's message vaguer.
  const std::string me = "pid " + std::to_string(::getpid()) + " (" + task + ")\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, me.data(), me.size(), 0);
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace nn

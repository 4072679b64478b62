// SPDX-License-Identifier: MIT
// nsfun – UniqueFd and pidfds.

#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/pidfd.hpp>
#include <nsfun/unique_fd.hpp>

#include "sys.hpp"

namespace nsfun {

result<UniqueFd> UniqueFd::clone() const noexcept {
  // At least 3, so that a clone never lands on stdin/stdout/stderr when those were closed.
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    return sys::last_error("fcntl F_DUPFD_CLOEXEC").on("fd ", fd_);
  }
  return adopt(fd);  // owns: fresh duplicate
}

result<void> UniqueFd::close() noexcept {
  int fd = release();
  if (fd < 0) {
    return success();
  }
  // Never retried on EINTR: on Linux the fd is gone whatever close() returns.
  if (::close(fd) < 0) {
    return sys::last_error("close").on("fd ", fd);
  }
  return success();
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

result<UniqueFd> pidfd_open(pid_t pid) noexcept {
  if (pid <= 0) {
    return errno_error(ESRCH, "pidfd_open").on("pid ", pid);
  }
  long fd = ::syscall(sys::sys_pidfd_open, pid, 0U);
  if (fd < 0) {
    return sys::last_error("pidfd_open").on("pid ", pid);
  }
  return UniqueFd::adopt(static_cast<int>(fd));  // owns: pidfd_open returns a new cloexec fd
}

result<pid_t> pidfd_pid(FdRef pidfd) noexcept {
  sys::PathBuf path;
  path.add("/proc/self/fdinfo/").add(pidfd.get());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return sys::last_error("open").on(path.c_str());
  }
  UniqueFd info = UniqueFd::adopt(fd);  // owns: just opened
  char buf[1024];
  ssize_t n = ::read(info.get(), buf, sizeof(buf) - 1);
  if (n < 0) {
    return sys::last_error("read").on(path.c_str());
  }
  buf[n] = '\0';
  const char* p = std::strstr(buf, "\nPid:");
  if (p == nullptr) {
    return errno_error(EBADF, "pid of pidfd")
        .on(pidfd.get())
        .because("not a pidfd (no Pid: line in ", path.c_str(), ")");
  }
  long pid = std::strtol(p + 5, nullptr, 10);
  // -1: the process has exited and been reaped; 0: not in the caller's pid namespace.
  if (pid < 0) {
    return errno_error(ESRCH, "pid of pidfd").on(pidfd.get()).because("the process has exited");
  }
  if (pid == 0) {
    return errno_error(ESRCH, "pid of pidfd")
        .on(pidfd.get())
        .because("the process is outside the caller's pid namespace");
  }
  return static_cast<pid_t>(pid);
}

}  // namespace nsfun

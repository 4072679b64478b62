// SPDX-License-Identifier: MIT
// nsfun – pidfds: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

NSFUN_INLINE result<UniqueFd> pidfd_open(pid_t pid) noexcept {
  if (pid <= 0) {
    return errno_error(ESRCH, "pidfd_open").on("pid ", pid);
  }
  long fd = ::syscall(detail::sys::sys_pidfd_open, pid, 0U);
  if (fd < 0) {
    return detail::sys::last_error("pidfd_open").on("pid ", pid);
  }
  return UniqueFd::adopt(static_cast<int>(fd));  // owns: pidfd_open returns a new cloexec fd
}

NSFUN_INLINE result<pid_t> pidfd_pid(FdRef pidfd) noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/self/fdinfo/").add(pidfd.get());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("open").on(path.c_str());
  }
  UniqueFd info = UniqueFd::adopt(fd);  // owns: just opened
  char buf[1024];
  ssize_t n = ::read(info.get(), buf, sizeof(buf) - 1);
  if (n < 0) {
    return detail::sys::last_error("read").on(path.c_str());
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

NSFUN_INLINE result<void> pidfd_send_signal(FdRef pidfd, int sig, pid_t pid) noexcept {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0U) == 0) {
    return success();
  }
  error e = detail::sys::last_error("pidfd_send_signal");
  const char* abbrev = ::sigabbrev_np(sig);
  if (pid > 0) {
    return abbrev != nullptr ? std::move(e).on("SIG", abbrev, " to pid ", pid)
                             : std::move(e).on("signal ", sig, " to pid ", pid);
  }
  return abbrev != nullptr ? std::move(e).on("SIG", abbrev, " to pidfd ", pidfd.get())
                           : std::move(e).on("signal ", sig, " to pidfd ", pidfd.get());
}

}  // namespace nsfun

// SPDX-License-Identifier: MIT
// nsfun – UniqueFd: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

NSFUN_INLINE result<UniqueFd> UniqueFd::clone() const noexcept {
  // At least 3, so that a clone never lands on stdin/stdout/stderr when those were closed.
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    return detail::sys::last_error("fcntl F_DUPFD_CLOEXEC").on("fd ", fd_);
  }
  return adopt(fd);  // owns: fresh duplicate
}

NSFUN_INLINE result<void> UniqueFd::close() noexcept {
  int fd = release();
  if (fd < 0) {
    return success();
  }
  // Never retried on EINTR: on Linux the fd is gone whatever close() returns.
  if (::close(fd) < 0) {
    return detail::sys::last_error("close").on("fd ", fd);
  }
  return success();
}

NSFUN_INLINE void UniqueFd::reset() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace nsfun

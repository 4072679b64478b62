// SPDX-License-Identifier: MIT
// nsfun – pidfds: stable handles on processes.
#pragma once

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

/// An fd on a running process, immune to pid reuse: pidfd_open(pid, 0) (O_CLOEXEC by definition).
/// Wraps: pidfd_open(2) https://man7.org/linux/man-pages/man2/pidfd_open.2.html
/// Errors, naming the pid: std::errc::no_such_process (`pidfd_open pid 4242: No such process`),
/// std::errc::function_not_supported (< 5.3).
[[nodiscard]] result<UniqueFd> pidfd_open(pid_t pid) noexcept;

/// The pid of the process a pidfd refers to, in the caller's pid namespace (from fdinfo).
/// Errors, naming the pidfd: std::errc::no_such_process when the process has exited and been
/// reaped (`pid of pidfd 5: the process has exited`) or is outside the caller's pid namespace.
[[nodiscard]] result<pid_t> pidfd_pid(FdRef pidfd) noexcept;

/// Sends signal `sig` to the process a pidfd refers to; a process that reused its pid is never
/// hit. `pid` only names the process in an error (0: the pidfd is named instead).
/// Wraps: pidfd_send_signal(2) https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html
/// Errors: std::errc::no_such_process when it has exited (`pidfd_send_signal SIGKILL to pid
/// 4242: No such process`), std::errc::operation_not_permitted, std::errc::invalid_argument.
[[nodiscard]] result<void> pidfd_send_signal(FdRef pidfd, int sig, pid_t pid = 0) noexcept;

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/pidfd.ipp>
#endif

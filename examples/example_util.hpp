// SPDX-License-Identifier: MIT
// What the recipe examples share: run a Command and keep what it printed, and the exit status
// that means "not allowed to make namespaces here" (reported by the tests as skipped).
#pragma once

#include <cerrno>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/error.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/unique_fd.hpp>

namespace example {

inline constexpr int cannot_run_here = 77;

/// Spawns `cmd` with its stdout into a pipe and returns what it printed, once it exited with 0.
inline nsfun::result<std::string> output_of(nsfun::Command cmd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return nsfun::errno_error(errno, "pipe2");
  }
  nsfun::UniqueFd r = nsfun::UniqueFd::adopt(fds[0]);  // owns: just made
  nsfun::UniqueFd w = nsfun::UniqueFd::adopt(fds[1]);  // owns: just made
  NSFUN_TRY(nsfun::Child child, nsfun::spawn(cmd.redirect(1, w)));
  w.reset();  // only the child writes now: EOF when it is done
  std::string out;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(r.get(), buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  NSFUN_TRY(nsfun::ExitStatus status, child.wait());
  if (!status.success()) {
    return nsfun::errno_error(ECHILD, "the program failed");
  }
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

/// Prints "NAME: what failed: why" and gives the exit status: 77 when the kernel said no. Only
/// for the step that needs the privileges: once that worked, a refusal is a bug (fail_after()).
/// Prints "NAME: what failed: why" and gives exit status 1, whatever the error.
inline int fail_after(const char* name, const nsfun::error& e) {
  std::fprintf(stderr, "%s: %s\n", name, e.message().c_str());
  return 1;
}

inline int fail(const char* name, const nsfun::error& e) {
  int status = fail_after(name, e);
  return e == std::errc::operation_not_permitted || e == std::errc::permission_denied
             ? cannot_run_here
             : status;
}

}  // namespace example

// SPDX-License-Identifier: MIT
// What the recipe examples share: run a Command and keep what it printed, a pipe, read an
// optional pid argument, and report an error with the exit status that means "not allowed here"
// (77, which the tests report as skipped).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <nsfun/error.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/unique_fd.hpp>

namespace example {

/// The exit status of an example the kernel did not allow to make its namespaces.
inline constexpr int cannot_run_here = 77;

/// Runs `cmd` with its stdout captured and returns what it printed (without the last newline),
/// once it exited with 0. Its stderr goes where ours goes.
inline nsfun::result<std::string> output_of(nsfun::Command cmd) {
  NSFUN_TRY(nsfun::Child child, nsfun::spawn(cmd.capture_stdout()));
  NSFUN_TRY(nsfun::Output output, child.wait_with_output());
  if (!output.status.success()) {
    return nsfun::errno_error(ECHILD, "run")
        .on(cmd.spec().program)
        .because(output.status.exited() ? "exit status " : "killed by signal ",
                 output.status.exited() ? output.status.code : output.status.signal);
  }
  while (!output.out.empty() && output.out.back() == '\n') {
    output.out.pop_back();
  }
  return output.out;
}

/// A pipe (O_CLOEXEC both ends): what one process writes to `write`, another reads from `read`.
struct Pipe {
  nsfun::UniqueFd read;
  nsfun::UniqueFd write;
};

inline nsfun::result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return nsfun::errno_error(errno, "pipe2");
  }
  return Pipe{nsfun::UniqueFd::adopt(fds[0]), nsfun::UniqueFd::adopt(fds[1])};  // just made
}

/// False (after printing the usage line) when the program, which takes none, got arguments.
inline bool no_arguments(const char* name, int argc) {
  if (argc > 1) {
    std::fprintf(stderr, "usage: %s (it takes no arguments)\n", name);
    return false;
  }
  return true;
}

/// The pid given as the program's only argument, 0 when there is none, -1 (after printing why)
/// when it is not a pid or there are more arguments.
inline pid_t pid_argument(const char* name, int argc, char** argv) {
  if (argc == 1) {
    return 0;
  }
  char* end = nullptr;
  const long n = argc == 2 ? std::strtol(argv[1], &end, 10) : 0;
  if (argc > 2 || *argv[1] == '\0' || *end != '\0' || n <= 0 || n > 0x3fffffff) {
    std::fprintf(stderr, "usage: %s [PID]\n", name);
    return -1;
  }
  return static_cast<pid_t>(n);
}

/// Prints "NAME: what failed: why" and gives exit status 1, whatever the error: for the steps
/// after the privileged one, where a refusal is a bug.
inline int fail_after(const char* name, const nsfun::error& e) {
  std::fprintf(stderr, "%s: %s\n", name, e.message().c_str());
  return 1;
}

/// The same, for the step that needs the privileges: exit status 77 when the kernel said no
/// (EPERM, EACCES).
inline int fail(const char* name, const nsfun::error& e) {
  const int status = fail_after(name, e);
  return e == std::errc::operation_not_permitted || e == std::errc::permission_denied
             ? cannot_run_here
             : status;
}

}  // namespace example

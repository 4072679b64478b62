// SPDX-License-Identifier: MIT
// nsfun (private) – the minimal init spawn's child runs, and the hold loop of Command::hold().
//
// Both run in the child after clone3, on a copy of a possibly multithreaded parent: only
// async-signal-safe calls, no allocation.
#pragma once

#include <csignal>
#include <cstdint>
#include <cstring>

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nsfun::detail::spawn_init {

// Where the caller's argv and environ strings lie in its memory (/proc/self/stat's arg_start,
// arg_end, env_start, env_end), found by the parent; zero when unknown.
struct Title {
  std::uintptr_t arg_start = 0;
  std::uintptr_t arg_end = 0;
  std::uintptr_t env_start = 0;
  std::uintptr_t env_end = 0;
};

// The init's name: what /proc/1/comm and /proc/1/cmdline show inside the pid namespace.
inline constexpr char init_name[] = "init";

// Renames the init so that the container does not see the launcher's command line (a host
// path, its arguments) nor its environment: the comm becomes "init" (PR_SET_NAME), and the init's
// copy of the argv and environ strings is overwritten, the argv area with "init" and NULs up to
// a last byte that is not NUL. That byte is what the kernel looks at (fs/proc/base.c,
// get_mm_cmdline): the area was rewritten as setproctitle does, so /proc/PID/cmdline shows the
// first string alone, "init\0", and no trail of NULs. The init reads neither argv nor environ.
// Writes only its own memory (no allocation, no call beyond prctl): async-signal-safe.
inline void set_title(const Title& t) noexcept {
  ::prctl(PR_SET_NAME, init_name, 0, 0, 0);
  if (t.env_end > t.env_start) {
    std::memset(reinterpret_cast<void*>(t.env_start), 0,  // NOLINT: the kernel's addresses
                t.env_end - t.env_start);
  }
  if (t.arg_end <= t.arg_start) {
    return;
  }
  auto* area = reinterpret_cast<char*>(t.arg_start);  // NOLINT: the kernel's addresses
  const std::size_t len = t.arg_end - t.arg_start;
  std::memset(area, 0, len);
  if (len >= sizeof(init_name) + 1) {
    std::memcpy(area, init_name, sizeof(init_name));
    area[len - 1] = ' ';
  }
}

// The init's main child; read by its signal handler.
inline volatile pid_t forward_to = 0;

inline void forward_signal(int sig) noexcept {
  if (forward_to > 0) {
    ::kill(forward_to, sig);
  }
}

// PID 1 of a new pid namespace (or the relay after joining one): forward signals to the main
// child, reap every orphan that is reparented here, and exit with the main child's status.
[[noreturn]] inline void run_init(pid_t main_child) noexcept {
  forward_to = main_child;

  struct sigaction sa {};

  sa.sa_handler = forward_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT}) {
    ::sigaction(sig, &sa, nullptr);
  }

  struct sigaction dfl {};

  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(-1, &status, 0);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::_exit(127);  // ECHILD: the main child vanished without a status
    }
    if (w == main_child) {
      // PID 1 ignores its own default-action signals, so a killed child is reported the way
      // shells do: 128 + signal.
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

// Command::hold(): keep no fd beyond 0, 1 and 2 (there is no exec to close them), then block
// until killed, reaping whatever ends up as a child (as PID 1 of a new pid namespace, every
// orphan of the namespace; otherwise nothing ever comes).
[[noreturn]] inline void hold() noexcept {
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::sigwaitinfo(&set, nullptr);
  }
}

}  // namespace nsfun::detail::spawn_init

// SPDX-License-Identifier: MIT
// nsfun (private) – the minimal init spawn's child runs, and the hold loop of Command::hold().
//
// Both run in the child after clone3, on a copy of a possibly multithreaded parent: only
// async-signal-safe calls, no allocation.
#pragma once

#include <csignal>

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nsfun::detail::spawn_init {

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

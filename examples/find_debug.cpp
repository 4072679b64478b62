// SPDX-License-Identifier: MIT
// Recipe 14, find & debug: in which namespaces is this process isolated from the host?
//
//   nsm diff 1 PID    # or: for t in ...; do readlink /proc/1/ns/$t /proc/PID/ns/$t; done
//
// For process PID (or, with no argument, a process started here in new uts and net
// namespaces), every /proc/PID/ns link is compared with init's, and the types that differ are
// the ones it is isolated in. Where PID 1's links cannot be read (some sandboxes refuse it
// even to root), this program's own namespaces are the reference instead.
//
//   find_debug [PID]
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iomanip>
#include <iostream>
#include <utility>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char** argv) {
  pid_t pid = example::pid_argument("find_debug", argc, argv);
  if (pid < 0) {
    return 2;
  }
  nsfun::Child child;  // killed and reaped when main returns
  if (pid == 0) {
    auto started =
        nsfun::spawn(nsfun::Command::hold().namespaces({nsfun::NsType::uts, nsfun::NsType::net}));
    if (!started) {
      return example::fail("find_debug", started.error());  // 77: not allowed here
    }
    child = std::move(started).value();
    pid = child.pid();
  }

  // The types in which PID differs from the reference (PID 1, or us), and which one that was.
  auto isolation = nsfun::isolated_from(pid);
  if (!isolation) {
    return example::fail_after("find_debug", isolation.error());
  }
  const nsfun::Isolation& iso = isolation.value();
  if (iso.reference == nsfun::Isolation::Reference::init) {
    std::cout << "pid " << pid << " against PID 1:\n";
  } else {
    std::cout << "pid " << pid << " against this program (pid " << iso.reference_pid
              << "; PID 1's links are not readable):\n";
  }

  // Side by side, as nsm diff shows them.
  auto links = nsfun::diff(iso.reference_pid, pid);
  if (!links) {
    return example::fail_after("find_debug", links.error());
  }
  for (const nsfun::NsDiffEntry& e : links.value()) {
    std::cout << std::left << std::setw(18) << nsfun::name(e.link) << std::setw(21)
              << e.a.to_string() << std::setw(21) << e.b.to_string()
              << (e.same() ? "same" : "isolated") << "\n";
  }
  std::cout << "isolated in: " << (iso.types.empty() ? "nothing" : iso.types.to_string()) << "\n";
  return 0;
}

// SPDX-License-Identifier: MIT
// Recipe 11, inspect namespaces via /proc:
//
//   ls -l /proc/self/ns                          # our namespaces: TYPE:[INODE]
//   readlink /proc/$$/ns/uts /proc/PID/ns/uts    # equal inode = the same namespace
//
// First our own /proc/self/ns links. Then, link by link, ours against another process's: a
// child started here in new uts and net namespaces, or the process PID when one is given.
//
//   inspect_proc [PID]
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iomanip>
#include <iostream>
#include <utility>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main(int argc, char** argv) {
  using nsfun::NsType;
  pid_t pid = example::pid_argument("inspect_proc", argc, argv);
  if (pid < 0) {
    return 2;
  }
  std::cout << "our namespaces (/proc/self/ns):\n";
  for (nsfun::NsLink link : nsfun::all_ns_links) {
    auto ns = nsfun::NsFd::current(link);  // opens /proc/thread-self/ns/LINK
    if (!ns) {
      return example::fail_after("inspect_proc", ns.error());
    }
    std::cout << "  " << std::left << std::setw(18) << nsfun::name(link)
              << ns.value().identity().to_string() << "\n";
  }

  nsfun::Child child;  // killed and reaped when main returns
  if (pid == 0) {
    auto started = nsfun::spawn(nsfun::Command::hold().namespaces({NsType::uts, NsType::net}));
    if (!started) {
      return example::fail("inspect_proc", started.error());  // 77: not allowed here
    }
    child = std::move(started).value();
    pid = child.pid();
  }

  // The same inode in both links means the same namespace.
  std::cout << "ours against pid " << pid << " (/proc/" << pid << "/ns):\n";
  for (nsfun::NsLink link : nsfun::all_ns_links) {
    auto a = nsfun::NsFd::open(::getpid(), link);
    auto b = nsfun::NsFd::open(pid, link);
    if (!a || !b) {
      return example::fail_after("inspect_proc", !a ? a.error() : b.error());
    }
    const nsfun::Namespace& ours = a.value().identity();
    const nsfun::Namespace& theirs = b.value().identity();
    std::cout << "  " << std::setw(18) << nsfun::name(link) << std::setw(21) << ours.to_string()
              << std::setw(21) << theirs.to_string()
              << (ours.ino() == theirs.ino() ? "same" : "different") << "\n";
  }
  return 0;
}

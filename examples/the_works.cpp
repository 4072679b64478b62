// SPDX-License-Identifier: MIT
// Recipe 4, "the works", basically a container:
//
//   unshare --pid --uts --mount --ipc --net --cgroup --fork sleep 60 &
//   for t in mnt uts ipc pid net cgroup user time; do
//     readlink /proc/$$/ns/$t /proc/$!/ns/$t; done
//
// A child is started in new pid, uts, mnt, ipc, net and cgroup namespaces, all at once (one
// clone3). Then each of its /proc/PID/ns links is compared with ours: it shares only the user
// and time namespaces with us.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iomanip>
#include <iostream>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char**) {
  if (!example::no_arguments("the_works", argc)) {
    return 2;
  }
  using nsfun::NsType;

  // A process that only holds its namespaces (PID 1 of its pid namespace) until we kill it.
  auto child = nsfun::spawn(nsfun::Command::hold().namespaces(
      {NsType::pid, NsType::uts, NsType::mnt, NsType::ipc, NsType::net, NsType::cgroup}));
  if (!child) {
    return example::fail("the_works", child.error());  // 77: not allowed here
  }
  const pid_t pid = child.value().pid();

  // Every /proc/PID/ns link of ours and of the child, side by side.
  auto links = nsfun::diff(::getpid(), pid);
  if (!links) {
    return example::fail_after("the_works", links.error());
  }
  std::cout << std::left << std::setw(18) << "LINK" << std::setw(21) << "OURS"
            << "CHILD (pid " << pid << ")\n";
  nsfun::NsTypeSet differ;
  for (const nsfun::NsDiffEntry& e : links.value()) {
    std::cout << std::setw(18) << nsfun::name(e.link) << std::setw(21) << e.a.to_string()
              << std::setw(21) << e.b.to_string() << (e.same() ? "same" : "differs") << "\n";
    if (!e.same()) {
      differ.insert(nsfun::type_of(e.link));
    }
  }
  std::cout << "new namespaces of the child: " << differ.to_string() << "\n";
  return 0;  // the child is killed and reaped as `child` goes
}

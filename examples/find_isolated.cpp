// SPDX-License-Identifier: MIT
// Recipe 13, find isolated processes (likely containers):
//
//   for p in /proc/[0-9]*; do
//     [ "$(readlink $p/ns/pid)" != "$(readlink /proc/1/ns/pid)" ] && echo "${p#/proc/}"
//   done
//
// Every process whose pid namespace is not init's. So that there is always one to find, a
// process is started here in a new pid namespace first. Where PID 1's links cannot be read
// (some sandboxes refuse it even to root), our own pid namespace is the reference instead.

#include <cstddef>
#include <cstdint>
#include <iostream>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main() {
  using nsfun::NsLink;
  auto child = nsfun::spawn(nsfun::Command::hold().namespaces({nsfun::NsType::pid}));
  if (!child) {
    return example::fail("find_isolated", child.error());  // 77: not allowed here
  }
  std::cout << "started pid " << child.value().pid() << " in a new pid namespace\n";

  // The reference: PID 1, or this process when PID 1's links are not readable.
  auto ref = nsfun::isolation_reference();
  if (!ref) {
    return example::fail_after("find_isolated", ref.error());
  }
  const auto pid_link = static_cast<std::size_t>(NsLink::pid);
  const std::uint64_t init_pidns = ref.value().proc.ino[pid_link];
  std::cout << "reference: "
            << (ref.value().kind == nsfun::Isolation::Reference::init ? "PID 1" : "this process")
            << ", pid:[" << init_pidns << "]\n";

  // One pass over /proc reading each process's pid link and command line.
  nsfun::ProcScanOptions options;
  options.types = {nsfun::NsType::pid};
  options.cmdline = true;
  auto scan = nsfun::scan_procs(options);
  if (!scan) {
    return example::fail_after("find_isolated", scan.error());
  }
  std::cout << "isolated processes (PID, pid namespace, command):\n";
  for (const nsfun::ProcEntry& p : scan.value().procs) {
    const std::uint64_t pidns = p.ino[pid_link];
    if (pidns != 0 && pidns != init_pidns) {  // 0: not readable
      std::cout << p.pid << " pid:[" << pidns << "] " << p.cmdline << "\n";
    }
  }
  std::cout << scan.value().stats.denied << " processes not readable\n";
  return 0;
}

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
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iostream>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char**) {
  if (!example::no_arguments("find_isolated", argc)) {
    return 2;
  }
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
  const nsfun::Namespace init_pidns = ref.value().proc.ns(NsLink::pid, 0);
  std::cout << "reference: "
            << (ref.value().kind == nsfun::Isolation::Reference::init ? "PID 1" : "this process")
            << ", " << init_pidns.to_string() << "\n";

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
    const nsfun::Namespace pidns = p.ns(NsLink::pid, scan.value().nsfs_dev);
    if (!pidns.empty() && pidns != init_pidns) {  // empty: its link is not readable
      std::cout << p.pid << " " << pidns.to_string() << " " << p.cmdline << "\n";
    }
  }
  std::cout << "not readable: " << scan.value().stats.denied << " processes\n";
  return 0;
}

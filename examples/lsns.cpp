// SPDX-License-Identifier: MIT
// Recipe 12, list namespaces:
//
//   lsns            # every namespace: NS TYPE NPROCS PID USER COMMAND
//   lsns -t net     # only one type
//
// One pass over /proc groups the processes by namespace; each row names the namespace's lowest
// pid, its owner and its command line, as lsns does. A namespace that no process is in but a
// bind mount keeps (ip netns add) shows the mount's path instead.
//
// Needs no privilege (as another user it sees only the processes it may read).

#include <iomanip>
#include <iostream>
#include <string>

#include <pwd.h>
#include <sys/types.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

namespace {

// The user name of `uid`, as lsns prints it (the number when it has none).
std::string user_name(uid_t uid) {
  const passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? pw->pw_name : std::to_string(uid);
}

// Takes a snapshot and prints one row per namespace.
int print_table(const nsfun::SnapshotOptions& options) {
  auto snapshot = nsfun::Snapshot::take(options);
  if (!snapshot) {
    return example::fail_after("lsns", snapshot.error());
  }
  std::cout << "        NS TYPE   NPROCS     PID USER     COMMAND\n";
  for (const nsfun::NsSummary& s : snapshot.value().namespaces()) {
    std::cout << std::right << std::setw(10) << s.ns.ino() << " " << std::left << std::setw(6)
              << nsfun::name(s.ns.type()) << std::right << std::setw(7) << s.nprocs << std::setw(8)
              << s.pid << " " << std::left << std::setw(9)
              << (s.nprocs > 0 ? user_name(s.uid) : "-") << (s.nprocs > 0 ? s.command : s.path)
              << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char**) {
  if (!example::no_arguments("lsns", argc)) {
    return 2;
  }
  std::cout << "lsns:\n";
  if (int status = print_table({}); status != 0) {
    return status;
  }
  // -t net: the snapshot reads only the net link of each process.
  nsfun::SnapshotOptions only_net;
  only_net.types = {nsfun::NsType::net};
  std::cout << "\nlsns -t net:\n";
  return print_table(only_net);
}

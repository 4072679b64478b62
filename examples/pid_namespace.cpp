// SPDX-License-Identifier: MIT
// Recipe: a process tree of its own, with a /proc that shows only it —
//
//   unshare --pid --fork --mount-proc sh -c 'echo pid=$$ /proc/[0-9]*'
//
// The shell is PID 1 of the new pid namespace, and the fresh /proc (in a new mount namespace,
// so the host's /proc is untouched) lists only the processes of that namespace.

#include <cstdio>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main() {
  auto inside = example::output_of(nsfun::Command("sh")
                                       .args({"-c", "echo pid=$$ /proc/[0-9]*"})
                                       .namespaces({nsfun::NsType::pid, nsfun::NsType::mnt})
                                       .mount_proc());
  if (!inside) {
    return example::fail("pid_namespace", inside.error());
  }
  std::printf("inside the new pid namespace: %s\n", inside.value().c_str());
  return inside.value() == "pid=1 /proc/1" ? 0 : 1;
}

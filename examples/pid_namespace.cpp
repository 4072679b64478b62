// SPDX-License-Identifier: MIT
// Recipe 2, a process tree of its own, with a /proc that shows only it:
//
//   unshare --pid --fork --mount-proc sh -c 'ps -o pid,comm'
//
// The shell is PID 1 of a new pid namespace. A fresh /proc is mounted for it (in a new mount
// namespace, so the host's /proc is untouched), and ps, which reads /proc, sees only the shell
// and itself. From outside, the same shell has an ordinary pid: /proc/PID/status's NSpid line
// lists its pid in each pid namespace it is in, ours first.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iostream>
#include <vector>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char**) {
  if (!example::no_arguments("pid_namespace", argc)) {
    return 2;
  }
  using nsfun::NsType;

  // The shell waits for a line on stdin (a pipe whose other end we hold) before it runs ps, so
  // that it is still there while we look at it.
  auto gate = example::make_pipe();
  if (!gate) {
    return example::fail_after("pid_namespace", gate.error());
  }
  auto child = nsfun::spawn(nsfun::Command("sh")
                                .args({"-c", "read go; ps -o pid,comm"})
                                .namespaces({NsType::pid, NsType::mnt})
                                .mount_proc()
                                .redirect(0, gate.value().read)
                                .capture_stdout());
  if (!child) {
    return example::fail("pid_namespace", child.error());  // 77: not allowed here
  }

  // Its pids, outermost first: here (the caller's pid namespace), then inside (1).
  nsfun::ProcScanOptions options;
  options.nspid = true;
  auto proc = nsfun::scan_proc(child.value().pid(), options);
  if (!proc) {
    return example::fail_after("pid_namespace", proc.error());
  }
  const std::vector<pid_t>& nspid = proc.value().nspid;  // e.g. {4242, 1}
  if (nspid.size() != 2) {
    std::cerr << "pid_namespace: NSpid of pid " << child.value().pid() << " has " << nspid.size()
              << " entries, expected 2\n";
    return 1;
  }
  std::cout << "the child's pid here: " << nspid[0] << "\n"
            << "the child's pid inside: " << nspid[1] << "\n";

  // Let it go (end-of-file on its stdin), and show what ps saw inside.
  gate.value().write.reset();
  auto output = child.value().wait_with_output();
  if (!output) {
    return example::fail_after("pid_namespace", output.error());
  }
  std::cout << "ps inside the new pid namespace:\n" << output.value().out;
  return 0;
}

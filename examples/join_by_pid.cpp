// SPDX-License-Identifier: MIT
// Recipe 6, step into a running process's namespaces:
//
//   nsenter --target PID --all sh -c '…'   # everything: as if inside the container
//   nsenter --target PID --net sh -c '…'   # its network only (to run tcpdump there, say)
//
// join_by_pid [PID]: with no PID, the target is started here, a process that holds new uts, ipc,
// net, pid and mnt namespaces and the hostname nsfun-target, as a container's init would. The
// same shell line then runs in all of its namespaces, and in its network namespace only.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iostream>
#include <string>
#include <utility>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

namespace {

// What the joined shell prints: its hostname (uts), its pid (pid) and the interfaces (net).
const char* const show = "echo \"hostname $(hostname)\"; echo \"pid $$\"; ip -br link";

// Runs the shell line with `cmd`'s joins and prints the title and what it printed.
int run(const std::string& title, nsfun::Command cmd) {
  auto out = example::output_of(cmd.args({"-c", show}));
  if (!out) {
    return example::fail("join_by_pid", out.error());  // 77: not allowed to join
  }
  std::cout << title << ":\n" << out.value() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using nsfun::NsType;
  pid_t pid = example::pid_argument("join_by_pid", argc, argv);
  if (pid < 0) {
    return 2;
  }
  nsfun::Child target;  // our own target, killed and reaped when main returns
  if (pid == 0) {
    auto started = nsfun::spawn(
        nsfun::Command::hold()
            .namespaces({NsType::uts, NsType::ipc, NsType::net, NsType::pid, NsType::mnt})
            .hostname("nsfun-target"));
    if (!started) {
      return example::fail("join_by_pid", started.error());  // 77: not allowed here
    }
    target = std::move(started).value();
    pid = target.pid();
  }
  std::cout << "target: pid " << pid << "\n";

  // --all: the target's namespaces of every type in which it differs from us.
  auto differ = nsfun::isolated_from(pid, ::getpid());
  if (!differ) {
    return example::fail_after("join_by_pid", differ.error());
  }
  auto all = nsfun::NsFdSet::open(pid, differ.value().types);
  if (!all) {
    return example::fail_after("join_by_pid", all.error());
  }
  nsfun::Command everything("sh");
  for (NsType t : all.value().types()) {
    everything.join(*all.value().get(t));
  }
  const std::string nsenter = "nsenter --target " + std::to_string(pid);
  const std::string joins = all.value().types().to_string();
  if (int status = run(nsenter + " --all (joins " + joins + ")", everything); status != 0) {
    return status;
  }

  // --net: only its network namespace; hostname and pid stay ours.
  auto net = nsfun::NetNs::open(pid);
  if (!net) {
    return example::fail_after("join_by_pid", net.error());
  }
  return run(nsenter + " --net", nsfun::Command("sh").join(net.value()));
}

// SPDX-License-Identifier: MIT
// Recipe 20: watch short-lived namespaces come and go —
//
//   nsm monitor -t uts,ipc &   for i in 1 2 3; do unshare --uts --ipc true; done
//
// A monitor (BPF where permitted, else the proc connector or /proc rescans: it says which) is
// started first; then three processes are started in new UTS and IPC namespaces and killed a
// moment later, so each namespace lives a few milliseconds. The events about those namespaces
// are printed: NEW with the process that made them, GONE with how long they lived. Events about
// the other namespaces of the machine are counted, not shown.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include <nsfun/monitor.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/spawn.hpp>

#include "example_util.hpp"

namespace {

using namespace std::chrono_literals;
using nsfun::NsType;

// "uts:[4026532178] id 8193": the inode, and the 64-bit id that tells apart two namespaces that
// got the same inode one after the other (Linux 6.18+).
std::string label(const nsfun::Namespace& ns) {
  return ns.to_string() + (ns.id() != 0 ? " id " + std::to_string(ns.id()) : "");
}

nsfun::result<int> demo() {
  nsfun::MonitorOptions options;
  options.types = {NsType::uts, NsType::ipc};
  options.interval = 100ms;  // for the backends that rescan
  NSFUN_TRY(auto monitor, nsfun::NsMonitor::open(options));
  std::printf("monitor: %s (%s)\nthis program: pid %d\n",
              std::string(nsfun::name(monitor.backend())).c_str(), monitor.why().c_str(),
              ::getpid());

  std::vector<nsfun::Namespace> ours;  // compared with their 64-bit ids where the kernel has them
  for (int i = 0; i < 3; ++i) {
    NSFUN_TRY(auto child,
              nsfun::spawn(nsfun::Command::hold().namespaces({NsType::uts, NsType::ipc})));
    NSFUN_TRY(auto uts, nsfun::NsFd::open(child.pid(), NsType::uts));
    NSFUN_TRY(auto ipc, nsfun::NsFd::open(child.pid(), NsType::ipc));
    std::printf("made %s, %s in pid %d\n", label(uts.identity()).c_str(),
                label(ipc.identity()).c_str(), child.pid());
    ours.push_back(uts.identity());
    ours.push_back(ipc.identity());
    NSFUN_TRYV(child.kill());
    NSFUN_TRYV(child.wait());
  }  // the last holders (the process and these fds) are gone: so are the namespaces

  std::size_t gone = 0;
  std::size_t others = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (gone < ours.size() && std::chrono::steady_clock::now() < deadline) {
    NSFUN_TRY(auto event, monitor.next(100ms));
    if (!event) {
      continue;
    }
    if (std::find(ours.begin(), ours.end(), event->ns) == ours.end()) {
      ++others;
      continue;
    }
    std::string line = std::string(nsfun::name(event->kind)) + " " + label(event->ns);
    if (event->kind == nsfun::NsEventKind::appeared) {
      line += " pid " + std::to_string(event->pid) + " (" + event->comm + ")";
    } else if (event->kind == nsfun::NsEventKind::gone) {
      ++gone;
      if (event->lived) {
        line += " lived " + std::to_string(event->lived->count() / 1000) + " us";
      }
    }
    std::printf("event: %s\n", line.c_str());
  }
  std::printf("%zu of %zu namespaces seen going; %zu events about other namespaces\n", gone,
              ours.size(), others);
  return gone == ours.size() ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("watch_namespaces", r.error());
}

// SPDX-License-Identifier: MIT
// Recipe 20: watch short-lived namespaces come and go —
//
//   nsm monitor -t uts,ipc &   for i in 1 2 3; do unshare --uts --ipc true; done
//
// A monitor (BPF where permitted, else the proc connector or /proc rescans: it says which) is
// started first; then three processes are started in new UTS and IPC namespaces and killed
// 50 ms later, so each namespace lives some 50 ms (BPF sees any lifetime; the others need the
// process to last until they look). The events about those namespaces are printed: NEW with the
// process that made them, GONE with how long they lived. Other namespaces' events are not shown.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/core.h>

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

bool is_ours(const std::vector<nsfun::Namespace>& ours, const nsfun::NsEvent& e) {
  return std::find(ours.begin(), ours.end(), e.ns) != ours.end();
}

nsfun::result<int> demo() {
  nsfun::MonitorOptions options;
  options.types = {NsType::uts, NsType::ipc};
  options.interval = 20ms;  // for the backends that rescan /proc
  NSFUN_TRY(auto monitor, nsfun::NsMonitor::open(options));
  std::printf("monitor: %s (%s)\nthis program: pid %d\n",
              std::string(nsfun::name(monitor.backend())).c_str(), monitor.why().c_str(),
              ::getpid());
  // The monitor works when it is asked for events: keep asking for `how_long`.
  std::vector<nsfun::NsEvent> events;
  auto pump = [&](std::chrono::milliseconds how_long) -> nsfun::result<void> {
    for (auto end = std::chrono::steady_clock::now() + how_long;
         std::chrono::steady_clock::now() < end;) {
      NSFUN_TRY(auto event, monitor.next(10ms));
      if (event) {
        events.push_back(std::move(*event));
      }
    }
    return nsfun::success();
  };

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
    uts = {};  // only the process holds them now: they die with it
    ipc = {};
    NSFUN_TRYV(pump(50ms));  // they live 50 ms
    NSFUN_TRYV(child.kill());
    NSFUN_TRYV(child.wait());
  }
  auto gone = [&] {
    return std::ranges::count_if(events, [&](const nsfun::NsEvent& e) {
      return e.kind == nsfun::NsEventKind::gone && is_ours(ours, e);
    });
  };
  for (int waited = 0; gone() < std::ssize(ours) && waited < 50; ++waited) {
    NSFUN_TRYV(pump(100ms));  // up to 5 s for the last GONE
  }

  for (const nsfun::NsEvent& e : events) {
    if (is_ours(ours, e)) {
      const bool made = e.kind == nsfun::NsEventKind::appeared;
      fmt::print("event: {} {}{}\n", nsfun::name(e.kind), label(e.ns),
                 made      ? fmt::format(" pid {} ({})", e.pid, e.comm)
                 : e.lived ? fmt::format(" lived {} us", e.lived->count() / 1000)
                           : "");
    }
  }
  std::printf("%td of %zu namespaces seen going; %zu events in all\n", gone(), ours.size(),
              events.size());
  return gone() == std::ssize(ours) ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("watch_namespaces", r.error());
}

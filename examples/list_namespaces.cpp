// SPDX-License-Identifier: MIT
// nsfun example – list every namespace like lsns: NS TYPE NPROCS PID USER COMMAND.
//
//   list_namespaces [-n] [-t TYPES] [--scan-only] [--proc-only]
//
// --scan-only does the bare /proc scan and prints how many processes it saw (for benchmarks).
// --proc-only reads every link from /proc, never through the BPF task iterator (which the scan
// takes as root when built with it), to compare the two.

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/nsfun.hpp>

namespace {

const std::string& user_name(uid_t uid, std::map<uid_t, std::string>& cache) {
  static const std::string unknown;
  if (uid == static_cast<uid_t>(-1)) {
    return unknown;
  }
  auto it = cache.find(uid);
  if (it == cache.end()) {
    const passwd* pw = ::getpwuid(uid);
    it = cache.emplace(uid, pw != nullptr ? pw->pw_name : std::to_string(uid)).first;
  }
  return it->second;
}

int usage() {
  fmt::print(stderr, "usage: list_namespaces [-n] [-t TYPES] [--scan-only] [--proc-only]\n");
  return 2;
}

}  // namespace

// Exceptions (the NOLINT): only fmt's errors (a failed write) can escape; they end the
// program with terminate's message.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  bool headings = true;
  bool scan_only = false;
  bool task_iter = true;
  nsfun::NsTypeSet types = nsfun::NsTypeSet::all();
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-n") {
      headings = false;
    } else if (arg == "--scan-only") {
      scan_only = true;
    } else if (arg == "--proc-only") {
      task_iter = false;
    } else if (arg == "-t" && i + 1 < argc) {
      auto parsed = nsfun::NsTypeSet::parse(argv[++i]);
      if (!parsed) {
        fmt::print(stderr, "list_namespaces: -t '{}': {}\n", argv[i], parsed.error());
        return 2;
      }
      types = parsed.value();
    } else {
      return usage();
    }
  }

  if (scan_only) {
    nsfun::ProcScanOptions options;
    options.types = types;
    options.task_iter = task_iter;
    auto scan = nsfun::scan_procs(options);
    if (!scan) {
      fmt::print(stderr, "list_namespaces: {}\n", scan.error());
      return 1;
    }
    fmt::print("{} processes ({} vanished, {} not readable)\n", scan.value().procs.size(),
               scan.value().stats.vanished, scan.value().stats.denied);
    return 0;
  }

  nsfun::SnapshotOptions options;
  options.types = types;
  options.task_iter = task_iter;
  auto snap = nsfun::Snapshot::take(options);
  if (!snap) {
    fmt::print(stderr, "list_namespaces: {}\n", snap.error());
    return 1;
  }
  std::map<uid_t, std::string> users;
  // Written a chunk at a time: a whole listing in one buffer would touch fresh pages for every
  // 4 KiB of it.
  fmt::memory_buffer out;
  out.reserve(64 * 1024);
  if (headings) {
    fmt::format_to(std::back_inserter(out), "{:>10} {:<6} {:>6} {:>6} {:<8} {}\n", "NS", "TYPE",
                   "NPROCS", "PID", "USER", "COMMAND");
  }
  for (const nsfun::NsSummary& s : snap.value().namespaces()) {
    // A namespace no process is in (held by a bind mount): no PID or USER, its path for COMMAND.
    const bool held = s.pid != 0;
    const fmt::format_int pid(s.pid);
    fmt::format_to(std::back_inserter(out), "{:>10} {:<6} {:>6} {:>6} {:<8} {}\n", s.ns.ino(),
                   nsfun::name(s.ns.type()), s.nprocs,
                   held ? std::string_view(pid.data(), pid.size()) : std::string_view(),
                   held ? std::string_view(user_name(s.uid, users)) : std::string_view(),
                   held ? s.command : s.path);
    if (out.size() > 60 * 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// SPDX-License-Identifier: MIT
// nsfun example – print the namespaces of the calling thread (or of a pid), like `ls -l
// /proc/self/ns`, with the kernel's 64-bit namespace ids where the kernel has them.
//
//   print_namespaces [PID]

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include <nsfun/nsfun.hpp>

// Exceptions (the NOLINT): only fmt's errors (a failed write) can escape; they end the
// program with terminate's message.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  pid_t pid = 0;
  if (argc > 2) {
    fmt::print(stderr, "usage: print_namespaces [PID]\n");
    return 2;
  }
  if (argc == 2) {
    char* end = nullptr;
    long n = std::strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || n <= 0 || n > 0x3fffffff) {
      fmt::print(stderr, "print_namespaces: invalid pid '{}'\n", argv[1]);
      return 2;
    }
    pid = static_cast<pid_t>(n);
  }

  fmt::print("{:<18} {:<20} {:>8}\n", "LINK", "NAMESPACE", "NSID");
  for (nsfun::NsLink link : nsfun::all_ns_links) {
    auto ns = pid != 0 ? nsfun::NsFd::open(pid, link) : nsfun::NsFd::current(link);
    if (!ns) {
      if (ns.error() == nsfun::errc::unsupported_namespace_type) {
        continue;  // an older kernel without this type
      }
      if (pid != 0) {
        fmt::print(stderr, "print_namespaces: pid {}: {}: {}\n", pid, nsfun::name(link),
                   ns.error());
      } else {
        fmt::print(stderr, "print_namespaces: {}: {}\n", nsfun::name(link), ns.error());
      }
      return 1;
    }
    const nsfun::Namespace& id = ns.value().identity();
    std::string nsid = id.id() != 0 ? std::to_string(id.id()) : std::string("-");
    fmt::print("{:<18} {:<20} {:>8}\n", nsfun::name(link), id, nsid);
  }
  return 0;
}

// SPDX-License-Identifier: MIT
// Recipe 19: a time namespace —
//
//   unshare --time --boottime 864000 --monotonic 3600 cat /proc/uptime
//
// A new time namespace whose CLOCK_BOOTTIME runs 10 days and CLOCK_MONOTONIC 1 hour ahead of
// ours; /proc/uptime (boot time) read inside is 864000 s more than outside. Only the clocks of
// processes in that namespace move: ours, and the host's, do not.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nsfun/spawn.hpp>
#include <nsfun/time_ns.hpp>

#include "example_util.hpp"

namespace {

using namespace std::chrono_literals;

double uptime_outside() {
  double seconds = 0;
  std::ifstream("/proc/uptime") >> seconds;
  return seconds;
}

}  // namespace

int main() {
  const nsfun::TimeOffsets offsets{.monotonic = 1h, .boottime = 240h};
  auto ns = nsfun::acquire_time_ns(offsets);
  if (!ns) {
    return example::fail("time_namespace", ns.error());
  }
  auto child = nsfun::spawn(
      nsfun::Command("cat").arg("/proc/uptime").join(ns.value().ns()).capture_stdout());
  if (!child) {
    return example::fail_after("time_namespace", child.error());
  }
  auto out = child.value().wait_with_output();
  if (!out || !out.value().status.success()) {
    std::fprintf(stderr, "time_namespace: cat /proc/uptime failed\n");
    return 1;
  }
  const double inside = std::strtod(out.value().out.c_str(), nullptr);
  const double outside = uptime_outside();
  std::printf("time namespace %s: boottime +%llds, monotonic +%llds\n",
              ns.value().identity().to_string().c_str(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::seconds>(offsets.boottime).count()),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::seconds>(offsets.monotonic).count()));
  std::printf("uptime inside: %.2f s\nuptime outside: %.2f s\ndifference: %.0f s\n", inside,
              outside, inside - outside);
  const double diff = inside - outside;
  return diff > 864000 - 60 && diff < 864000 + 60 ? 0 : 1;
}

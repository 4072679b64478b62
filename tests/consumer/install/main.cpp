// SPDX-License-Identifier: MIT
// nsfun consumer test – print the caller's net namespace (built against the installed package
// and, by tests/consumer/subdir, with nsfun added as a subdirectory).

#include <cstdio>

#include <fmt/core.h>

#include <nsfun/nsfun.hpp>

#ifndef NSFUN_VERSION_MAJOR
#  error "<nsfun/nsfun.hpp> does not define NSFUN_VERSION_MAJOR"
#endif

#ifdef NSFUN_EXPECTED_VERSION_MAJOR
static_assert(NSFUN_VERSION_MAJOR == NSFUN_EXPECTED_VERSION_MAJOR,
              "the package version and <nsfun/version.hpp> disagree");
#endif

int main() {
  auto ns = nsfun::NsFd::current(nsfun::NsType::net);
  if (!ns) {
    fmt::print(stderr, "{}\n", ns.error());
    return 1;
  }
  fmt::print("{}\n", ns.value());
  return 0;
}

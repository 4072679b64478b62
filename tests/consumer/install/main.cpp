// SPDX-License-Identifier: MIT
// nsfun consumer test – print the caller's net namespace (built against the installed package
// and, by tests/consumer/subdir, with nsfun added as a subdirectory; linked with the compiled
// library, header-only through CMake, and header-only from a plain include path).

#include <cstdio>

#include <fmt/core.h>

#include <nsfun/nsfun.hpp>

#include "consumer.hpp"

#ifndef NSFUN_VERSION_MAJOR
#  error "<nsfun/nsfun.hpp> does not define NSFUN_VERSION_MAJOR"
#endif

#ifdef NSFUN_EXPECTED_VERSION_MAJOR
static_assert(NSFUN_VERSION_MAJOR == NSFUN_EXPECTED_VERSION_MAJOR,
              "the package version and <nsfun/version.hpp> disagree");
#endif

// Built against nsfun::header_only (or -DNSFUN_HEADER_ONLY by hand) the consumer says so, and the
// program must be in that mode; and the other way round.
#if defined(NSFUN_CONSUMER_HEADER_ONLY) != defined(NSFUN_HEADER_ONLY)
#  error "the consumer's mode and NSFUN_HEADER_ONLY disagree"
#endif

int main() {
  if (consumer_second() != 0) {
    fmt::print(stderr, "parse_ns_type failed in the second translation unit\n");
    return 1;
  }
  auto ns = nsfun::NsFd::current(nsfun::NsType::net);
  if (!ns) {
    fmt::print(stderr, "{}\n", ns.error());
    return 1;
  }
  fmt::print("{}\n", ns.value());
  return 0;
}

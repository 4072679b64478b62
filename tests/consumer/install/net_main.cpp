// SPDX-License-Identifier: MIT
// nsfun consumer test – a program of the net component: parse an address prefix (no privileges
// needed). Built with find_package(nsfun COMPONENTS net), with nsfun-net.pc, and as a
// subdirectory.

#include <cstdio>

#include <nsfun/net/net.hpp>

int main() {
  auto p = nsfun::net::IpPrefix::parse("10.0.0.1/24");
  std::printf("%s\n", p ? "nsfun-net consumer ok" : "parse failed");
  return p ? 0 : 1;
}

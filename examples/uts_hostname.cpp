// SPDX-License-Identifier: MIT
// Recipe: a hostname of its own —
//
//   unshare --uts sh -c 'hostname box; hostname'
//
// The child gets a new UTS namespace and the hostname "nsfun-box"; ours does not change.

#include <array>
#include <cstdio>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main() {
  auto inside = example::output_of(
      nsfun::Command("hostname").namespaces({nsfun::NsType::uts}).hostname("nsfun-box"));
  if (!inside) {
    return example::fail("uts_hostname", inside.error());
  }
  std::array<char, 256> here{};
  ::gethostname(here.data(), here.size() - 1);
  std::printf("hostname inside: %s\nhostname outside: %s\n", inside.value().c_str(), here.data());
  return inside.value() == "nsfun-box" && inside.value() != here.data() ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// Recipe 1, a hostname of its own:
//
//   unshare --uts sh -c 'hostname nsfun-box; hostname'
//
// The child gets a new UTS namespace, and nsfun sets its hostname there before the program
// starts. Our hostname (the host's) does not change.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <array>
#include <iostream>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main(int argc, char**) {
  if (!example::no_arguments("uts_hostname", argc)) {
    return 2;
  }
  // `hostname` in a new UTS namespace whose hostname is nsfun-box; what it prints is kept.
  auto inside = example::output_of(
      nsfun::Command("hostname").namespaces({nsfun::NsType::uts}).hostname("nsfun-box"));
  if (!inside) {
    return example::fail("uts_hostname", inside.error());  // 77: not allowed here
  }

  // Our own hostname, read after the child is gone: still the host's.
  std::array<char, 256> here{};
  ::gethostname(here.data(), here.size() - 1);

  std::cout << "hostname inside:  " << inside.value() << "\n"
            << "hostname outside: " << here.data() << "\n";
  return 0;
}

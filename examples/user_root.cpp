// SPDX-License-Identifier: MIT
// Recipe: root inside, yourself outside —
//
//   unshare --user --map-root-user id -u
//
// The child gets a new user namespace whose uid 0 is the caller's uid (and gid 0 its gid): it
// is root in there, and holds every capability over the namespaces that user namespace owns,
// but nothing more outside. Works without privileges where the kernel allows user namespaces.

#include <cstdio>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main() {
  auto map = nsfun::UserMap::root_is(::getuid(), ::getgid());
  if (!map) {
    return example::fail("user_root", map.error());
  }
  auto inside = example::output_of(
      nsfun::Command("id").arg("-u").namespaces({nsfun::NsType::user}).user_map(map.value()));
  if (!inside) {
    return example::fail("user_root", inside.error());
  }
  std::printf("uid inside: %s\nuid outside: %u\n", inside.value().c_str(), ::getuid());
  return inside.value() == "0" ? 0 : 1;
}

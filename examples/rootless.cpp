// SPDX-License-Identifier: MIT
// Recipe 5, root inside, yourself outside (works without root):
//
//   unshare --user --map-root-user sh -c 'id -u; id -g; cat /proc/self/uid_map'
//
// The child gets a new user namespace whose uid 0 is our uid (and gid 0 our gid). In there it is
// root, with every capability over the namespaces that user namespace owns, but nothing more
// outside: to the rest of the system it is still us. An unprivileged user may do this wherever
// the kernel allows unprivileged user namespaces.
//
// Needs no privilege; exits 77 when the kernel refuses user namespaces.

#include <iostream>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main(int argc, char**) {
  if (!example::no_arguments("rootless", argc)) {
    return 2;
  }
  // --map-root-user: "0 <our uid> 1" as uid_map, "0 <our gid> 1" as gid_map.
  auto map = nsfun::UserMap::root_is(::getuid(), ::getgid());
  if (!map) {
    return example::fail_after("rootless", map.error());
  }

  // nsfun writes the maps from the parent before the child goes on, so `id` already sees them.
  // uid_map's line "0 1000 1": uid 0 inside is uid 1000 outside, for 1 uid.
  const char* show = "echo \"uid $(id -u), gid $(id -g)\"; echo uid_map $(cat /proc/self/uid_map)";
  auto inside = example::output_of(nsfun::Command("sh")
                                       .args({"-c", show})
                                       .namespaces({nsfun::NsType::user})
                                       .user_map(map.value()));
  if (!inside) {
    return example::fail("rootless", inside.error());  // 77: user namespaces not allowed here
  }

  std::cout << "outside: uid " << ::getuid() << ", gid " << ::getgid() << "\n"
            << "inside:\n"
            << inside.value() << "\n";
  return 0;
}

// SPDX-License-Identifier: MIT
// Recipe: mounts nobody else sees —
//
//   unshare --mount sh -c 'mount -t tmpfs none /mnt; touch /mnt/note; ls /mnt'
//
// The child gets a new mount namespace (with every mount made private first, so nothing
// propagates back), mounts a tmpfs on /mnt and writes a file there. Outside, /mnt is unchanged.

#include <cstdio>
#include <string>

#include <sys/stat.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

namespace {

bool exists(const char* path) {
  struct stat st {};

  return ::stat(path, &st) == 0;
}

}  // namespace

int main() {
  auto inside = example::output_of(
      nsfun::Command("sh")
          .args({"-c", "mount -t tmpfs nsfun-example /mnt && touch /mnt/nsfun-note && ls /mnt"})
          .namespaces({nsfun::NsType::mnt}));
  if (!inside) {
    return example::fail("mount_private", inside.error());
  }
  const bool outside = exists("/mnt/nsfun-note");
  std::printf("inside, /mnt holds: %s\noutside, /mnt/nsfun-note %s\n", inside.value().c_str(),
              outside ? "exists" : "does not exist");
  return inside.value() == "nsfun-note" && !outside ? 0 : 1;
}

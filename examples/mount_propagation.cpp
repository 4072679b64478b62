// SPDX-License-Identifier: MIT
// Recipe 16: mount namespaces and propagation —
//
//   unshare --mount sh -c 'mount -t tmpfs none DIR; mount --make-shared DIR;
//     unshare --mount --propagation unchanged sh -c "mount --make-private DIR; …"; …'
//
// A "lab" mount namespace of its own (every mount private: nothing goes back to ours) gets a
// tmpfs on a fresh directory DIR, which we do not see. DIR is made shared there, and three copies
// of the lab (new mount namespaces) set their DIR private, shared and slave. Then the lab mounts
// below DIR and each copy mounts below DIR: who sees which mount is the propagation type.
// Nothing runs in these namespaces: fds hold them, and run_in visits them on short threads.
#include <cstdio>
#include <string>

#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/mount.hpp>

#include "example_util.hpp"

namespace {

using nsfun::Propagation;

// mount -t tmpfs on `dir` (made first) in the calling thread's mount namespace.
nsfun::result<void> tmpfs_on(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);
  if (::mount("nsfun-example", dir.c_str(), "tmpfs", 0, "size=1m") < 0) {
    return nsfun::errno_error(errno, "mount tmpfs on " + dir);
  }
  return nsfun::success();
}

bool sees(const nsfun::NsFd& ns, const std::string& path) {
  auto r = nsfun::run_in(ns, [&] { return nsfun::is_mount_point(path.c_str()); });
  return r && r.value();
}

nsfun::result<int> demo(const std::string& dir) {
  NSFUN_TRY(nsfun::MntNs lab, nsfun::acquire<nsfun::NsType::mnt>());
  NSFUN_TRYV(nsfun::run_in(lab.ns(), [&]() -> nsfun::result<void> {
    NSFUN_TRYV(nsfun::set_propagation("/", Propagation::private_, /*recursive=*/true));
    NSFUN_TRYV(tmpfs_on(dir));
    return nsfun::set_propagation(dir.c_str(), Propagation::shared, /*recursive=*/false);
  }));
  NSFUN_TRY(bool here, nsfun::is_mount_point(dir.c_str()));
  std::printf("%s is a tmpfs mount in the lab: %s; here: %s\n", dir.c_str(),
              sees(lab.ns(), dir) ? "yes" : "no", here ? "yes" : "no");

  std::printf("%-8s %-22s %s\n", "copy", "sees the lab's mount", "the lab sees its mount");
  for (Propagation p : {Propagation::private_, Propagation::shared, Propagation::slave}) {
    const std::string kind(nsfun::name(p));
    NSFUN_TRY(nsfun::MntNs copy, nsfun::run_in(lab.ns(), [] {
                return nsfun::acquire<nsfun::NsType::mnt>();  // a copy of the lab, DIR still shared
              }));
    NSFUN_TRYV(
        nsfun::run_in(copy.ns(), [&] { return nsfun::set_propagation(dir.c_str(), p, false); }));
    const std::string from_lab = fmt::format("{}/from-lab-{}", dir, kind);
    const std::string from_copy = fmt::format("{}/from-{}", dir, kind);
    NSFUN_TRYV(nsfun::run_in(lab.ns(), [&] { return tmpfs_on(from_lab); }));
    NSFUN_TRYV(nsfun::run_in(copy.ns(), [&] { return tmpfs_on(from_copy); }));
    std::printf("%-8s %-22s %s\n", kind.c_str(), sees(copy.ns(), from_lab) ? "yes" : "no",
                sees(lab.ns(), from_copy) ? "yes" : "no");
  }
  return here ? 1 : 0;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  char dir[] = "/tmp/nsfun-example-mnt-XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    std::perror("mount_propagation: mkdtemp");
    return 1;
  }
  auto r = demo(dir);
  ::rmdir(dir);  // the mounts went with the namespaces; only the empty directory was ours
  return r ? r.value() : example::fail("mount_propagation", r.error());
}

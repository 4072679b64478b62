// SPDX-License-Identifier: MIT
// Recipe 15: a container from scratch —
//
//   mkdir -p root/bin && cp /bin/busybox root/bin/ && ln -s busybox root/bin/sh …
//   mkdir /sys/fs/cgroup/box && echo $$ > /sys/fs/cgroup/box/cgroup.procs
//   unshare --user --map-root-user --mount --uts --ipc --net --pid --cgroup --time --fork
//     --mount-proc --root=root …   (and pivot_root, hostname, tini as PID 1, capsh, seccomp)
//
// A busybox root in a temporary directory, every namespace type, pivot_root into it with a
// fresh /proc, a minimal /dev and a read-only root, the hostname nsfun-box, a cgroup of its own,
// nsfun's minimal init as PID 1 (it reaps the orphan the script leaves), Docker's 14
// capabilities and its seccomp profile. The script shows it from inside; the example prints
// the same facts about itself, outside. Everything is removed at the end.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <stdlib.h>
#include <unistd.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/spawn.hpp>

#include "example_util.hpp"

namespace fs = std::filesystem;

namespace {

constexpr const char* script =
    "echo \"hostname: $(hostname)\"\n"
    "echo \"pid 1: $(cat /proc/1/comm); this shell: pid $$; uid $(id -u)\"\n"
    "sh -c 'sleep 0.1 &'; sleep 0.3  # the sleep is orphaned: PID 1 must reap it\n"
    "echo processes:; ps -o pid,stat,comm\n"
    "echo \"capabilities: $(grep CapEff /proc/self/status)\"\n"
    "echo \"cgroup: $(grep 0:: /proc/self/cgroup)\"\n"
    "echo \"unshare -U: $(unshare -U true 2>&1 && echo allowed)\"\n"
    "echo \"write /: $(touch /nsfun-file 2>&1 && echo allowed)\"\n";

std::string cap_eff_here() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("CapEff:")) {
      return line;
    }
  }
  return "?";
}

nsfun::result<int> run(const std::string& rootfs) {
  NSFUN_TRY(auto cgroot, nsfun::CgroupDir::root());
  NSFUN_TRY(auto cg,
            nsfun::CgroupDir::create(cgroot, "nsfun-example-" + std::to_string(::getpid())));
  NSFUN_TRY(auto map, nsfun::UserMap::root_is(::getuid(), ::getgid()));
  NSFUN_TRY(auto child,
            nsfun::spawn(nsfun::Command("/bin/sh")
                             .args({"-c", script})
                             .namespaces(nsfun::NsTypeSet::all())
                             .user_map(map)
                             .rootfs(rootfs)
                             .mount_proc()
                             .filesystem(nsfun::ContainerFs().minimal_dev().read_only_root())
                             .hostname("nsfun-box")
                             .cgroup(cg.fd())
                             .init()
                             .clear_env()
                             .env("PATH", "/bin")
                             .capabilities(nsfun::Capabilities::container_default())
                             .no_new_privs()
                             .seccomp(nsfun::SeccompFilter::container_default())
                             .capture_stdout()));
  NSFUN_TRY(auto out, child.wait_with_output());
  NSFUN_TRY(std::string where, cg.path());
  std::printf("inside (rootfs %s, cgroup %s):\n%s", rootfs.c_str(), where.c_str(), out.out.c_str());
  std::printf("outside: pid %d; capabilities: %s\n", ::getpid(), cap_eff_here().c_str());
  return out.status.success() ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  char dir[] = "/tmp/nsfun-example-rootfs-XXXXXX";
  if (::access("/bin/busybox", X_OK) != 0 || ::mkdtemp(dir) == nullptr) {
    std::fprintf(stderr, "container: needs a static /bin/busybox (Debian: busybox-static)\n");
    return 1;
  }
  std::error_code ec;
  bool made = fs::create_directories(fs::path(dir) / "bin", ec) &&
              fs::create_directories(fs::path(dir) / "proc", ec) &&
              fs::copy_file("/bin/busybox", fs::path(dir) / "bin/busybox", ec);
  for (const char* applet :
       {"sh", "cat", "echo", "grep", "hostname", "id", "ps", "sleep", "touch", "true", "unshare"}) {
    fs::create_symlink("busybox", fs::path(dir) / "bin" / applet, ec);
    made = made && !ec;
  }
  auto r = made ? run(dir) : nsfun::result<int>(nsfun::errno_error(ec.value(), "make the rootfs"));
  fs::remove_all(dir, ec);  // the container's mounts went with its mount namespace
  return r ? r.value() : example::fail("container", r.error());
}

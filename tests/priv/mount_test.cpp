// SPDX-License-Identifier: MIT
// nsfun tests – mount.hpp against the real kernel: bind, propagation, read-only remount, proc,
// pivot_root into a busybox root.
//
// Every case works in a forked child that first made a private mount namespace with its own
// tmpfs on /run (nsfun::test::private_run()): nothing it mounts can reach the host.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/mount.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using nsfun::Propagation;

constexpr const char* no_private_run = "needs CAP_SYS_ADMIN for a private mount namespace";

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

bool make_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0;
}

bool mount_tmpfs(const std::string& path) {
  return ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
}

// 0 when a new file could be written at `path`, else the errno of the failure.
int try_write(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno;
  }
  int err = ::write(fd, "x", 1) == 1 ? 0 : errno;
  ::close(fd);
  return err;
}

// Copies a file, keeping it executable; false on any error.
bool copy_file(const char* from, const std::string& to) {
  int in = ::open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return false;
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (out < 0) {
    ::close(in);
    return false;
  }
  bool ok = true;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof(buf));
    if (n == 0) {
      break;
    }
    if (n < 0 || ::write(out, buf, static_cast<std::size_t>(n)) != n) {
      ok = false;
      break;
    }
  }
  ::close(in);
  ok = ::close(out) == 0 && ok;
  return ok;
}

// A fresh directory under the private /run.
std::string scratch() {
  std::string dir = "/run/" + t::unique_name();
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

}  // namespace

TEST_SUITE("mount") {
  TEST_CASE("bind makes a mount point that shows the source") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      const std::string a = dir + "/a";
      const std::string b = dir + "/b";
      NSFUN_EXPECT(make_dir(a) && make_dir(b));
      NSFUN_EXPECT(try_write(a + "/file") == 0);

      auto before = nsfun::is_mount_point(b.c_str());
      NSFUN_EXPECT_OK(before);
      NSFUN_EXPECT(!before.value());
      NSFUN_EXPECT_OK(nsfun::bind(a.c_str(), b.c_str(), /*recursive=*/false));
      auto after = nsfun::is_mount_point(b.c_str());
      NSFUN_EXPECT_OK(after);
      NSFUN_EXPECT(after.value());
      NSFUN_EXPECT(exists(b + "/file"));
      auto m = nsfun::mount_of(b.c_str());
      NSFUN_EXPECT_OK(m);
      NSFUN_EXPECT(m.value().mount_point == b);
      NSFUN_EXPECT(m.value().fs_type == "tmpfs");

      // A directory bound onto itself becomes a mount point (what pivot_root_into needs).
      const std::string self = dir + "/self";
      NSFUN_EXPECT(make_dir(self));
      NSFUN_EXPECT_OK(nsfun::bind(self.c_str(), self.c_str(), /*recursive=*/true));
      NSFUN_EXPECT(nsfun::is_mount_point(self.c_str()).value());

      NSFUN_EXPECT_OK(nsfun::unmount(b.c_str(), /*detach=*/false));
      NSFUN_EXPECT(!nsfun::is_mount_point(b.c_str()).value());
      auto again = nsfun::unmount(b.c_str(), /*detach=*/true);
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(again.error() == std::errc::invalid_argument);

      auto missing = nsfun::bind((dir + "/missing").c_str(), b.c_str(), false);
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(missing.error() == std::errc::no_such_file_or_directory);
      return 0;
    });
  }

  TEST_CASE("recursive bind carries the mounts below the source") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      const std::string src = dir + "/src";
      const std::string sub = src + "/sub";
      NSFUN_EXPECT(make_dir(src) && make_dir(sub));
      NSFUN_EXPECT(mount_tmpfs(sub));
      NSFUN_EXPECT(try_write(sub + "/inner") == 0);
      const std::string flat = dir + "/flat";
      const std::string deep = dir + "/deep";
      NSFUN_EXPECT(make_dir(flat) && make_dir(deep));
      NSFUN_EXPECT_OK(nsfun::bind(src.c_str(), flat.c_str(), /*recursive=*/false));
      NSFUN_EXPECT_OK(nsfun::bind(src.c_str(), deep.c_str(), /*recursive=*/true));
      NSFUN_EXPECT(!exists(flat + "/sub/inner"));
      NSFUN_EXPECT(exists(deep + "/sub/inner"));
      return 0;
    });
  }

  TEST_CASE("propagation round trip: private, shared, slave, unbindable") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      const std::string a = dir + "/a";
      NSFUN_EXPECT(make_dir(a));
      NSFUN_EXPECT(mount_tmpfs(a));

      // private_run() made everything rprivate, so a new mount starts private.
      auto p = nsfun::propagation_of(a.c_str());
      NSFUN_EXPECT_OK(p);
      NSFUN_EXPECT(p.value() == Propagation::private_);

      NSFUN_EXPECT_OK(nsfun::set_propagation(a.c_str(), Propagation::shared, false));
      NSFUN_EXPECT(nsfun::propagation_of(a.c_str()).value() == Propagation::shared);
      auto shared = nsfun::mount_of(a.c_str());
      NSFUN_EXPECT_OK(shared);
      NSFUN_EXPECT(shared.value().shared != 0);

      // A bind of a shared mount joins its peer group; made a slave, it has a as its master.
      const std::string b = dir + "/b";
      NSFUN_EXPECT(make_dir(b));
      NSFUN_EXPECT_OK(nsfun::bind(a.c_str(), b.c_str(), false));
      auto peer = nsfun::mount_of(b.c_str());
      NSFUN_EXPECT_OK(peer);
      NSFUN_EXPECT(peer.value().shared == shared.value().shared);
      NSFUN_EXPECT_OK(nsfun::set_propagation(b.c_str(), Propagation::slave, false));
      auto slave = nsfun::mount_of(b.c_str());
      NSFUN_EXPECT_OK(slave);
      NSFUN_EXPECT(slave.value().propagation() == Propagation::slave);
      NSFUN_EXPECT(slave.value().master == shared.value().shared);
      NSFUN_EXPECT(nsfun::propagation_of(b.c_str()).value() == Propagation::slave);

      // And it behaves as one: mounts flow from a to b, not back.
      NSFUN_EXPECT(make_dir(a + "/in") && make_dir(a + "/out"));
      NSFUN_EXPECT(mount_tmpfs(a + "/in"));
      NSFUN_EXPECT(nsfun::is_mount_point((b + "/in").c_str()).value());
      NSFUN_EXPECT(mount_tmpfs(b + "/out"));
      NSFUN_EXPECT(!nsfun::is_mount_point((a + "/out").c_str()).value());

      // Unbindable: reported as such, and refused as a bind source.
      const std::string u = dir + "/u";
      const std::string target = dir + "/target";
      NSFUN_EXPECT(make_dir(u) && make_dir(target));
      NSFUN_EXPECT(mount_tmpfs(u));
      NSFUN_EXPECT_OK(nsfun::set_propagation(u.c_str(), Propagation::unbindable, false));
      NSFUN_EXPECT(nsfun::propagation_of(u.c_str()).value() == Propagation::unbindable);
      auto refused = nsfun::bind(u.c_str(), target.c_str(), false);
      NSFUN_EXPECT(!refused);
      NSFUN_EXPECT(refused.error() == std::errc::invalid_argument);

      // Back to private, recursively: a and the mounts below it.
      NSFUN_EXPECT_OK(nsfun::set_propagation(a.c_str(), Propagation::private_, true));
      NSFUN_EXPECT(nsfun::propagation_of(a.c_str()).value() == Propagation::private_);
      NSFUN_EXPECT(nsfun::propagation_of((a + "/in").c_str()).value() == Propagation::private_);

      // Not a mount point: the kernel says EINVAL.
      NSFUN_EXPECT(make_dir(dir + "/plain"));
      auto plain = nsfun::set_propagation((dir + "/plain").c_str(), Propagation::shared, false);
      NSFUN_EXPECT(!plain);
      NSFUN_EXPECT(plain.error() == std::errc::invalid_argument);
      return 0;
    });
  }

  TEST_CASE("remount_readonly makes writes fail with EROFS and keeps the other flags") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      const std::string a = dir + "/a";
      const std::string b = dir + "/b";
      NSFUN_EXPECT(make_dir(a) && make_dir(b));
      NSFUN_EXPECT(
          ::mount("tmpfs", a.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") == 0);
      NSFUN_EXPECT_OK(nsfun::bind(a.c_str(), b.c_str(), false));
      NSFUN_EXPECT(try_write(b + "/before") == 0);

      NSFUN_EXPECT_OK(nsfun::remount_readonly(b.c_str()));
      NSFUN_EXPECT(try_write(b + "/after") == EROFS);
      NSFUN_EXPECT(exists(b + "/before"));
      struct statvfs st {};

      NSFUN_EXPECT(::statvfs(b.c_str(), &st) == 0);
      NSFUN_EXPECT((st.f_flag & ST_RDONLY) != 0);
      NSFUN_EXPECT((st.f_flag & ST_NOSUID) != 0);
      NSFUN_EXPECT((st.f_flag & ST_NODEV) != 0);
      NSFUN_EXPECT((st.f_flag & ST_NOEXEC) != 0);
      // Only that mount: the filesystem stays writable through the other one.
      NSFUN_EXPECT(try_write(a + "/other") == 0);
      NSFUN_EXPECT(exists(b + "/other"));

      // Not a mount point: EINVAL, and nothing changes.
      NSFUN_EXPECT(make_dir(a + "/sub"));
      auto sub = nsfun::remount_readonly((a + "/sub").c_str());
      NSFUN_EXPECT(!sub);
      NSFUN_EXPECT(sub.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(try_write(a + "/sub/file") == 0);
      return 0;
    });
  }

  TEST_CASE("mount_proc mounts a fresh proc with nosuid, nodev and noexec") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch() + "/proc";
      NSFUN_EXPECT(make_dir(dir));
      NSFUN_EXPECT_OK(nsfun::mount_proc(dir.c_str()));
      auto m = nsfun::mount_of(dir.c_str());
      NSFUN_EXPECT_OK(m);
      NSFUN_EXPECT(m.value().fs_type == "proc");
      NSFUN_EXPECT(m.value().mount_point == dir);
      const std::string& opts = m.value().mount_options;
      NSFUN_EXPECT(opts.find("nosuid") != std::string::npos);
      NSFUN_EXPECT(opts.find("nodev") != std::string::npos);
      NSFUN_EXPECT(opts.find("noexec") != std::string::npos);
      NSFUN_EXPECT(exists(dir + "/self/ns/mnt"));
      NSFUN_EXPECT(exists(dir + "/" + std::to_string(::getpid())));

      auto missing = nsfun::mount_proc((dir + "-missing").c_str());
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(missing.error() == std::errc::no_such_file_or_directory);
      return 0;
    });
  }

  TEST_CASE("pivot_root_into a busybox root: only the new root is visible") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_REQUIRE(exists("/bin/busybox"), "needs /bin/busybox (Debian package busybox-static)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string root = scratch();
      NSFUN_EXPECT(mount_tmpfs(root));
      NSFUN_EXPECT(make_dir(root + "/bin") && make_dir(root + "/proc"));
      NSFUN_EXPECT(copy_file("/bin/busybox", root + "/bin/busybox"));
      NSFUN_EXPECT(exists("/etc/os-release"));

      // The grandchild pivots in a mount namespace of its own, so this child can still look.
      int status = t::in_child([&root] {
        NSFUN_EXPECT(::unshare(CLONE_NEWNS) == 0);
        NSFUN_EXPECT_OK(nsfun::set_propagation("/", Propagation::private_, true));
        NSFUN_EXPECT_OK(nsfun::pivot_root_into(root.c_str()));
        char cwd[64] = {};
        NSFUN_EXPECT(::getcwd(cwd, sizeof(cwd)) != nullptr);
        NSFUN_EXPECT(std::strcmp(cwd, "/") == 0);
        NSFUN_EXPECT(exists("/bin/busybox"));
        NSFUN_EXPECT(!exists("/etc/os-release"));
        NSFUN_EXPECT(!exists("/etc"));
        NSFUN_EXPECT(!exists(root));
        // The old root is detached, not hidden somewhere: a fresh proc shows two mounts only.
        NSFUN_EXPECT_OK(nsfun::mount_proc("/proc"));
        auto all = nsfun::mounts();
        NSFUN_EXPECT_OK(all);
        NSFUN_EXPECT(all.value().size() == 2);
        NSFUN_EXPECT(all.value()[0].mount_point == "/");
        NSFUN_EXPECT(all.value()[0].fs_type == "tmpfs");
        NSFUN_EXPECT(all.value()[1].mount_point == "/proc");
        // And the program in it runs there.
        ::execl("/bin/busybox", "busybox", "sh", "-c",
                "test -x /bin/busybox && test ! -e /etc/os-release && test \"$(pwd)\" = /",
                static_cast<char*>(nullptr));
        return 99;
      });
      NSFUN_EXPECT(status == 0);
      // This child's own view is unchanged.
      NSFUN_EXPECT(exists("/etc/os-release"));
      NSFUN_EXPECT(exists(root + "/bin/busybox"));
      return 0;
    });
  }

  TEST_CASE("pivot_root_into refuses a directory that is not a mount point") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      NSFUN_EXPECT(make_dir(dir + "/plain"));
      NSFUN_EXPECT(::chdir("/run") == 0);
      const std::size_t fds = t::open_fd_count();

      auto plain = nsfun::pivot_root_into((dir + "/plain").c_str());
      NSFUN_EXPECT(!plain);
      NSFUN_EXPECT(plain.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(plain.error().what == "pivot_root");
      NSFUN_EXPECT(plain.error().message() ==
                   "pivot_root " + dir + "/plain: new root is not a mount point");

      auto missing = nsfun::pivot_root_into((dir + "/missing").c_str());
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(missing.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(missing.error().message() ==
                   "open new root " + dir + "/missing: No such file or directory");

      NSFUN_EXPECT(try_write(dir + "/file") == 0);
      auto file = nsfun::pivot_root_into((dir + "/file").c_str());
      NSFUN_EXPECT(!file);
      NSFUN_EXPECT(file.error() == std::errc::not_a_directory);

      char cwd[64] = {};
      NSFUN_EXPECT(::getcwd(cwd, sizeof(cwd)) != nullptr);
      NSFUN_EXPECT(std::strcmp(cwd, "/run") == 0);
      NSFUN_EXPECT(exists("/etc/os-release"));
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("pivot_root_into under a shared mount fails and leaves the working directory") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string root = scratch();
      NSFUN_EXPECT(mount_tmpfs(root));
      // The kernel refuses while the new root's parent mount is shared.
      NSFUN_EXPECT_OK(nsfun::set_propagation("/run", Propagation::shared, false));
      NSFUN_EXPECT(::chdir("/run") == 0);
      auto r = nsfun::pivot_root_into(root.c_str());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(r.error().what == "pivot_root");
      // The kernel's EINVAL has many causes: the error names the new root and the shared mount.
      NSFUN_EXPECT(r.error().message() == "pivot_root " + root + ": parent mount /run is shared");
      char cwd[64] = {};
      NSFUN_EXPECT(::getcwd(cwd, sizeof(cwd)) != nullptr);
      NSFUN_EXPECT(std::strcmp(cwd, "/run") == 0);
      NSFUN_EXPECT(exists("/etc/os-release"));
      return 0;
    });
  }

  TEST_CASE("issue #12: mount and umount errors name the filesystem, source and target") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string dir = scratch();
      const std::string missing = dir + "/missing";
      const std::string plain = dir + "/plain";
      NSFUN_EXPECT(make_dir(plain));

      auto proc = nsfun::mount_proc(missing.c_str());
      NSFUN_EXPECT(!proc);
      NSFUN_EXPECT(proc.error().what == "mount");
      NSFUN_EXPECT(proc.error().message() ==
                   "mount proc on " + missing + ": No such file or directory");

      auto bind = nsfun::bind(missing.c_str(), plain.c_str(), /*recursive=*/true);
      NSFUN_EXPECT(!bind);
      NSFUN_EXPECT(bind.error().message() ==
                   "mount --rbind " + missing + " on " + plain + ": No such file or directory");

      auto ro = nsfun::remount_readonly(plain.c_str());
      NSFUN_EXPECT(!ro);
      NSFUN_EXPECT(ro.error().message() ==
                   "mount -o remount,bind,ro " + plain + ": Invalid argument");

      auto shared = nsfun::set_propagation(plain.c_str(), Propagation::shared, /*recursive=*/true);
      NSFUN_EXPECT(!shared);
      NSFUN_EXPECT(shared.error().message() ==
                   "mount --make-rshared " + plain + ": Invalid argument");

      auto umount = nsfun::unmount(plain.c_str(), /*detach=*/false);
      NSFUN_EXPECT(!umount);
      NSFUN_EXPECT(umount.error().what == "umount");
      NSFUN_EXPECT(umount.error().message() == "umount " + plain + ": Invalid argument");
      auto lazy = nsfun::unmount(missing.c_str(), /*detach=*/true);
      NSFUN_EXPECT(!lazy);
      NSFUN_EXPECT(lazy.error().message() ==
                   "umount --lazy " + missing + ": No such file or directory");

      auto of = nsfun::mount_of(missing.c_str());
      NSFUN_EXPECT(!of);
      NSFUN_EXPECT(of.error().message() == "statx " + missing + ": No such file or directory");
      return 0;
    });
  }
}

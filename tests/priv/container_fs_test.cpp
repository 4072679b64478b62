// SPDX-License-Identifier: MIT
// nsfun tests – ContainerFs applied for real: the steps spawn's child takes (a private mount
// namespace, the busybox rootfs bound on itself, proc in it, before_pivot, pivot_root,
// after_pivot), then everything read back from the kernel inside: mountinfo, the /dev nodes,
// EROFS, the masks; as root and rootless (a user namespace the child maps itself).
//
// Every case works in a forked child with its own mount namespace; each checks that nothing it
// mounted shows in the test process's mount namespace afterwards.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/container_fs.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/ns_type.hpp>

#include "busybox_rootfs.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace cfs = nsfun::detail::container_fs;
using nsfun::BindOptions;
using nsfun::ContainerFs;

constexpr long tmpfs_magic = 0x01021994;
constexpr long devpts_magic = 0x1cd1;

// A host directory for a test (readable by everyone), removed at the end unless something is
// mounted on it.
struct HostDir {
  std::string path;

  HostDir() {
    char tmpl[] = "/tmp/nsfun-test-host-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      path = tmpl;
      ::chmod(tmpl, 0777);
    }
  }

  HostDir(const HostDir&) = delete;
  HostDir& operator=(const HostDir&) = delete;

  ~HostDir() {
    if (!path.empty() && !mounted_here()) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }

  // True when the caller's mount namespace has a mount on this directory or below it.
  [[nodiscard]] bool mounted_here() const {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(" " + path + " ") != std::string::npos ||
          line.find(" " + path + "/") != std::string::npos) {
        return true;
      }
    }
    return false;
  }
};

// The mountinfo lines of the caller's namespace that mention `needle`.
std::size_t mount_lines_with(const std::string& needle) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

bool write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// 0 when a new file could be created and written at `path`, else the errno.
int try_create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno;
  }
  int err = ::write(fd, "x", 1) == 1 ? 0 : errno;
  ::close(fd);
  return err;
}

long fs_type(const char* path) {
  struct statfs sf {};

  return ::statfs(path, &sf) == 0 ? sf.f_type : -1;
}

// The mount (from nsfun::mounts(), the child's view) on `point`, or nullptr.
const nsfun::MountInfo* find_mount(const std::vector<nsfun::MountInfo>& all,
                                   const std::string& point) {
  const nsfun::MountInfo* found = nullptr;
  for (const auto& m : all) {
    if (m.mount_point == point) {
      found = &m;  // the last one is the topmost
    }
  }
  return found;
}

bool has_option(const std::string& options, const std::string& opt) {
  std::size_t pos = 0;
  while (pos <= options.size()) {
    std::size_t end = options.find(',', pos);
    if (end == std::string::npos) {
      end = options.size();
    }
    if (options.compare(pos, end - pos, opt) == 0) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

std::string link_of(const char* path) {
  char buf[256] = {};
  ssize_t n = ::readlink(path, buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// What spawn's child does before before_pivot: every mount private, the rootfs bound on
// itself, a proc in it. 0 or the line that failed.
int enter_rootfs(const std::string& rootfs, bool new_mnt = true) {
  if (new_mnt && ::unshare(CLONE_NEWNS) < 0) {
    return __LINE__;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    return __LINE__;
  }
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return __LINE__;
  }
  const std::string proc = rootfs + "/proc";
  if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    std::fprintf(stderr, "mount proc: %s\n", std::strerror(errno));
    return __LINE__;
  }
  return 0;
}

// The checks of /dev made by minimal_dev(), inside the new root. 0 or a failing line.
int check_minimal_dev(bool bound_nodes) {
  struct Node {
    const char* path;
    unsigned major, minor;
  };

  for (Node n : {Node{"/dev/null", 1, 3}, Node{"/dev/zero", 1, 5}, Node{"/dev/full", 1, 7},
                 Node{"/dev/random", 1, 8}, Node{"/dev/urandom", 1, 9}, Node{"/dev/tty", 5, 0}}) {
    struct stat st {};

    NSFUN_EXPECT(::lstat(n.path, &st) == 0);
    NSFUN_EXPECT(S_ISCHR(st.st_mode));
    NSFUN_EXPECT(major(st.st_rdev) == n.major && minor(st.st_rdev) == n.minor);
    if (!bound_nodes) {
      NSFUN_EXPECT((st.st_mode & 07777) == 0666);
    }
  }
  NSFUN_EXPECT(fs_type("/dev") == tmpfs_magic);
  NSFUN_EXPECT(fs_type("/dev/pts") == devpts_magic);
  NSFUN_EXPECT(fs_type("/dev/shm") == tmpfs_magic);
  NSFUN_EXPECT(link_of("/dev/ptmx") == "pts/ptmx");
  NSFUN_EXPECT(link_of("/dev/fd") == "/proc/self/fd");
  NSFUN_EXPECT(link_of("/dev/stdin") == "/proc/self/fd/0");
  NSFUN_EXPECT(link_of("/dev/stdout") == "/proc/self/fd/1");
  NSFUN_EXPECT(link_of("/dev/stderr") == "/proc/self/fd/2");
  NSFUN_EXPECT(link_of("/dev/core") == "/proc/kcore");
  // The devices work: /dev/null swallows, /dev/zero gives zeros, /dev/full is full.
  int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  NSFUN_EXPECT(fd >= 0 && ::write(fd, "x", 1) == 1);
  ::close(fd);
  fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  char z[4] = {1, 1, 1, 1};
  NSFUN_EXPECT(fd >= 0 && ::read(fd, z, sizeof(z)) == 4 && z[0] == 0 && z[3] == 0);
  ::close(fd);
  fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  NSFUN_EXPECT(fd >= 0 && ::write(fd, "x", 1) < 0 && errno == ENOSPC);
  ::close(fd);
  // A pty from the container's own devpts instance, through /dev/ptmx.
  fd = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  NSFUN_EXPECT(fd >= 0);
  int pty = -1;
  NSFUN_EXPECT(::ioctl(fd, TIOCGPTN, &pty) == 0 && pty == 0);  // a new instance starts at 0
  ::close(fd);
  // /dev and /dev/shm are writable, with the runtimes' modes.
  NSFUN_EXPECT(try_create("/dev/shm/x") == 0);

  struct stat st {};

  NSFUN_EXPECT(::stat("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777);
  NSFUN_EXPECT(::stat("/dev", &st) == 0 && (st.st_mode & 07777) == 0755);
  return 0;
}

// The masks and read-only paths of default_masks(), inside the new root. `rootless`: the files
// of /proc/sys belong to the host's root, unmapped here, so a write is refused (EACCES) before
// the read-only mount is looked at.
int check_default_masks(bool rootless) {
  // The masked files this kernel has (/proc/kcore needs CONFIG_PROC_KCORE): /dev/null bound
  // over each, so it reads empty.
  auto all = nsfun::mounts();
  NSFUN_EXPECT_OK(all);
  int files = 0;

  struct stat st {};

  for (const char* file : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                           "/proc/latency_stats", "/proc/timer_stats"}) {
    const auto* mask = find_mount(all.value(), file);
    if (mask == nullptr) {
      NSFUN_EXPECT(::access(file, F_OK) < 0);  // not masked: then it must not exist
      continue;
    }
    NSFUN_EXPECT(has_option(mask->mount_options, "ro"));
    ++files;
    int fd = ::open(file, O_RDONLY | O_CLOEXEC);
    NSFUN_EXPECT(fd >= 0);
    char c = 0;
    NSFUN_EXPECT(::read(fd, &c, 1) == 0);
    ::close(fd);
    NSFUN_EXPECT(::stat(file, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
  }
  NSFUN_EXPECT(files > 0);
  // /proc/sys: read-only; /proc/sysrq-trigger too.
  int fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
  NSFUN_EXPECT(fd < 0 && (errno == EROFS || (rootless && errno == EACCES)));
  const auto* sys = find_mount(all.value(), "/proc/sys");
  NSFUN_EXPECT(sys != nullptr && has_option(sys->mount_options, "ro"));
  // The masked directories this kernel has: an empty read-only tmpfs over each.
  for (const char* dir : {"/proc/acpi", "/proc/asound", "/proc/scsi"}) {
    if (find_mount(all.value(), dir) == nullptr) {
      NSFUN_EXPECT(::access(dir, F_OK) < 0);
      continue;
    }
    NSFUN_EXPECT(fs_type(dir) == tmpfs_magic);
    NSFUN_EXPECT(try_create(std::string(dir) + "/x") == EROFS);
    NSFUN_EXPECT(::stat((std::string(dir) + "/.").c_str(), &st) == 0 && st.st_nlink == 2);
  }
  // /proc itself stays writable (it is not part of the read-only root).
  NSFUN_EXPECT(write_file("/proc/self/comm", "cfs-test"));
  return 0;
}

// In a child: makes syscall `nr` fail with ENOSYS from now on, as on a kernel without it (a
// seccomp filter; the child has CAP_SYS_ADMIN, so no no_new_privs is needed). True on success.
bool pretend_missing(long nr) {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
}

// A file bound from the host (source must exist as a file).
std::string make_host_file(const HostDir& d, const char* name, const char* text) {
  std::string path = d.path + "/" + name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0644);
  return path;
}

}  // namespace

TEST_SUITE("container_fs") {
  TEST_CASE(
      "default_masks holds every masked and read-only path of `crun spec`, run side by side") {
    NSFUN_REQUIRE(t::have_program("crun"), "needs crun");
    HostDir dir;
    REQUIRE(!dir.path.empty());
    auto r = t::run("crun spec -b " + dir.path + " 2>&1");
    REQUIRE(r.status == 0);
    auto spec = nlohmann::json::parse(t::read_text(dir.path + "/config.json"));
    ContainerFs fs;
    fs.default_masks();
    auto contains = [](const std::vector<std::string>& v, const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    std::size_t n = 0;
    for (const auto& p : spec["linux"]["maskedPaths"]) {
      CHECK_MESSAGE(contains(fs.masked_paths(), p.get<std::string>()), p);
      ++n;
    }
    for (const auto& p : spec["linux"]["readonlyPaths"]) {
      CHECK_MESSAGE(contains(fs.read_only_paths(), p.get<std::string>()), p);
      ++n;
    }
    CHECK(n >= 10);
  }

  TEST_CASE("a busybox root as root: read-only root, binds, tmpfs, minimal /dev, default masks") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    HostDir ro_src, rw_src;
    REQUIRE(!ro_src.path.empty());
    REQUIRE(!rw_src.path.empty());
    make_host_file(ro_src, "hello", "from the host\n");
    const std::string file_src = make_host_file(rw_src, "single", "one file\n");

    ContainerFs fs;
    fs.read_only_root()
        .minimal_dev()
        .default_masks()
        .bind(ro_src.path, "/data/ro", BindOptions{.read_only = true})
        .bind(rw_src.path, "/data/rw", BindOptions{.read_only = false, .recursive = false})
        .bind(file_src, "/etc/single")
        .tmpfs("/tmp", "mode=1777,size=1m,nosuid,nodev")
        .tmpfs("/run/deep/in", "mode=700")
        .bind(file_src, "/dev/extra")          // inside minimal_dev's /dev
        .bind(file_src, "/run/deep/in/file");  // inside an earlier tmpfs
    auto prepared = cfs::prepare(fs, root.path(), /*new_user_ns=*/false);
    REQUIRE_MESSAGE(prepared, prepared.error().message());
    const std::size_t before = mount_lines_with(root.path()) + mount_lines_with(ro_src.path) +
                               mount_lines_with(rw_src.path);

    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      const std::size_t fds = t::open_fd_count();
      NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
      NSFUN_EXPECT_OK(nsfun::detail::pivot_root_here(root.path().c_str()));
      NSFUN_EXPECT_OK(cfs::after_pivot(prepared.value()));
      NSFUN_EXPECT(t::open_fd_count() == fds);  // every fd the steps opened is closed

      // The root is read-only; so is the mount that came with it, not the ones added.
      NSFUN_EXPECT(try_create("/newfile") == EROFS);
      NSFUN_EXPECT(::mkdir("/newdir", 0755) < 0 && errno == EROFS);
      auto all = nsfun::mounts();
      NSFUN_EXPECT_OK(all);
      const auto* slash = find_mount(all.value(), "/");
      NSFUN_EXPECT(slash != nullptr && has_option(slash->mount_options, "ro"));
      // tmpfs mounts with their options.
      const auto* tmp = find_mount(all.value(), "/tmp");
      NSFUN_EXPECT(tmp != nullptr && tmp->fs_type == "tmpfs");
      NSFUN_EXPECT(has_option(tmp->mount_options, "rw") &&
                   has_option(tmp->mount_options, "nosuid") &&
                   has_option(tmp->mount_options, "nodev"));
      NSFUN_EXPECT(has_option(tmp->super_options, "size=1024k"));
      NSFUN_EXPECT(try_create("/tmp/x") == 0);
      struct stat st {};
      NSFUN_EXPECT(::stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
      NSFUN_EXPECT(::stat("/run/deep/in", &st) == 0 && (st.st_mode & 07777) == 0700);
      NSFUN_EXPECT(fs_type("/run/deep/in") == tmpfs_magic);
      NSFUN_EXPECT(find_mount(all.value(), "/dev/extra") != nullptr);
      NSFUN_EXPECT(find_mount(all.value(), "/run/deep/in/file") != nullptr);
      // The binds: ro refuses writes, rw writes through to the host.
      std::ifstream hello("/data/ro/hello");
      std::string text;
      std::getline(hello, text);
      NSFUN_EXPECT(text == "from the host");
      NSFUN_EXPECT(try_create("/data/ro/new") == EROFS);
      const auto* ro = find_mount(all.value(), "/data/ro");
      NSFUN_EXPECT(ro != nullptr && has_option(ro->mount_options, "ro"));
      NSFUN_EXPECT(try_create("/data/rw/written-inside") == 0);
      const auto* rw = find_mount(all.value(), "/data/rw");
      NSFUN_EXPECT(rw != nullptr && has_option(rw->mount_options, "rw"));
      // A file bound on a file the setting created (etc/single did not exist).
      std::ifstream single("/etc/single");
      std::getline(single, text);
      NSFUN_EXPECT(text == "one file");
      NSFUN_EXPECT(find_mount(all.value(), "/etc/single") != nullptr);
      if (int line = check_minimal_dev(/*bound_nodes=*/false)) {
        return line;
      }
      return check_default_masks(/*rootless=*/false);
    });
    // The rw bind wrote through to the host; nothing stays mounted here.
    CHECK(std::filesystem::exists(rw_src.path + "/written-inside"));
    CHECK_FALSE(std::filesystem::exists(ro_src.path + "/new"));
    CHECK(mount_lines_with(root.path()) + mount_lines_with(ro_src.path) +
              mount_lines_with(rw_src.path) ==
          before);
    CHECK_FALSE(root.has_mounts_inside());
    // The mount points the settings made are left in the rootfs, as runtimes leave them.
    CHECK(std::filesystem::is_directory(root.path_of("data/ro")));
    CHECK(std::filesystem::is_regular_file(root.path_of("etc/single")));
    // Those inside /dev or an earlier mount were made there, not in the rootfs underneath.
    CHECK_FALSE(std::filesystem::exists(root.path_of("dev/extra")));
    CHECK_FALSE(std::filesystem::exists(root.path_of("run/deep/in/file")));
  }

  TEST_CASE(
      "rootless: a user namespace the child maps itself, the /dev nodes bound from the host") {
    // Run by root, the child drops to nobody first; run by an unprivileged user, it is one.
    const bool as_root = ::geteuid() == 0;
    const nsfun::NsTypeSet types{nsfun::NsType::user, nsfun::NsType::mnt, nsfun::NsType::pid};
    NSFUN_REQUIRE(as_root ? t::can_drop_privileges() && t::can_unshare_unprivileged(types)
                          : t::can_unshare(types),
                  "needs unprivileged user namespaces");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    const unsigned uid = as_root ? 65534 : ::geteuid();
    const unsigned gid = as_root ? 65534 : ::getegid();
    t::BusyboxRootfs root;
    REQUIRE(root);
    // A rootless runtime's rootfs belongs to its user (root in the user namespace made here).
    if (as_root) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(root.dir())) {
        REQUIRE(::lchown(e.path().c_str(), uid, gid) == 0);
      }
      REQUIRE(::lchown(root.path().c_str(), uid, gid) == 0);
    }
    HostDir src;
    make_host_file(src, "hello", "rootless\n");
    ContainerFs fs;
    fs.read_only_root()
        .minimal_dev()
        .default_masks()
        .bind(src.path, "/data", BindOptions{.read_only = true})
        .tmpfs("/tmp");
    const std::size_t before = mount_lines_with(root.path()) + mount_lines_with(src.path);

    NSFUN_CHECK_CHILD([&] {
      NSFUN_EXPECT(!as_root || t::drop_privileges() == 0);
      NSFUN_EXPECT(::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0);
      NSFUN_EXPECT(write_file("/proc/self/setgroups", "deny"));
      NSFUN_EXPECT(write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1"));
      NSFUN_EXPECT(write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"));
      // PID 1 of the new pid namespace, so that it may mount a proc.
      return t::in_child([&] {
        if (int line = enter_rootfs(root.path(), /*new_mnt=*/false)) {
          return line;
        }
        auto prepared = cfs::prepare(fs, root.path(), /*new_user_ns=*/true);
        NSFUN_EXPECT_OK(prepared);
        NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
        NSFUN_EXPECT_OK(nsfun::detail::pivot_root_here(root.path().c_str()));
        NSFUN_EXPECT_OK(cfs::after_pivot(prepared.value()));
        NSFUN_EXPECT(::getuid() == 0);
        NSFUN_EXPECT(try_create("/newfile") == EROFS);
        NSFUN_EXPECT(try_create("/data/new") == EROFS);
        NSFUN_EXPECT(try_create("/tmp/x") == 0);
        // mknod is refused here: the nodes are the host's, bound.
        auto all = nsfun::mounts();
        NSFUN_EXPECT_OK(all);
        NSFUN_EXPECT(find_mount(all.value(), "/dev/null") != nullptr);
        if (int line = check_minimal_dev(/*bound_nodes=*/true)) {
          return line;
        }
        return check_default_masks(/*rootless=*/true);
      });
    });
    CHECK(mount_lines_with(root.path()) + mount_lines_with(src.path) == before);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("a symbolic link in the rootfs never sends a mount out of it") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    HostDir host;  // what a hostile rootfs points at
    REQUIRE(!host.path.empty());
    std::filesystem::path rel = std::filesystem::path(host.path).relative_path();
    // Absolute, relative with "..", and through /proc's magic links.
    std::filesystem::create_symlink(host.path, root.dir() / "abs");
    std::filesystem::create_symlink("../../../../../../../../" + rel.string(), root.dir() / "up");
    std::filesystem::create_symlink(host.path + "/sub", root.dir() / "abs-sub");

    struct Case {
      const char* what;
      ContainerFs fs;
      int err;  // the errno of the refusal
    };

    // A link to a path missing inside the rootfs is not created through (ENOENT); the magic
    // links of /proc (here the new proc in the rootfs, showing the host's root) are refused.
    std::vector<Case> cases;
    cases.push_back({"tmpfs on abs (missing inside)", ContainerFs().tmpfs("/abs"), ENOENT});
    cases.push_back({"tmpfs on up/x (missing inside)", ContainerFs().tmpfs("/up/x"), ENOENT});
    cases.push_back({"bind on abs-sub/y", ContainerFs().bind(host.path, "/abs-sub/y"), ENOENT});
    cases.push_back({"tmpfs through /proc/self/root",
                     ContainerFs().tmpfs("/proc/self/root" + host.path), ELOOP});
    cases.push_back(
        {"tmpfs through /proc/self/cwd", ContainerFs().tmpfs("/proc/self/cwd/x"), ELOOP});

    for (auto& c : cases) {
      CAPTURE(c.what);
      auto prepared = cfs::prepare(c.fs, root.path(), false);
      REQUIRE_MESSAGE(prepared, prepared.error().message());
      NSFUN_CHECK_CHILD([&] {
        if (int line = enter_rootfs(root.path())) {
          return line;
        }
        auto r = cfs::before_pivot(prepared.value());
        NSFUN_EXPECT(!r);
        NSFUN_EXPECT(r.error().code == std::error_code(c.err, std::generic_category()));
        NSFUN_EXPECT(r.error().message().rfind("ContainerFs::", 0) == 0);
        // Nothing on the host directory, nothing created in it.
        NSFUN_EXPECT(mount_lines_with(host.path) == 0);
        NSFUN_EXPECT(std::filesystem::is_empty(host.path));
        return 0;
      });
    }
    // With the target present inside the rootfs, the link is followed inside it.
    std::filesystem::create_directories(root.dir() / rel);
    auto prepared =
        cfs::prepare(ContainerFs().tmpfs("/abs").tmpfs("/up/inner"), root.path(), false);
    REQUIRE(prepared);
    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
      NSFUN_EXPECT(fs_type((root.dir() / rel).c_str()) == tmpfs_magic);
      NSFUN_EXPECT(fs_type((root.dir() / rel / "inner").c_str()) == tmpfs_magic);
      NSFUN_EXPECT(fs_type(host.path.c_str()) != tmpfs_magic);
      NSFUN_EXPECT(mount_lines_with(" " + host.path) == 0);
      NSFUN_EXPECT(std::filesystem::is_empty(host.path));
      return 0;
    });
    CHECK(mount_lines_with(host.path) == 0);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("a hostile /dev/null in the root is refused as a mask source") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    std::ofstream(root.path_of("dev/null")) << "not a device\n";
    std::ofstream(root.path_of("secret")) << "secret\n";
    auto prepared = cfs::prepare(ContainerFs().mask("/secret"), root.path(), false);
    REQUIRE(prepared);
    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
      NSFUN_EXPECT_OK(nsfun::detail::pivot_root_here(root.path().c_str()));
      auto r = cfs::after_pivot(prepared.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error().message().find("not the null device") != std::string::npos);
      return 0;
    });
  }

  TEST_CASE("a missing masked or read-only path is skipped") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    ::mkdir(root.path_of("masked-dir").c_str(), 0755);
    std::ofstream(root.path_of("masked-dir/inside")) << "x\n";
    auto prepared = cfs::prepare(ContainerFs()
                                     .minimal_dev()
                                     .mask("/no/such/file")
                                     .mask("/masked-dir")
                                     .read_only_path("/not/there")
                                     .read_only_path("/etc"),
                                 root.path(), false);
    REQUIRE(prepared);
    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
      NSFUN_EXPECT_OK(nsfun::detail::pivot_root_here(root.path().c_str()));
      NSFUN_EXPECT_OK(cfs::after_pivot(prepared.value()));
      struct stat st {};
      NSFUN_EXPECT(::stat("/no/such/file", &st) < 0 && errno == ENOENT);
      NSFUN_EXPECT(::stat("/masked-dir/inside", &st) < 0 && errno == ENOENT);
      NSFUN_EXPECT(try_create("/masked-dir/x") == EROFS);
      NSFUN_EXPECT(try_create("/etc/x") == EROFS);
      NSFUN_EXPECT(try_create("/x") == 0);  // the root itself stays writable
      return 0;
    });
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE(
      "a bind source that vanished after prepare: the child's error names source and target") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    std::string src;
    {
      HostDir gone;
      src = gone.path;
      auto prepared = cfs::prepare(ContainerFs().bind(src, "/data"), root.path(), false);
      REQUIRE(prepared);
      std::filesystem::remove_all(gone.path);
      NSFUN_CHECK_CHILD([&] {
        if (int line = enter_rootfs(root.path())) {
          return line;
        }
        auto r = cfs::before_pivot(prepared.value());
        NSFUN_EXPECT(!r);
        NSFUN_EXPECT(r.error() == std::errc::no_such_file_or_directory);
        const std::string msg = r.error().message();
        NSFUN_EXPECT(msg.find("ContainerFs::bind") != std::string::npos);
        NSFUN_EXPECT(msg.find(src + " on /data") != std::string::npos);
        return 0;
      });
    }
  }

  TEST_CASE("mount_in_root: proc where the container sees it, never through a link") {
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    HostDir host;
    std::filesystem::remove(root.dir() / "proc");
    NSFUN_CHECK_CHILD([&] {
      NSFUN_EXPECT(::unshare(CLONE_NEWNS) == 0);
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
      const std::string r = root.path();
      NSFUN_EXPECT(::mount(r.c_str(), r.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0);
      // Missing: made, then mounted.
      NSFUN_EXPECT_OK(cfs::mount_in_root(r.c_str(), "proc", "proc", "proc",
                                         MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
      NSFUN_EXPECT(fs_type((r + "/proc").c_str()) == 0x9fa0);
      return 0;
    });
    CHECK(std::filesystem::is_directory(root.dir() / "proc"));
    std::filesystem::remove(root.dir() / "proc");
    std::filesystem::create_symlink(host.path, root.dir() / "proc");
    std::filesystem::create_directories(root.dir() /
                                        std::filesystem::path(host.path).relative_path());
    NSFUN_CHECK_CHILD([&] {
      NSFUN_EXPECT(::unshare(CLONE_NEWNS) == 0);
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
      const std::string r = root.path();
      NSFUN_EXPECT(::mount(r.c_str(), r.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0);
      auto m = cfs::mount_in_root(r.c_str(), "proc", "proc", "proc", 0, nullptr);
      NSFUN_EXPECT(!m);
      NSFUN_EXPECT(m.error() == std::errc::too_many_symbolic_link_levels);
      NSFUN_EXPECT(m.error().message() == "openat2 " + r +
                                              "/proc: a symbolic link in the rootfs, refused for "
                                              "a mount spawn makes itself");
      NSFUN_EXPECT(mount_lines_with(host.path) == 0);
      return 0;
    });
  }

  TEST_CASE("without mount_setattr (Linux < 5.12): read-only by bind remounts, flags kept") {
#if !defined(__x86_64__)
    NSFUN_REQUIRE(false, "the ENOSYS filter is written for x86_64");
#endif
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    HostDir src;
    auto prepared = cfs::prepare(ContainerFs().read_only_root().minimal_dev().default_masks().bind(
                                     src.path, "/data", {.read_only = true}),
                                 root.path(), false);
    REQUIRE(prepared);
    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      NSFUN_EXPECT(pretend_missing(SYS_mount_setattr));
      NSFUN_EXPECT_OK(cfs::before_pivot(prepared.value()));
      NSFUN_EXPECT_OK(nsfun::detail::pivot_root_here(root.path().c_str()));
      NSFUN_EXPECT_OK(cfs::after_pivot(prepared.value()));
      NSFUN_EXPECT(try_create("/newfile") == EROFS);
      NSFUN_EXPECT(try_create("/data/new") == EROFS);
      NSFUN_EXPECT(try_create("/dev/shm/x") == 0);
      auto all = nsfun::mounts();
      NSFUN_EXPECT_OK(all);
      const auto* sys = find_mount(all.value(), "/proc/sys");
      NSFUN_EXPECT(sys != nullptr && has_option(sys->mount_options, "ro") &&
                   has_option(sys->mount_options, "nosuid") &&
                   has_option(sys->mount_options, "noexec"));
      return check_default_masks(/*rootless=*/false);
    });
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("without openat2 (Linux < 5.6) nothing is mounted, and the error says why") {
#if !defined(__x86_64__)
    NSFUN_REQUIRE(false, "the ENOSYS filter is written for x86_64");
#endif
    NSFUN_REQUIRE(t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                  "needs CAP_SYS_ADMIN for a mount namespace");
    NSFUN_REQUIRE(t::BusyboxRootfs::available(), "needs busybox-static");
    t::BusyboxRootfs root;
    REQUIRE(root);
    auto prepared = cfs::prepare(ContainerFs().tmpfs("/tmp"), root.path(), false);
    REQUIRE(prepared);
    NSFUN_CHECK_CHILD([&] {
      if (int line = enter_rootfs(root.path())) {
        return line;
      }
      NSFUN_EXPECT(pretend_missing(SYS_openat2));
      auto r = cfs::before_pivot(prepared.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error().message() ==
                   "ContainerFs::tmpfs: openat2 /tmp: openat2 (Linux 5.6) is needed to resolve "
                   "paths inside the root safely");
      NSFUN_EXPECT(fs_type(root.path_of("tmp").c_str()) != tmpfs_magic);
      return 0;
    });
  }
}

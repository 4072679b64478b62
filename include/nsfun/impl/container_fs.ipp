// SPDX-License-Identifier: MIT
// nsfun – the filesystem inside a container's new root: the implementation (see
// <nsfun/config.hpp>).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail::container_fs {

// openat2(2) (Linux 5.6) and mount_setattr(2) (Linux 5.12): numbers and structures that older
// headers lack (linux/openat2.h, linux/mount.h).
#ifdef SYS_openat2
inline constexpr long sys_openat2 = SYS_openat2;
#else
inline constexpr long sys_openat2 = 437;
#endif
#ifdef SYS_mount_setattr
inline constexpr long sys_mount_setattr = SYS_mount_setattr;
#else
inline constexpr long sys_mount_setattr = 442;
#endif

struct OpenHow {
  std::uint64_t flags;
  std::uint64_t mode;
  std::uint64_t resolve;
};

struct MountAttr {
  std::uint64_t attr_set;
  std::uint64_t attr_clr;
  std::uint64_t propagation;
  std::uint64_t userns_fd;
};

inline constexpr std::uint64_t resolve_no_magiclinks = 0x02;
inline constexpr std::uint64_t resolve_in_root = 0x10;
inline constexpr std::uint64_t resolve_no_symlinks = 0x04;
inline constexpr std::uint64_t mount_attr_rdonly = 0x1;
inline constexpr unsigned at_recursive = 0x8000;
inline constexpr long proc_super_magic = 0x9fa0;

// The devices of a minimal /dev, as runc and crun make them (all 0666).
struct DevNode {
  const char* name;
  unsigned major;
  unsigned minor;
};

inline constexpr DevNode dev_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

// The links of a minimal /dev: name -> target.
inline constexpr std::pair<const char*, const char*> dev_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},      {"ptmx", "pts/ptmx"},
};

// ---- parent side ----

// `path` as a path relative to the root, without empty or "." components: "/a//./b/" -> "a/b".
// An empty path, a ".." component or a NUL byte is refused, naming the setting and the path.
inline result<std::string> normalise(std::string_view path,
                                     const char* setting,
                                     const char* which) {
  if (path.empty()) {
    return errno_error(EINVAL, setting).on(which, " \"\"").because("an empty path");
  }
  if (path.find('\0') != std::string_view::npos) {
    return errno_error(EINVAL, setting).on(which, ' ', path).because("a NUL byte in the path");
  }
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      j = path.size();
    }
    std::string_view comp = path.substr(i, j - i);
    if (comp == "..") {
      return errno_error(EINVAL, setting)
          .on(which, ' ', path)
          .because("a \"..\" component (targets are paths inside the root)");
    }
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) {
        out += '/';
      }
      out += comp;
    }
    i = j + 1;
  }
  if (out.empty()) {
    return errno_error(EINVAL, setting).on(which, ' ', path).because("the root itself");
  }
  if (out.size() >= PATH_MAX - 64) {
    return errno_error(ENAMETOOLONG, setting).on(which, ' ', path.substr(0, 64), "...");
  }
  return out;
}

// tmpfs options: the per-mount flags among them become MS_* flags, the rest stays data.
inline result<void> parse_tmpfs_options(std::string_view options, Step& step) {
  struct Flag {
    std::string_view name;
    unsigned long flag;
    bool set;
  };

  static constexpr Flag flags[] = {
      {"ro", MS_RDONLY, true},
      {"rw", MS_RDONLY, false},
      {"nosuid", MS_NOSUID, true},
      {"suid", MS_NOSUID, false},
      {"nodev", MS_NODEV, true},
      {"dev", MS_NODEV, false},
      {"noexec", MS_NOEXEC, true},
      {"exec", MS_NOEXEC, false},
      {"noatime", MS_NOATIME, true},
      {"atime", MS_NOATIME, false},
      {"nodiratime", MS_NODIRATIME, true},
      {"diratime", MS_NODIRATIME, false},
      {"relatime", MS_RELATIME, true},
      {"norelatime", MS_RELATIME, false},
      {"strictatime", MS_STRICTATIME, true},
      {"sync", MS_SYNCHRONOUS, true},
      {"async", MS_SYNCHRONOUS, false},
      {"defaults", 0, true},
  };
  std::size_t i = 0;
  while (i <= options.size()) {
    std::size_t j = options.find(',', i);
    if (j == std::string_view::npos) {
      j = options.size();
    }
    std::string_view opt = options.substr(i, j - i);
    i = j + 1;
    if (opt.empty()) {
      continue;
    }
    if (opt.find('\0') != std::string_view::npos) {
      return errno_error(EINVAL, "ContainerFs::tmpfs")
          .on("options of /", step.target)
          .because("a NUL byte in the options");
    }
    bool known = false;
    for (const Flag& f : flags) {
      if (f.name == opt) {
        step.flags = f.set ? (step.flags | f.flag) : (step.flags & ~f.flag);
        known = true;
        break;
      }
    }
    if (!known) {
      if (!step.data.empty()) {
        step.data += ',';
      }
      step.data += opt;
    }
  }
  return success();
}

// ---- child side: raw syscalls only, nothing allocated ----

// "/proc/self/fd/N": the path through which mount(2) reaches what fd `fd` refers to.
inline sys::PathBuf fd_path(int fd) noexcept {
  sys::PathBuf p;
  p.add("/proc/self/fd/").add(static_cast<long>(fd));
  return p;
}

// Opens `rel` (relative, may be empty for the root itself) under `root` as if `root` were "/":
// "..", absolute symbolic links and ".." in links all stay inside it, magic links (/proc/PID/
// root, /proc/self/fd/N) are refused. -1 and errno on failure.
inline int resolve(int root,
                   const char* rel,
                   std::uint64_t flags,
                   std::uint64_t also = 0) noexcept {
  OpenHow how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve_in_root | resolve_no_magiclinks | also;
  const char* path = rel[0] != '\0' ? rel : ".";
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(sys_openat2, root, path, &how, sizeof(how));
    // EAGAIN: a rename raced with the lookup; the kernel asks to try again.
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR) || attempt == 16) {
      return static_cast<int>(fd);
    }
  }
}

// The errno error of `what` on "/rel" (a path inside the root), in the context of `setting`.
inline error in_root_error(int err,
                           std::string_view what,
                           const char* rel,
                           const char* setting) noexcept {
  error e = errno_error(err, what).on('/', rel);
  if (setting != nullptr && setting[0] != '\0') {
    e.with_context(setting);
  }
  if (err == ENOSYS && what == "openat2") {
    e.because("openat2 (Linux 5.6) is needed to resolve paths inside the root safely");
  }
  return e;
}

// Makes directory `rel` (its parent must exist) under `root` unless it exists.
inline result<void> make_one(int root,
                             const sys::PathBuf& rel,
                             bool dir,
                             const char* setting) noexcept {
  std::string_view path(rel.c_str(), rel.size());
  std::size_t slash = path.rfind('/');
  sys::PathBuf parent;
  sys::PathBuf name;
  if (slash == std::string_view::npos) {
    name.add(path);
  } else {
    parent.add(path.substr(0, slash));
    name.add(path.substr(slash + 1));
  }
  UniqueFd pfd =
      UniqueFd::adopt(resolve(root, parent.c_str(), O_PATH | O_DIRECTORY));  // owns: opened here
  if (!pfd) {
    return in_root_error(errno, "openat2", parent.c_str(), setting);
  }
  if (dir) {
    if (::mkdirat(pfd.get(), name.c_str(), 0755) < 0 && errno != EEXIST) {
      return in_root_error(errno, "mkdir", rel.c_str(), setting);
    }
    return success();
  }
  // O_NOFOLLOW with O_CREAT|O_EXCL: an existing name (a link too) is left alone.
  int fd = ::openat(pfd.get(), name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno != EEXIST) {
    return in_root_error(errno, "create", rel.c_str(), setting);
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return success();
}

// An O_PATH fd on `rel` inside the root, made first when missing (the directories on the way,
// then a directory or, with `dir` false, an empty file), as runtimes make mount points.
inline result<UniqueFd> open_target(int root,
                                    const char* rel,
                                    bool dir,
                                    const char* setting) noexcept {
  int fd = resolve(root, rel, O_PATH);
  if (fd >= 0) {
    return UniqueFd::adopt(fd);  // owns: opened here
  }
  if (errno != ENOENT) {
    return in_root_error(errno, "openat2", rel, setting);
  }
  std::string_view path(rel);
  sys::PathBuf prefix;
  for (std::size_t k = path.find('/'); k != std::string_view::npos; k = path.find('/', k + 1)) {
    prefix.truncate(0).add(path.substr(0, k));
    int pfd = resolve(root, prefix.c_str(), O_PATH | O_DIRECTORY);
    if (pfd >= 0) {
      ::close(pfd);
      continue;
    }
    if (errno != ENOENT) {
      return in_root_error(errno, "openat2", prefix.c_str(), setting);
    }
    NSFUN_TRYV(make_one(root, prefix, true, setting));
  }
  prefix.truncate(0).add(path);
  NSFUN_TRYV(make_one(root, prefix, dir, setting));
  fd = resolve(root, rel, O_PATH);
  if (fd < 0) {
    return in_root_error(errno, "openat2", rel, setting);
  }
  return UniqueFd::adopt(fd);  // owns: opened here
}

// The per-mount flags a bind remount must keep (a user namespace refuses to clear locked ones).
inline unsigned long kept_flags(unsigned long f_flag) noexcept {
  unsigned long flags = 0;
  const std::pair<unsigned long, unsigned long> map[] = {
      {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},           {ST_NOEXEC, MS_NOEXEC},
      {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
  };
  for (auto [st, ms] : map) {
    if ((f_flag & st) != 0) {
      flags |= ms;
    }
  }
  return flags;
}

// Makes the mount `fd` is the root of read-only (with `recursive`, the mounts below it too):
// mount_setattr(2), or on kernels without it (COMPAT(linux < 5.12)) a bind remount of that one
// mount keeping its other flags.
inline result<void> make_read_only(int fd,
                                   bool recursive,
                                   const char* rel,
                                   const char* setting) noexcept {
  MountAttr attr{};
  attr.attr_set = mount_attr_rdonly;
  const unsigned flags = AT_EMPTY_PATH | (recursive ? at_recursive : 0U);
  if (::syscall(sys_mount_setattr, fd, "", flags, &attr, sizeof(attr)) == 0) {
    return success();
  }
  if (errno != ENOSYS) {
    return in_root_error(errno, "mount_setattr MOUNT_ATTR_RDONLY", rel, setting);
  }

  struct statvfs sv {};

  if (::fstatvfs(fd, &sv) < 0) {
    return in_root_error(errno, "statvfs", rel, setting);
  }
  if (::mount(nullptr, fd_path(fd).c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(sv.f_flag), nullptr) < 0) {
    return in_root_error(errno, "mount -o remount,bind,ro", rel, setting);
  }
  return success();
}

// One bind or tmpfs setting, inside the root.
inline result<void> apply_step(int root, const Step& s) noexcept {
  const bool dir = s.kind == Step::Kind::tmpfs || s.source_is_dir;
  NSFUN_TRY(UniqueFd target, open_target(root, s.target.c_str(), dir, s.setting));
  if (s.kind == Step::Kind::tmpfs) {
    if (::mount("tmpfs", fd_path(target.get()).c_str(), "tmpfs", s.flags,
                s.data.empty() ? nullptr : s.data.c_str()) < 0) {
      return errno_error(errno, "mount tmpfs")
          .on("on /", s.target, s.data.empty() ? "" : " -o ", s.data)
          .with_context(s.setting);
    }
    return success();
  }
  if (::mount(s.source.c_str(), fd_path(target.get()).c_str(), nullptr,
              MS_BIND | (s.recursive ? static_cast<unsigned long>(MS_REC) : 0UL), nullptr) < 0) {
    return errno_error(errno, s.recursive ? "mount --rbind" : "mount --bind")
        .on(s.source, " on /", s.target)
        .with_context(s.setting);
  }
  if (s.read_only) {
    // The kernel ignores MS_RDONLY on the bind itself: the new mount (found again by its path,
    // the old fd is on what lies beneath it) is made read-only afterwards.
    UniqueFd top = UniqueFd::adopt(resolve(root, s.target.c_str(), O_PATH));  // owns: opened here
    if (!top) {
      return in_root_error(errno, "openat2", s.target.c_str(), s.setting);
    }
    NSFUN_TRYV(make_read_only(top.get(), s.recursive, s.target.c_str(), s.setting));
  }
  return success();
}

// /dev: a tmpfs, the nodes (mknod, or bound from the host's /dev where mknod is refused), devpts,
// shm and the links.
inline result<void> make_dev(int root, bool new_user_ns) noexcept {
  constexpr const char* setting = "ContainerFs::minimal_dev";
  {
    NSFUN_TRY(UniqueFd at, open_target(root, "dev", true, setting));
    if (::mount("tmpfs", fd_path(at.get()).c_str(), "tmpfs", MS_NOSUID | MS_STRICTATIME,
                "mode=755,size=65536k") < 0) {
      return in_root_error(errno, "mount tmpfs on", "dev", setting);
    }
  }
  UniqueFd dev = UniqueFd::adopt(resolve(root, "dev", O_PATH | O_DIRECTORY));  // owns: opened here
  if (!dev) {
    return in_root_error(errno, "openat2", "dev", setting);
  }
  const int d = dev.get();
  for (const DevNode& n : dev_nodes) {
    // mknod is refused in a user namespace (and without CAP_MKNOD): bind the host's node.
    bool made = false;
    if (!new_user_ns) {
      if (::mknodat(d, n.name, S_IFCHR | 0666, makedev(n.major, n.minor)) == 0) {
        made = true;
        if (::fchmodat(d, n.name, 0666, 0) < 0) {  // the umask took bits off
          return in_root_error(errno, "chmod", n.name, setting).on("/dev/", n.name);
        }
      } else if (errno != EPERM) {
        return errno_error(errno, "mknod").on("/dev/", n.name).with_context(setting);
      }
    }
    if (made) {
      continue;
    }
    int fd =
        ::openat(d, n.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0) {
      return errno_error(errno, "create").on("/dev/", n.name).with_context(setting);
    }
    ::close(fd);
    UniqueFd node =
        UniqueFd::adopt(::openat(d, n.name, O_PATH | O_NOFOLLOW | O_CLOEXEC));  // owns: opened here
    if (!node) {
      return errno_error(errno, "open").on("/dev/", n.name).with_context(setting);
    }
    sys::PathBuf host;
    host.add("/dev/").add(n.name);
    if (::mount(host.c_str(), fd_path(node.get()).c_str(), nullptr, MS_BIND, nullptr) < 0) {
      return errno_error(errno, "mount --bind")
          .on(host.c_str(), " on /dev/", n.name)
          .with_context(setting);
    }
  }
  if (::mkdirat(d, "pts", 0755) < 0 && errno != EEXIST) {
    return errno_error(errno, "mkdir").on("/dev/pts").with_context(setting);
  }
  {
    UniqueFd pts = UniqueFd::adopt(
        ::openat(d, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));  // owns: opened here
    if (!pts) {
      return errno_error(errno, "open").on("/dev/pts").with_context(setting);
    }
    // gid=5 (tty) only outside a new user namespace, where it may have no mapping (crun's and
    // runc's rootless specs leave it out too).
    const char* opts = new_user_ns ? "newinstance,ptmxmode=0666,mode=0620"
                                   : "newinstance,ptmxmode=0666,mode=0620,gid=5";
    if (::mount("devpts", fd_path(pts.get()).c_str(), "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0) {
      return errno_error(errno, "mount devpts").on("on /dev/pts -o ", opts).with_context(setting);
    }
  }
  if (::mkdirat(d, "shm", 01777) < 0 && errno != EEXIST) {
    return errno_error(errno, "mkdir").on("/dev/shm").with_context(setting);
  }
  {
    UniqueFd shm = UniqueFd::adopt(
        ::openat(d, "shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));  // owns: opened here
    if (!shm) {
      return errno_error(errno, "open").on("/dev/shm").with_context(setting);
    }
    if (::mount("shm", fd_path(shm.get()).c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k") < 0) {
      return errno_error(errno, "mount tmpfs").on("on /dev/shm").with_context(setting);
    }
  }
  for (auto [name, target] : dev_links) {
    if (::symlinkat(target, d, name) < 0) {
      return errno_error(errno, "symlink").on("/dev/", name, " -> ", target).with_context(setting);
    }
  }
  return success();
}

// True when normalised path `path` lies below `dir` ("dev/x" below "dev"; not "devx").
inline bool below(std::string_view path, std::string_view dir) noexcept {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

// With read_only_root: makes the mount points that lie in the rootfs itself, then the rootfs
// read-only with the mounts that came with it (mount_setattr, recursively), and /proc (mounted
// by spawn, not part of the root) writable again. Without mount_setattr (COMPAT(linux < 5.12))
// nothing happens here: after_pivot remounts / read-only, not recursively, as runc does.
inline result<void> read_only_rootfs(int root, const Prepared& p) noexcept {
  if (p.minimal_dev) {
    NSFUN_TRY(UniqueFd dev, open_target(root, "dev", true, "ContainerFs::minimal_dev"));
  }
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const Step& s = p.steps[i];
    // A target inside /dev or inside an earlier step's mount is made later, on that mount.
    bool covered = p.minimal_dev && below(s.target, "dev");
    for (std::size_t j = 0; j < i && !covered; ++j) {
      covered = below(s.target, p.steps[j].target);
    }
    if (!covered) {
      NSFUN_TRY(UniqueFd at,
                open_target(root, s.target.c_str(), s.kind == Step::Kind::tmpfs || s.source_is_dir,
                            s.setting));
    }
  }
  MountAttr attr{};
  attr.attr_set = mount_attr_rdonly;
  if (::syscall(sys_mount_setattr, root, "", AT_EMPTY_PATH | at_recursive, &attr, sizeof(attr)) <
      0) {
    if (errno == ENOSYS) {
      return success();
    }
    return errno_error(errno, "mount_setattr -R MOUNT_ATTR_RDONLY")
        .on(p.rootfs)
        .with_context("ContainerFs::read_only_root");
  }
  UniqueFd proc =
      UniqueFd::adopt(resolve(root, "proc", O_PATH | O_DIRECTORY));  // owns: opened here

  struct statfs sf {};

  if (proc && ::fstatfs(proc.get(), &sf) == 0 && sf.f_type == proc_super_magic) {
    MountAttr rw{};
    rw.attr_clr = mount_attr_rdonly;
    // EINVAL: /proc is not a mount of its own (a proc below another mount): leave it.
    if (::syscall(sys_mount_setattr, proc.get(), "", AT_EMPTY_PATH, &rw, sizeof(rw)) < 0 &&
        errno != EINVAL) {
      return in_root_error(errno, "mount_setattr clear MOUNT_ATTR_RDONLY", "proc",
                           "ContainerFs::read_only_root");
    }
  }
  return success();
}

}  // namespace detail::container_fs

NSFUN_INLINE ContainerFs& ContainerFs::read_only_root(bool on) {
  read_only_root_ = on;
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::bind(std::string host_source,
                                            std::string target_in_root,
                                            BindOptions opts) {
  Mount m;
  m.kind = Mount::Kind::bind;
  m.source = std::move(host_source);
  m.target = std::move(target_in_root);
  m.bind = opts;
  mounts_.push_back(std::move(m));
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::tmpfs(std::string target_in_root, std::string options) {
  Mount m;
  m.kind = Mount::Kind::tmpfs;
  m.target = std::move(target_in_root);
  m.options = std::move(options);
  mounts_.push_back(std::move(m));
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::minimal_dev(bool on) {
  minimal_dev_ = on;
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::mask(std::string path) {
  masked_.push_back(std::move(path));
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::read_only_path(std::string path) {
  read_only_.push_back(std::move(path));
  return *this;
}

NSFUN_INLINE ContainerFs& ContainerFs::default_masks() {
  // crun 1.8.1's `crun spec`, plus /sys/devices/virtual/powercap from runc's `runc spec` and
  // Docker's defaults.
  for (const char* p :
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        "/sys/devices/virtual/powercap"}) {
    masked_.emplace_back(p);
  }
  for (const char* p : {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
    read_only_.emplace_back(p);
  }
  return *this;
}

namespace detail::container_fs {

NSFUN_INLINE result<Prepared> prepare(const ContainerFs& fs,
                                      const std::string& rootfs,
                                      bool new_user_ns) {
  Prepared p;
  if (rootfs.empty()) {
    return errno_error(EINVAL, "ContainerFs").on("rootfs \"\"").because("an empty path");
  }

  struct stat st {};

  if (::stat(rootfs.c_str(), &st) < 0) {
    return errno_error(errno, "ContainerFs").on("rootfs ", rootfs);
  }
  if (!S_ISDIR(st.st_mode)) {
    return errno_error(ENOTDIR, "ContainerFs").on("rootfs ", rootfs);
  }
  p.rootfs = rootfs;
  p.new_user_ns = new_user_ns;
  p.read_only_root = fs.has_read_only_root();
  p.minimal_dev = fs.has_minimal_dev();
  for (const ContainerFs::Mount& m : fs.mounts()) {
    Step s;
    if (m.kind == ContainerFs::Mount::Kind::bind) {
      s.kind = Step::Kind::bind;
      s.setting = "ContainerFs::bind";
      if (m.source.empty()) {
        return errno_error(EINVAL, s.setting).on("source \"\"").because("an empty path");
      }
      if (m.source.find('\0') != std::string::npos) {
        return errno_error(EINVAL, s.setting)
            .on("source ", m.source)
            .because("a NUL byte in the path");
      }
      if (::stat(m.source.c_str(), &st) < 0) {
        return errno_error(errno, s.setting).on("source ", m.source);
      }
      s.source = m.source;
      s.source_is_dir = S_ISDIR(st.st_mode);
      s.read_only = m.bind.read_only;
      s.recursive = m.bind.recursive;
      NSFUN_TRY(s.target, normalise(m.target, s.setting, "target"));
    } else {
      s.kind = Step::Kind::tmpfs;
      s.setting = "ContainerFs::tmpfs";
      NSFUN_TRY(s.target, normalise(m.target, s.setting, "target"));
      NSFUN_TRYV(parse_tmpfs_options(m.options, s));
    }
    p.steps.push_back(std::move(s));
  }
  for (const std::string& m : fs.masked_paths()) {
    NSFUN_TRY(auto path, normalise(m, "ContainerFs::mask", "path"));
    p.masked.push_back(std::move(path));
  }
  for (const std::string& r : fs.read_only_paths()) {
    NSFUN_TRY(auto path, normalise(r, "ContainerFs::read_only_path", "path"));
    p.read_only.push_back(std::move(path));
  }
  return p;
}

NSFUN_INLINE result<void> before_pivot(const Prepared& p) noexcept {
  // Opened now, after the rootfs was bound on itself: the fd is on that bind mount, and every
  // mount made through it stays in this mount namespace.
  UniqueFd root = UniqueFd::adopt(
      ::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));  // owns: opened here
  if (!root) {
    return errno_error(errno, "open").on("rootfs ", p.rootfs).with_context("ContainerFs");
  }
  if (p.read_only_root) {
    NSFUN_TRYV(read_only_rootfs(root.get(), p));
  }
  if (p.minimal_dev) {
    NSFUN_TRYV(make_dev(root.get(), p.new_user_ns));
  }
  for (const Step& s : p.steps) {
    NSFUN_TRYV(apply_step(root.get(), s));
  }
  return success();
}

NSFUN_INLINE result<void> mount_in_root(const char* rootfs,
                                        const char* rel,
                                        const char* source,
                                        const char* fstype,
                                        unsigned long flags,
                                        const char* data) noexcept {
  UniqueFd root =
      UniqueFd::adopt(::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));  // owns: opened here
  if (!root) {
    return errno_error(errno, "open").on("rootfs ", rootfs);
  }
  int fd = resolve(root.get(), rel, O_PATH | O_DIRECTORY, resolve_no_symlinks);
  if (fd < 0 && errno == ENOENT) {
    NSFUN_TRY(UniqueFd made, open_target(root.get(), rel, true, nullptr));
    fd = resolve(root.get(), rel, O_PATH | O_DIRECTORY, resolve_no_symlinks);
  }
  if (fd < 0) {
    error e = in_root_error(errno, "openat2", rel, nullptr);
    e.on(rootfs, "/", rel);
    if (e.code == std::errc::too_many_symbolic_link_levels) {
      e.because("a symbolic link in the rootfs, refused for a mount spawn makes itself");
    }
    return e;
  }
  UniqueFd at = UniqueFd::adopt(fd);  // owns: opened here
  if (::mount(source, fd_path(at.get()).c_str(), fstype, flags, data) < 0) {
    return errno_error(errno, "mount").on(fstype, " on ", rootfs, "/", rel);
  }
  return success();
}

NSFUN_INLINE result<void> after_pivot(const Prepared& p) noexcept {
  UniqueFd root =
      UniqueFd::adopt(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));  // owns: opened here
  if (!root) {
    return errno_error(errno, "open").on("/").with_context("ContainerFs");
  }
  // As runc: read-only paths first, then the masks.
  for (const std::string& path : p.read_only) {
    constexpr const char* setting = "ContainerFs::read_only_path";
    UniqueFd at = UniqueFd::adopt(resolve(root.get(), path.c_str(), O_PATH));  // owns: opened here
    if (!at) {
      if (errno == ENOENT) {
        continue;  // as runtimes: a path that does not exist is skipped
      }
      return in_root_error(errno, "openat2", path.c_str(), setting);
    }
    const sys::PathBuf fdp = fd_path(at.get());
    if (::mount(fdp.c_str(), fdp.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      return in_root_error(errno, "mount --rbind on itself", path.c_str(), setting);
    }
    UniqueFd top = UniqueFd::adopt(resolve(root.get(), path.c_str(), O_PATH));  // owns: opened here
    if (!top) {
      return in_root_error(errno, "openat2", path.c_str(), setting);
    }
    NSFUN_TRYV(make_read_only(top.get(), true, path.c_str(), setting));
  }
  UniqueFd null;
  for (const std::string& path : p.masked) {
    constexpr const char* setting = "ContainerFs::mask";
    UniqueFd at = UniqueFd::adopt(resolve(root.get(), path.c_str(), O_PATH));  // owns: opened here
    if (!at) {
      if (errno == ENOENT) {
        continue;
      }
      return in_root_error(errno, "openat2", path.c_str(), setting);
    }

    struct stat st {};

    if (::fstat(at.get(), &st) < 0) {
      return in_root_error(errno, "stat", path.c_str(), setting);
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mount("tmpfs", fd_path(at.get()).c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) {
        return in_root_error(errno, "mount tmpfs -o ro on", path.c_str(), setting);
      }
      continue;
    }
    if (!null) {
      // The root's own /dev/null (the host's is gone with the old root): it must really be the
      // null device, or a hostile rootfs could show any of its files instead.
      null = UniqueFd::adopt(resolve(root.get(), "dev/null", O_PATH));  // owns: opened here
      if (!null) {
        return in_root_error(errno, "openat2", "dev/null", setting)
            .because("masking a file needs /dev/null in the root (minimal_dev() makes one)");
      }

      struct stat ns {};

      if (::fstat(null.get(), &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
        return in_root_error(EINVAL, "check", "dev/null", setting)
            .because("/dev/null in the root is not the null device");
      }
    }
    if (::mount(fd_path(null.get()).c_str(), fd_path(at.get()).c_str(), nullptr, MS_BIND, nullptr) <
        0) {
      return in_root_error(errno, "mount --bind /dev/null on", path.c_str(), setting);
    }
    // Read-only too, as crun makes it (runc leaves it writable; /dev/null ignores writes).
    UniqueFd top = UniqueFd::adopt(resolve(root.get(), path.c_str(), O_PATH));  // owns: opened here
    if (!top) {
      return in_root_error(errno, "openat2", path.c_str(), setting);
    }
    NSFUN_TRYV(make_read_only(top.get(), false, path.c_str(), setting));
  }
  if (p.read_only_root) {
    struct statvfs sv {};

    if (::statvfs("/", &sv) < 0) {
      return errno_error(errno, "statvfs").on("/").with_context("ContainerFs::read_only_root");
    }
    if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(sv.f_flag),
                nullptr) < 0) {
      return errno_error(errno, "mount -o remount,bind,ro")
          .on("/")
          .with_context("ContainerFs::read_only_root");
    }
  }
  return success();
}

}  // namespace detail::container_fs

}  // namespace nsfun

// SPDX-License-Identifier: MIT
// nsfun – spawn(), Command and Child: the implementation (see <nsfun/config.hpp>).
//
// The parent's side: checks, the Plan the child follows (made here, where allocating is safe),
// clone3, the user maps, and the child's report. The child's side is
// <nsfun/detail/spawn_child.hpp>, its minimal init <nsfun/detail/spawn_init.hpp>.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/spawn_child.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/spawn.hpp>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in a header

namespace nsfun::detail::spawn_parent {

using spawn_child::Plan;

// PATH when the environment has none.
inline constexpr std::string_view default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

inline bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// PATH lookup done by the parent (execvpe may allocate). Inside a rootfs the candidates are
// checked under it but executed by their path inside.
inline result<std::string> resolve(const CommandSpec& c,
                                   const std::string& program,
                                   const char* path_env) {
  if (program.find('/') != std::string::npos) {
    return program;
  }
  std::string root = c.rootfs ? *c.rootfs : std::string();
  std::string_view dirs = path_env != nullptr ? path_env : default_path;
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string candidate(dirs.substr(0, colon));
    if (!candidate.empty()) {
      candidate += '/';
      candidate += program;
      if (executable(root + candidate)) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      break;
    }
    dirs.remove_prefix(colon + 1);
  }
  if (c.rootfs) {
    return errno_error(ENOENT, "find program").on(program, " in PATH under ", *c.rootfs);
  }
  return errno_error(ENOENT, "find program").on(program, " in PATH");
}

// Whether the child joins an existing namespace of type t (join(), or netns() for net).
inline bool joins(const CommandSpec& c, NsType t) noexcept {
  return (t == NsType::net && c.netns) ||
         std::any_of(c.join.begin(), c.join.end(), [t](const NsFd* ns) { return ns->type() == t; });
}

// Whether clone3 makes the child's mount namespace: asked for, or implied by mount_proc or
// rootfs, and not replaced by a joined one. netns() makes its own after the joins instead.
inline bool makes_mnt(const CommandSpec& c) noexcept {
  return (c.fresh.contains(NsType::mnt) || c.mount_proc || c.rootfs) && !joins(c, NsType::mnt) &&
         !c.netns;
}

// The refusal of a setting whose namespace the child would not have made or joined.
inline error needs(std::string_view setting, std::string_view which, NsType t) noexcept {
  return nsfun_error(errc::namespace_not_new, "spawn")
      .because(setting, " needs a ", which, " ", name(t), " namespace");
}

// Refuses, before anything is cloned, every setting that would apply to a namespace the child
// shares with the caller (the host's hostname, say) or that cannot take effect.
inline result<void> check_namespaces(const CommandSpec& c) noexcept {
  auto new_or_joined = [&c](NsType t) {
    return c.fresh.contains(t) || joins(c, t);
  };
  auto made = [&c](NsType t) {
    return c.fresh.contains(t) && !joins(c, t);
  };
  if (c.hostname && !new_or_joined(NsType::uts)) {
    return needs("hostname", "new or joined", NsType::uts);
  }
  if (c.domainname && !new_or_joined(NsType::uts)) {
    return needs("domainname", "new or joined", NsType::uts);
  }
  if (c.mount_proc && !new_or_joined(NsType::pid)) {
    return needs("mount_proc", "new or joined", NsType::pid);
  }
  if (c.keep_propagation && !makes_mnt(c) && !c.netns) {
    return needs("keep_propagation", "new", NsType::mnt);
  }
  if (c.offsets && !made(NsType::time)) {
    return needs("time_offsets", "new", NsType::time);
  }
  if (c.init && !c.fresh.contains(NsType::pid)) {
    return needs("init", "new", NsType::pid);
  }
  if (c.map && !made(NsType::user)) {
    return needs("user_map", "new", NsType::user);
  }
  if (c.keep_caps && !new_or_joined(NsType::user)) {
    return needs("keep_caps", "new or joined", NsType::user);
  }
  if (c.netns) {
    const bool joins_net = std::any_of(c.join.begin(), c.join.end(),
                                       [](const NsFd* ns) { return ns->type() == NsType::net; });
    std::string_view other = c.fresh.contains(NsType::net) ? "a new net namespace"
                             : joins_net                   ? "a joined net namespace"
                             : c.rootfs                    ? "rootfs"
                                                           : "";
    if (!other.empty()) {
      return errno_error(EINVAL, "spawn")
          .because("netns ", *c.netns, " cannot be combined with ", other);
    }
  }
  return success();
}

// Refuses an id of uid(), gid() or groups() that cannot apply where the child will be: never an
// id ((uid_t)-1), not mapped in a new user namespace (by its user_map(), or at all without one),
// or not mapped in the caller's own when the child stays in it. In a joined user namespace the
// kernel checks, in the child.
inline result<void> check_ids(const CommandSpec& c) {
  std::optional<IdMap> uids;
  std::optional<IdMap> gids;
  std::string_view where = "the caller's user namespace";
  if (c.fresh.contains(NsType::user) && !joins(c, NsType::user)) {
    where = "the new user namespace";
    uids = c.map ? c.map->uid : IdMap();
    gids = c.map ? c.map->gid : IdMap();
  } else if (!joins(c, NsType::user)) {
    if (auto own = UserMap::read(::getpid())) {
      uids = std::move(own.value().uid);
      gids = std::move(own.value().gid);
    }
  }
  auto check = [&](std::string_view kind, std::uint32_t id,
                   const std::optional<IdMap>& map) -> result<void> {
    if (id == static_cast<std::uint32_t>(-1)) {
      return errno_error(EINVAL, "spawn")
          .because(kind, " ", id, " is never an id ((", kind, "_t)-1)");
    }
    if (!map || map->to_outside(id) >= 0) {
      return success();
    }
    if (map->empty()) {
      return errno_error(EINVAL, "spawn")
          .because(kind, " ", id, " is not mapped in ", where, " (it has no ", kind, " map)");
    }
    return errno_error(EINVAL, "spawn")
        .because(kind, " ", id, " is not mapped in ", where, " (", kind, " map ", map->to_string(),
                 ")");
  };
  if (c.uid) {
    NSFUN_TRYV(check("uid", *c.uid, uids));
  }
  if (c.gid) {
    NSFUN_TRYV(check("gid", *c.gid, gids));
  }
  if (c.groups) {
    if (c.groups->size() > 65536) {
      return errno_error(EINVAL, "spawn")
          .because("groups: ", c.groups->size(), " ids, more than NGROUPS_MAX (65536)");
    }
    for (gid_t g : *c.groups) {
      NSFUN_TRYV(check("gid", g, gids));
    }
  }
  return success();
}

// A small /proc file's text (its first 4 KiB); empty when it cannot be read.
inline std::string read_text(const char* path) {
  UniqueFd f = UniqueFd::adopt(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));  // owns: opened
  if (!f) {
    return {};
  }
  char buf[4096];
  std::size_t len = 0;
  ssize_t n = 0;
  while (len < sizeof(buf) && (n = ::read(f.get(), buf + len, sizeof(buf) - len)) != 0) {
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return {};
    }
    len += static_cast<std::size_t>(n);
  }
  return std::string(buf, len);
}

// The names of the resources of Command::rlimit, indexed by number (asm-generic/resource.h).
inline constexpr std::string_view rlimit_names[] = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};

// The number of user namespace inode of the initial user namespace (PROC_USER_INIT_INO).
inline constexpr ino_t init_user_ns_ino = 0xEFFFFFFDU;

// Whether the caller holds CAP_SYS_RESOURCE where the kernel checks it for rlimits and
// oom_score_adj: effective, in the initial user namespace.
inline bool has_sys_resource() noexcept {
  struct stat st {};

  if (::stat("/proc/self/ns/user", &st) == 0 && st.st_ino != init_user_ns_ino) {
    return false;
  }
  spawn_child::CapHeader h;
  spawn_child::CapData d[2] = {};
  if (::syscall(SYS_capget, &h, d) < 0) {
    return false;
  }
  constexpr unsigned cap_sys_resource = 24;
  return (d[cap_sys_resource / 32].effective & (1U << (cap_sys_resource % 32))) != 0;
}

// A limit as the errors print it: a number, or "unlimited".
inline std::string limit_text(rlim_t v) {
  return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
}

// Refuses, before anything is cloned, the settings of issue 15 that cannot apply as given:
// rlimits, oom_score_adj, the controlling terminal, captures that collide with redirects.
inline result<void> check_settings(const CommandSpec& c) {
  for (const ResourceLimit& l : c.rlimits) {
    if (l.resource < 0 || l.resource >= static_cast<int>(std::size(rlimit_names))) {
      return errno_error(EINVAL, "spawn").because("rlimit ", l.resource, ": not a resource");
    }
    const std::string_view name = rlimit_names[l.resource];
    if (l.soft > l.hard) {
      return errno_error(EINVAL, "spawn")
          .because("rlimit ", name, ": soft limit ", limit_text(l.soft), " above hard limit ",
                   limit_text(l.hard));
    }
    if (l.resource == RLIMIT_NOFILE) {
      // The kernel refuses more than fs.nr_open (EPERM, even to root).
      const std::string text = read_text("/proc/sys/fs/nr_open");
      const unsigned long long nr_open = std::strtoull(text.c_str(), nullptr, 10);
      if (nr_open > 0 && l.hard > nr_open) {
        return errno_error(EINVAL, "spawn")
            .because("rlimit ", name, ": hard limit ", limit_text(l.hard),
                     " above /proc/sys/fs/nr_open (", nr_open, ")");
      }
    }

    struct rlimit own {};

    if (::getrlimit(l.resource, &own) == 0 && l.hard > own.rlim_max && !has_sys_resource()) {
      return errno_error(EPERM, "spawn")
          .because("rlimit ", name, ": hard limit ", limit_text(l.hard), " above the caller's ",
                   limit_text(own.rlim_max), " needs CAP_SYS_RESOURCE");
    }
  }
  if (c.oom_score_adj && (*c.oom_score_adj < -1000 || *c.oom_score_adj > 1000)) {
    return errno_error(EINVAL, "spawn")
        .because("oom_score_adj ", *c.oom_score_adj, ": outside -1000..1000");
  }
  if (c.controlling_terminal >= 0 && ::isatty(c.controlling_terminal) == 0) {
    const int e = errno == EBADF ? EBADF : ENOTTY;
    return errno_error(e, "spawn")
        .on("controlling_terminal fd ", c.controlling_terminal)
        .because(e == EBADF ? "not an open fd" : "not a terminal");
  }
  if (c.capabilities) {
    NSFUN_TRYV(with_context(c.capabilities->check(), "spawn"));
    if (c.keep_caps) {
      return errno_error(EINVAL, "spawn")
          .because(
              "keep_caps cannot be combined with capabilities (its ambient set says what is "
              "kept)");
    }
  }
  if (c.seccomp && !c.no_new_privs) {
    // Loading a filter needs no_new_privs or CAP_SYS_ADMIN (effective, in the child's user
    // namespace) at the last step: refuse what surely lacks both.
    constexpr int cap_sys_admin = 21;
    const bool admin_kept =
        c.capabilities ? c.capabilities->effective.contains(cap_sys_admin) : !c.uid || *c.uid == 0;
    if (!admin_kept) {
      return errno_error(EINVAL, "spawn")
          .because("seccomp needs no_new_privs() or CAP_SYS_ADMIN kept",
                   c.capabilities ? " (capabilities() drops it)" : " (uid() drops it)");
    }
  }
  if (c.filesystem) {
    if (!c.rootfs) {
      return errno_error(EINVAL, "spawn")
          .because("filesystem needs rootfs() (the mounts would land on the caller's tree)");
    }
    if (joins(c, NsType::mnt)) {
      return needs("filesystem", "new", NsType::mnt);
    }
  }
  for (auto [target, source] : c.redirects) {
    (void)source;
    if ((target == 1 && c.capture_stdout) || (target == 2 && c.capture_stderr)) {
      return errno_error(EINVAL, "spawn")
          .because(target == 1 ? "capture_stdout" : "capture_stderr",
                   " cannot be combined with a redirect of fd ", target);
    }
  }
  return success();
}

// The minimal init's command line (Command::init): where the caller's argv and environment
// strings lie (fields 48 to 51 of /proc/self/stat), so that the init can overwrite them in its
// copy of the memory. Nothing when /proc cannot tell.
inline void find_title(Plan& p) {
  const std::string stat = read_text("/proc/self/stat");
  const std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return;
  }
  // After ") " come the fields from 3 (state) on; arg_start is field 48.
  std::size_t pos = paren + 2;
  unsigned long long fields[4] = {};
  for (int field = 3; field <= 51 && pos < stat.size(); ++field) {
    std::size_t end = stat.find(' ', pos);
    if (field >= 48) {
      fields[field - 48] = std::strtoull(stat.c_str() + pos, nullptr, 10);
    }
    if (end == std::string::npos) {
      break;
    }
    pos = end + 1;
  }
  if (fields[0] != 0 && fields[1] > fields[0]) {
    p.title.arg_start = static_cast<std::uintptr_t>(fields[0]);
    p.title.arg_end = static_cast<std::uintptr_t>(fields[1]);
  }
  if (fields[2] != 0 && fields[3] > fields[2]) {
    p.title.env_start = static_cast<std::uintptr_t>(fields[2]);
    p.title.env_end = static_cast<std::uintptr_t>(fields[3]);
  }
}

// Command::rlimit and oom_score_adj, set by the parent on the child waiting for its go: the
// kernel checks the rights of the process that sets them, in the initial user namespace, which
// a child in a new user namespace has none of (runc sets rlimits the same way).
inline result<void> set_limits(const CommandSpec& c, pid_t pid) {
  for (const ResourceLimit& l : c.rlimits) {
    const struct rlimit lim { l.soft, l.hard };

    if (::prlimit(pid, static_cast<__rlimit_resource>(l.resource), &lim, nullptr) < 0) {
      return detail::sys::last_error("prlimit").on(rlimit_names[l.resource], " ",
                                                   limit_text(l.soft), ":", limit_text(l.hard),
                                                   " of pid ", pid);
    }
  }
  if (c.oom_score_adj) {
    const std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
    const std::string value = std::to_string(*c.oom_score_adj);
    UniqueFd f = UniqueFd::adopt(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // owns: just opened
    if (!f || ::write(f.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
      error e = detail::sys::last_error("write").on(path, " ", value);
      if (e.code == std::errc::permission_denied) {
        e.because("below the lowest value the caller had, which needs CAP_SYS_RESOURCE");
      }
      return e;
    }
  }
  return success();
}

// Command::netns: open the named namespace and list the /etc overrides, here where allocating
// is safe; the child only mounts.
inline result<void> prepare_netns(const CommandSpec& c, Plan& p) {
  const std::string& name = *c.netns;
  if (c.netns_ns != nullptr) {
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
      return errno_error(EINVAL, "spawn")
          .because("netns name \"", name,
                   "\" is not a single path component (a directory of /etc/netns)");
    }
    p.netns_fd = c.netns_ns->get();
    p.join_names.push_back(name.empty() ? c.netns_ns->identity().to_string() : "netns " + name);
  } else {
    NSFUN_TRY(p.netns, netns::open(name));
    p.netns_fd = p.netns.get();
    p.join_names.push_back(std::string(netns::run_dir) + "/" + name);
  }
  p.join_fds.push_back(p.netns_fd);  // after any user namespace, which may own it
  p.sysfs_source = name.empty() ? std::string("sysfs") : name;
  if (name.empty()) {
    return success();  // no /etc overrides
  }

  struct statvfs sys {};

  if (::statvfs("/sys", &sys) == 0 && (sys.f_flag & ST_RDONLY) != 0) {
    p.sys_flags = MS_RDONLY;
  }
  const std::string dir = std::string(netns::etc_dir) + "/" + name;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) {
      return success();  // no overrides
    }
    return detail::sys::last_error("open").on(dir);
  }
  while (const dirent* e = ::readdir(d.get())) {
    std::string_view entry = e->d_name;
    if (entry != "." && entry != "..") {
      p.etc.emplace_back(dir + "/" + e->d_name, std::string("/etc/") + e->d_name);
    }
  }
  std::sort(p.etc.begin(), p.etc.end());
  return success();
}

inline result<void> prepare(const CommandSpec& c, Plan& p) {
  p.cmd = &c;
  NSFUN_TRYV(check_ids(c));
  // Environment first: PATH lookup uses the child's PATH.
  if (!c.clear_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      p.env_storage.emplace_back(*e);
    }
  }
  for (const auto& [key, value] : c.env) {
    std::string prefix = key + "=";
    std::erase_if(p.env_storage, [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
    p.env_storage.push_back(prefix + value);
  }
  const char* path_env = nullptr;
  for (const std::string& s : p.env_storage) {
    if (s.rfind("PATH=", 0) == 0) {
      path_env = s.c_str() + 5;
    }
  }
  if (!c.fn && !c.hold) {
    if (c.program.empty()) {
      return errno_error(ENOENT, "find program").because("empty program name");
    }
    if (c.program.find('/') == std::string::npos &&
        (c.chroot || c.chroot_fd >= 0 || joins(c, NsType::mnt))) {
      // The child sees another filesystem (a chroot, a joined mount namespace): it searches PATH
      // there itself, as execvp would, trying each candidate in turn.
      std::string_view dirs = path_env != nullptr ? path_env : default_path;
      while (true) {
        const std::size_t colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        if (!dir.empty()) {
          p.candidates.push_back(std::string(dir) + "/" + c.program);
        }
        if (colon == std::string_view::npos) {
          break;
        }
        dirs.remove_prefix(colon + 1);
      }
    } else {
      NSFUN_TRY(p.path, resolve(c, c.program, path_env));
    }
  }
  for (const std::string& a : c.args) {
    p.argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execve's signature
  }
  p.argv.push_back(nullptr);
  for (std::string& s : p.env_storage) {
    p.envp.push_back(s.data());
  }
  p.envp.push_back(nullptr);
  // Join the user namespace first: it grants the rights to join the rest.
  for (int pass = 0; pass < 2; ++pass) {
    for (const NsFd* ns : c.join) {
      if ((ns->type() == NsType::user) == (pass == 0)) {
        p.join_fds.push_back(ns->get());
        p.join_names.push_back(ns->identity().to_string());
      }
      if (pass == 0 && ns->type() == NsType::pid) {
        p.relay = true;  // setns(pid) moves only our children: the program must be one
      }
    }
  }
  if (c.netns) {
    NSFUN_TRYV(prepare_netns(c, p));
  }
  if (c.rootfs) {
    struct stat st {};

    if (::stat(c.rootfs->c_str(), &st) < 0) {
      return detail::sys::last_error("check rootfs").on(*c.rootfs);
    }
    if (!S_ISDIR(st.st_mode)) {
      return errno_error(ENOTDIR, "check rootfs").on(*c.rootfs);
    }
  }
  if (c.chroot && !c.rootfs && !joins(c, NsType::mnt)) {
    struct stat st {};

    if (::stat(c.chroot->c_str(), &st) < 0) {
      return detail::sys::last_error("check chroot").on(*c.chroot);
    }
    if (!S_ISDIR(st.st_mode)) {
      return errno_error(ENOTDIR, "check chroot").on(*c.chroot);
    }
  }
  p.made_mnt = makes_mnt(c);
  p.late_mnt = c.netns.has_value();
  p.new_mnt = (c.fresh.contains(NsType::mnt) || p.made_mnt) && !p.late_mnt;
  if (c.mount_proc) {
    p.proc_target = c.rootfs ? *c.rootfs + "/proc" : "/proc";
  }
  if (c.fresh.contains(NsType::pid) && c.init) {
    p.relay = true;
  }
  if (p.relay) {
    find_title(p);
  }
  if (c.seccomp) {
    NSFUN_TRY(p.seccomp, with_context(c.seccomp->compile(), "spawn"));
  }
  if (c.filesystem) {
    // mknod is refused in any user namespace but the initial one: the child is in another when
    // it makes or joins one, or when the caller already is.
    struct stat user_ns {};

    const bool other_user_ns =
        c.fresh.contains(NsType::user) || joins(c, NsType::user) ||
        (::stat("/proc/self/ns/user", &user_ns) == 0 && user_ns.st_ino != init_user_ns_ino);
    NSFUN_TRY(p.fs,
              with_context(detail::container_fs::prepare(*c.filesystem, *c.rootfs, other_user_ns),
                           "spawn"));
  }
  return success();
}

// What clone3 was asked to do, for its error: "new uts,mnt into cgroup /sys/fs/cgroup/x".
inline error clone_error(int err, NsTypeSet fresh, int cgroup) noexcept {
  error e = errno_error(err, "clone3");
  try {
    std::string what = fresh.empty() ? std::string() : "new " + fresh.to_string();
    if (cgroup >= 0) {
      char link[PATH_MAX] = {};
      std::string fd_path = "/proc/self/fd/" + std::to_string(cgroup);
      ssize_t n = ::readlink(fd_path.c_str(), link, sizeof(link) - 1);
      what += what.empty() ? "into cgroup " : " into cgroup ";
      what +=
          n > 0 ? std::string(link, static_cast<std::size_t>(n)) : "fd " + std::to_string(cgroup);
    }
    e.on(what);
  } catch (const std::bad_alloc&) {
    // the error without its object
  }
  return sys::with_limit_note(e, fresh);
}

inline ExitStatus status_of(const siginfo_t& info) noexcept {
  ExitStatus s;
  if (info.si_code == CLD_EXITED) {
    s.code = info.si_status;
  } else {
    s.signal = info.si_status;
  }
  return s;
}

}  // namespace nsfun::detail::spawn_parent

namespace nsfun {

NSFUN_INLINE result<Child> spawn(const Command& cmd) noexcept {
  const CommandSpec& c = cmd.spec();
  NSFUN_TRYV(detail::spawn_parent::check_namespaces(c));
  detail::spawn_child::Plan p;
  try {
    NSFUN_TRYV(detail::spawn_parent::check_settings(c));
    NSFUN_TRYV(detail::spawn_parent::prepare(c, p));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "spawn").on(c.fn ? std::string_view("function") : c.program);
  }
  int sync[2];
  int err[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) {
    return detail::sys::last_error("pipe2");
  }
  UniqueFd sync_r = UniqueFd::adopt(sync[0]);  // owns: just made
  UniqueFd sync_w = UniqueFd::adopt(sync[1]);  // owns: just made
  if (::pipe2(err, O_CLOEXEC) < 0) {
    return detail::sys::last_error("pipe2");
  }
  UniqueFd err_r = UniqueFd::adopt(err[0]);  // owns: just made
  UniqueFd err_w = UniqueFd::adopt(err[1]);  // owns: just made
  p.sync_r = sync[0];
  p.sync_w = sync[1];
  p.err_r = err[0];
  p.err_w = err[1];
  // Command::capture_stdout, capture_stderr: the child's ends become its fd 1 and 2.
  UniqueFd out_r;
  UniqueFd out_w;
  UniqueFd errout_r;
  UniqueFd errout_w;
  for (bool is_err : {false, true}) {
    if (!(is_err ? c.capture_stderr : c.capture_stdout)) {
      continue;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
      return detail::sys::last_error("pipe2").on(is_err ? "capture_stderr" : "capture_stdout");
    }
    (is_err ? errout_r : out_r) = UniqueFd::adopt(fds[0]);  // owns: just made
    (is_err ? errout_w : out_w) = UniqueFd::adopt(fds[1]);  // owns: just made
  }
  p.out_r = out_r.get();
  p.out_w = out_w.get();
  p.errout_r = errout_r.get();
  p.errout_w = errout_w.get();

  NsTypeSet fresh = c.fresh;
  if (p.new_mnt) {
    fresh.insert(NsType::mnt);
  }
  if (p.late_mnt) {
    fresh.erase(NsType::mnt);  // made by the child after the joins (netns)
  }
  if (c.offsets) {
    fresh.erase(NsType::time);  // made by the child with unshare, so it can set the offsets
  }
  int pidfd = -1;
  detail::spawn_child::CloneArgs args{};
  args.flags = static_cast<std::uint64_t>(static_cast<unsigned>(fresh.clone_flags())) |
               detail::spawn_child::clone_pidfd;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);  // NOLINT: the kernel's ABI
  args.exit_signal = SIGCHLD;
  if (c.cgroup >= 0) {
    args.flags |= detail::spawn_child::clone_into_cgroup;
    args.cgroup = static_cast<std::uint64_t>(c.cgroup);
  }
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    return detail::spawn_parent::clone_error(errno, fresh, c.cgroup);
  }
  if (pid == 0) {
    detail::spawn_child::child_main(p);
  }

  Child child;
  child.pid_ = static_cast<pid_t>(pid);
  child.pidfd_ = UniqueFd::adopt(pidfd);  // owns: CLONE_PIDFD gives us a new cloexec fd
  child.stdout_ = std::move(out_r);
  child.stderr_ = std::move(errout_r);
  sync_r.reset();
  err_w.reset();
  out_w.reset();
  errout_w.reset();
  // From here every failure returns with `child` going out of scope: killed and reaped.
  if (!c.rlimits.empty() || c.oom_score_adj) {
    try {
      NSFUN_TRYV(detail::spawn_parent::set_limits(c, child.pid_));
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "spawn").on("pid ", child.pid_);
    }
  }
  if (c.map) {
    NSFUN_TRYV(c.map->apply(child.pid_));
  }
  if (::write(sync_w.get(), "g", 1) != 1) {
    return detail::sys::last_error("wake child").on("pid ", child.pid_);
  }
  sync_w.reset();
  detail::spawn_child::Report report;
  if (detail::sys::read_full(err_r.get(), &report, sizeof(report))) {
    (void)child.wait();
    return report.to_error();
  }
  return child;
}

NSFUN_INLINE Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, false)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)) {}

NSFUN_INLINE Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    dispose();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::move(other.pidfd_);
    reaped_ = std::exchange(other.reaped_, false);
    stdout_ = std::move(other.stdout_);
    stderr_ = std::move(other.stderr_);
  }
  return *this;
}

NSFUN_INLINE Child::~Child() {
  dispose();
}

NSFUN_INLINE void Child::dispose() noexcept {
  if (pid_ > 0 && !reaped_) {
    (void)kill();
    (void)wait();
  }
  pid_ = 0;
  pidfd_.reset();
  reaped_ = false;
  stdout_.reset();
  stderr_.reset();
}

NSFUN_INLINE result<void> Child::usable(int err, std::string_view what) const noexcept {
  if (pid_ <= 0) {
    return errno_error(err, what).because("no process (an empty, moved-from or detached Child)");
  }
  if (reaped_) {
    return errno_error(err, what).on("pid ", pid_).because("already waited for");
  }
  return success();
}

NSFUN_INLINE result<ExitStatus> Child::wait() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0) {
    if (errno != EINTR) {
      return detail::sys::last_error("waitid").on("pid ", pid_);
    }
  }
  reaped_ = true;
  return detail::spawn_parent::status_of(info);
}

NSFUN_INLINE result<Output> Child::wait_with_output() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  Output o;
  try {
    UniqueFd* pipes[2] = {&stdout_, &stderr_};
    std::string* sinks[2] = {&o.out, &o.err};
    char buf[16384];
    while (*pipes[0] || *pipes[1]) {
      pollfd fds[2] = {};
      for (int i = 0; i < 2; ++i) {
        fds[i].fd = pipes[i]->get();  // -1 for a closed one: poll skips it
        fds[i].events = POLLIN;
      }
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        return detail::sys::last_error("poll").on("output of pid ", pid_);
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) {
          continue;
        }
        const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n > 0) {
          sinks[i]->append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
          pipes[i]->reset();  // end of file
        } else if (errno != EINTR && errno != EAGAIN) {
          return detail::sys::last_error("read").on(i == 0 ? "stdout" : "stderr", " of pid ", pid_);
        }
      }
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read").on("output of pid ", pid_);
  }
  NSFUN_TRY(o.status, wait());
  return o;
}

NSFUN_INLINE result<std::optional<ExitStatus>> Child::try_wait() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) < 0) {
    return detail::sys::last_error("waitid").on("pid ", pid_);
  }
  if (info.si_pid == 0) {
    return std::optional<ExitStatus>();
  }
  reaped_ = true;
  return std::optional<ExitStatus>(detail::spawn_parent::status_of(info));
}

NSFUN_INLINE result<void> Child::signal(int sig) noexcept {
  NSFUN_TRYV(usable(ESRCH, "pidfd_send_signal"));
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0U) < 0) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev != nullptr) {
      return detail::sys::last_error("pidfd_send_signal").on("SIG", abbrev, " to pid ", pid_);
    }
    return detail::sys::last_error("pidfd_send_signal").on("signal ", sig, " to pid ", pid_);
  }
  return success();
}

NSFUN_INLINE result<void> Child::kill() noexcept {
  return signal(SIGKILL);
}

NSFUN_INLINE void Child::detach() noexcept {
  pid_ = 0;
  pidfd_.reset();
  reaped_ = false;
  stdout_.reset();
  stderr_.reset();
}

}  // namespace nsfun

// SPDX-License-Identifier: MIT
// nsfun (private) – spawn's child: what it runs between clone3 and execve.
//
// Between clone3 and execve the child runs on a copy of a possibly multithreaded parent: another
// thread may have held the malloc lock at the moment of the clone. So the child makes only
// async-signal-safe calls (raw syscalls, no allocation); everything that allocates (argv, envp,
// paths, the names of joined namespaces) is prepared by the parent beforehand, in a Plan. The
// library functions it shares with the rest of nsfun (detail::pivot_root_here,
// detail::write_time_offsets) are written to that rule too. When a step fails, the child sends
// the error through a pipe in one fixed-size write (a Report); the parent returns it from
// spawn().
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/detail/spawn_init.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/error.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/time_ns.hpp>

namespace nsfun::detail::spawn_child {

// Kernel constants older headers lack (clone3 flags from 5.2 and 5.7, close_range from 5.11).
inline constexpr std::uint64_t clone_pidfd = 0x00001000;
inline constexpr std::uint64_t clone_into_cgroup = 0x200000000ULL;
inline constexpr unsigned close_range_cloexec = 1U << 2;

// clone3's argument (linux/sched.h has it from 5.3, the cgroup field from 5.7; spelled out for
// older headers).
struct CloneArgs {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
  std::uint64_t set_tid;
  std::uint64_t set_tid_size;
  std::uint64_t cgroup;
};

// Everything the child needs, made by the parent before clone3.
struct Plan {
  const CommandSpec* cmd = nullptr;
  std::string path;                     // resolved program
  std::vector<std::string> candidates;  // or the PATH entries the child tries (another root)
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<int> join_fds;
  std::vector<std::string> join_names;  // what each join_fds entry is, for errors
  NetNs netns;                          // Command::netns(NAME): the namespace it opened
  int netns_fd = -1;            // the network namespace of Command::netns (either form); -1 without
  std::string sysfs_source;     // the source of its /sys mount
  unsigned long sys_flags = 0;  // how to mount its /sys
  std::vector<std::pair<std::string, std::string>> etc;  // /etc/netns/NAME/x → /etc/x
  std::string proc_target;                               // where to mount proc
  bool new_mnt = false;   // clone3 with CLONE_NEWNS (asked for, or implied by a mount setting)
  bool made_mnt = false;  // the child's mount namespace is that new one (none is joined)
  bool late_mnt = false;  // the child unshares a mount namespace after the joins (netns)
  bool relay = false;     // fork once more: init of a new pid namespace, or after joining one
  int sync_r = -1;
  int sync_w = -1;
  int err_r = -1;
  int err_w = -1;
  int out_r = -1;     // Command::capture_stdout: the parent's end, closed in the child
  int out_w = -1;     // and the child's, its fd 1
  int errout_r = -1;  // Command::capture_stderr
  int errout_w = -1;
  spawn_init::Title title;  // where the caller's argv and environ strings lie (the init's title)
  std::optional<SeccompProgram> seccomp;             // Command::seccomp, compiled
  std::optional<detail::container_fs::Prepared> fs;  // Command::filesystem, prepared
};

// A failed step's error as the child sends it: one write of less than PIPE_BUF bytes, which
// arrives whole. The child is a copy of the parent's memory (clone3 without CLONE_VM), so the
// step (an error's `what` is always static text) and the error category are sent as the
// addresses they have in both; the text parts are copied.
struct Report {
  const char* what = nullptr;
  std::size_t what_len = 0;
  const std::error_category* category = nullptr;
  int value = 0;
  std::uint8_t len[4] = {};  // object, reason, note, context
  char text[error::capacity()] = {};

  [[nodiscard]] static Report of(const error& e) noexcept {
    Report r;
    r.what = e.what.data();
    r.what_len = e.what.size();
    r.category = &e.code.category();
    r.value = e.code.value();
    std::size_t used = 0;
    const std::string_view parts[4] = {e.object(), e.reason(), e.note(), e.context()};
    for (std::size_t i = 0; i < 4; ++i) {
      std::size_t n = std::min(parts[i].size(), sizeof(r.text) - used);
      if (n > 0) {
        std::memcpy(r.text + used, parts[i].data(), n);
      }
      r.len[i] = static_cast<std::uint8_t>(n);
      used += n;
    }
    return r;
  }

  // The error again, in the parent.
  [[nodiscard]] error to_error() const noexcept {
    if (category == nullptr) {
      return errno_error(EIO, "spawn").because("the child sent an empty report");
    }
    error e{std::error_code(value, *category), std::string_view(what, what_len)};
    std::string_view parts[4];
    std::size_t used = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      std::size_t n = std::min<std::size_t>(len[i], sizeof(text) - used);
      parts[i] = std::string_view(text + used, n);
      used += n;
    }
    e.on(parts[0]);
    if (!parts[1].empty()) {
      e.because(parts[1]);
    }
    if (!parts[2].empty()) {
      e.with_note(parts[2]);
    }
    if (!parts[3].empty()) {
      e.with_context(parts[3]);
    }
    return e;
  }
};

static_assert(sizeof(Report) <= PIPE_BUF, "a report must be one atomic pipe write");

// Sends the error of a failed step and exits.
[[noreturn]] inline void fail(const Plan& p, const error& e) noexcept {
  const Report r = Report::of(e);
  (void)!::write(p.err_w, &r, sizeof(r));
  ::_exit(127);
}

// Capability sets as capget(2)/capset(2) take them (linux/capability.h, version 3: two words).
struct CapHeader {
  std::uint32_t version = 0x20080522;
  int pid = 0;
};

struct CapData {
  std::uint32_t effective;
  std::uint32_t permitted;
  std::uint32_t inheritable;
};

// The errno of the call that just failed, at step `what` (static text), on the
// pieces of `object`.
template <class... A>
[[noreturn]] void fail_errno(const Plan& p, std::string_view what, const A&... object) noexcept {
  fail(p, errno_error(errno, what).on(object...));
}

// The error of a failed setresuid/setresgid/setgroups, naming the id; EINVAL is the kernel's
// word for an id with no mapping in the caller's user namespace.
template <class... A>
[[noreturn]] void fail_id(const Plan& p, std::string_view what, const A&... object) noexcept {
  error e = errno_error(errno, what).on(object...);
  if (e.code == std::errc::invalid_argument) {
    e.because("not mapped in the child's user namespace");
  }
  fail(p, e);
}

// Command::keep_caps, after setresuid: the permitted capabilities become inheritable and
// ambient, so that they survive the exec of a program without file capabilities.
inline void raise_ambient(const Plan& p) noexcept {
  CapHeader h;
  CapData d[2] = {};
  if (::syscall(SYS_capget, &h, d) < 0) {
    fail_errno(p, "capget", "the child's capabilities");
  }
  d[0].inheritable = d[0].permitted;
  d[1].inheritable = d[1].permitted;
  if (::syscall(SYS_capset, &h, d) < 0) {
    fail_errno(p, "capset", "inheritable = permitted");
  }
  for (unsigned cap = 0; cap < 64; ++cap) {
    if ((d[cap / 32].permitted & (1U << (cap % 32))) != 0 &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      fail_errno(p, "prctl PR_CAP_AMBIENT_RAISE", "capability ", cap);
    }
  }
}

// Command::chroot, cwd, the capabilities' bounding set, groups, gid, uid, the other
// capability sets and keep_caps, in that order.
inline void change_root_and_identity(const Plan& p, bool groups_dropped) noexcept {
  const CommandSpec& c = *p.cmd;
  if (c.chroot_fd >= 0) {
    if (::fchdir(c.chroot_fd) < 0) {
      fail_errno(p, "fchdir", "chroot fd ", c.chroot_fd);
    }
    if (::chroot(".") < 0) {
      fail_errno(p, "chroot", "fd ", c.chroot_fd);
    }
  } else if (c.chroot && ::chroot(c.chroot->c_str()) < 0) {
    fail_errno(p, "chroot", *c.chroot);
  }
  if (c.cwd_fd >= 0) {
    if (::fchdir(c.cwd_fd) < 0) {
      fail_errno(p, "fchdir", "cwd fd ", c.cwd_fd);
    }
  } else if (c.cwd) {
    if (::chdir(c.cwd->c_str()) < 0) {
      fail_errno(p, "chdir", *c.cwd);
    }
  } else if ((c.chroot_fd >= 0 || c.chroot) && ::chdir("/") < 0) {
    fail_errno(p, "chdir", "/ after chroot");
  }
  if (c.capabilities) {
    // Before the uid change: cutting the bounding set needs CAP_SETPCAP.
    if (auto r = security::drop_bounding(*c.capabilities); !r) {
      fail(p, r.assume_error());
    }
  }
  if (c.groups) {
    const std::size_t n = c.groups->size();
    if (::setgroups(n, c.groups->data()) < 0 && !(n == 0 && errno == EPERM && groups_dropped)) {
      if (n == 0) {
        fail_errno(p, "setgroups", "no groups");
      }
      fail_id(p, "setgroups", n, " groups, from gid ", c.groups->front());
    }
  }
  if (c.gid && ::setresgid(*c.gid, *c.gid, *c.gid) < 0) {
    fail_id(p, "setresgid", "gid ", *c.gid);
  }
  // Keep the permitted set across a change away from uid 0: keep_caps raises it into the
  // ambient set, capabilities() sets what it asks from it.
  if ((c.keep_caps || c.capabilities) && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
    fail_errno(p, "prctl PR_SET_KEEPCAPS");
  }
  if (c.uid && ::setresuid(*c.uid, *c.uid, *c.uid) < 0) {
    fail_id(p, "setresuid", "uid ", *c.uid);
  }
  if (c.capabilities) {
    if (auto r = security::apply_sets(*c.capabilities); !r) {
      fail(p, r.assume_error());
    }
  }
  if (c.keep_caps) {
    raise_ambient(p);
  }
}

// Command::setsid and controlling_terminal.
inline void start_session(const Plan& p) noexcept {
  const CommandSpec& c = *p.cmd;
  // A controlling terminal needs a session of the child's own, even after setsid(false).
  if ((c.setsid || c.controlling_terminal >= 0) && ::setsid() < 0) {
    fail_errno(p, "setsid");
  }
  if (c.controlling_terminal >= 0 && ::ioctl(c.controlling_terminal, TIOCSCTTY, 0) < 0) {
    error e = errno_error(errno, "ioctl TIOCSCTTY")
                  .on("controlling_terminal fd ", c.controlling_terminal);
    if (e.code == std::errc::operation_not_permitted) {
      e.because("it is the controlling terminal of another session");
    }
    fail(p, e);
  }
}

// Command::capture_stdout and capture_stderr, after the redirects: the pipes become fd 1 and 2.
// The originals are close-on-exec; without an exec (a function, a hold) they are closed here.
inline void connect_captures(const Plan& p) noexcept {
  const int pipes[2] = {p.out_w, p.errout_w};
  for (int i = 0; i < 2; ++i) {
    if (pipes[i] < 0) {
      continue;
    }
    if (::dup2(pipes[i], i + 1) < 0) {
      fail_errno(p, "dup2", i == 0 ? "capture_stdout" : "capture_stderr", " pipe to fd ", i + 1);
    }
    if (pipes[i] != i + 1) {
      ::close(pipes[i]);
    }
  }
}

[[noreturn]] inline void child_main(const Plan& p) noexcept {
  const CommandSpec& c = *p.cmd;
  ::close(p.sync_w);
  ::close(p.err_r);
  for (int fd : {p.out_r, p.errout_r}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  if (c.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  }
  // Wait until the parent wrote the maps. EOF: the parent gave up (or died); leave quietly.
  char go = 0;
  ssize_t n = 0;
  while ((n = ::read(p.sync_r, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) {
    ::_exit(127);
  }
  ::close(p.sync_r);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // groups({}): drop the groups while still in the caller's user namespace too, where a joined
  // one's setgroups "deny" does not apply (the ids of an empty list mean the same everywhere).
  const bool groups_dropped = c.groups && c.groups->empty() && ::setgroups(0, nullptr) == 0;
  for (std::size_t i = 0; i < p.join_fds.size(); ++i) {
    if (::setns(p.join_fds[i], 0) < 0) {
      fail_errno(p, "setns", p.join_names[i]);
    }
  }
  if (p.relay) {
    // The relay forks first: setns(pid) moves only its children, and everything from here on
    // (a /proc mount in particular, which shows the mounter's pid namespace) must happen in the
    // process that runs the program. To exec a program, vfork: the main child shares our memory
    // only until its execve (or _exit after a failed step), and no page tables are copied. A
    // function (or a hold) gets a real fork.
    //
    // The relay is renamed "init" (spawn_init::set_title) before a vfork, so that the program
    // never sees PID 1 under the launcher's name: the main child shares the renamed memory only
    // until its execve, whose argv and envp are the Plan's own copies. A function needs the
    // caller's argv and environ as they were (getenv): the init renames its own copy after the
    // fork.
    const bool forks = c.fn || c.hold;
    if (!forks) {
      spawn_init::set_title(p.title);
    }
    pid_t main_child = forks ? ::fork() : ::vfork();
    if (main_child < 0) {
      fail_errno(p, "fork init");
    }
    if (main_child > 0) {
      ::close(p.err_w);  // only the main child reports from here on
      for (int fd : {p.out_w, p.errout_w}) {
        if (fd >= 0) {
          ::close(fd);  // the captured output ends when the program's processes end
        }
      }
      // Read c again rather than `forks`, a local that vfork's child could have clobbered
      // (GCC -Wclobbered at -O1: the child runs on in this frame until its execve).
      if (c.fn || c.hold) {
        spawn_init::set_title(p.title);
      }
      spawn_init::run_init(main_child);
    }
  }
  if (c.hostname && ::sethostname(c.hostname->data(), c.hostname->size()) < 0) {
    fail_errno(p, "sethostname", *c.hostname);
  }
  if (c.domainname && ::setdomainname(c.domainname->data(), c.domainname->size()) < 0) {
    fail_errno(p, "setdomainname", *c.domainname);
  }
  if (c.offsets) {
    // Offsets can be written only before any process is in the namespace: unshare makes it the
    // namespace of our children and of our next execve, and nobody is in it yet.
    if (::unshare(sys::clone_newtime) < 0) {
      fail_errno(p, "unshare CLONE_NEWTIME");
    }
    auto r = write_time_offsets("/proc/self/timens_offsets",
                                TimeOffsets{c.offsets->first, c.offsets->second});
    if (!r) {
      fail(p, r.assume_error());
    }
  }
  if (p.made_mnt && !c.keep_propagation) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
      fail_errno(p, "mount --make-rprivate /");
    }
  }
  // Command::netns binds over /sys and /etc in a mount namespace of its own, made here after the
  // joins, on top of the caller's or a joined one (which is never changed itself), and owned by
  // the user namespace the child is in now (so that it may mount there). It is always a
  // recursive slave, whatever keep_propagation says, as ip netns exec makes it: nothing goes
  // back.
  if (p.late_mnt) {
    if (::unshare(CLONE_NEWNS) < 0) {
      fail_errno(p, "unshare CLONE_NEWNS", "for netns ", *c.netns);
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
      fail_errno(p, "mount --make-rslave /");
    }
  }
  if (p.netns_fd >= 0) {
    // As ip netns exec: a sysfs of the joined network namespace over the caller's (which may not
    // be mounted at all: then there is nothing to detach), then the /etc/netns/NAME overrides.
    (void)::umount2("/sys", MNT_DETACH);
    if (::mount(p.sysfs_source.c_str(), "/sys", "sysfs", p.sys_flags, nullptr) < 0) {
      fail_errno(p, "mount sysfs on /sys", "for netns ", *c.netns);
    }
    for (const auto& [source, target] : p.etc) {
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        fail_errno(p, "mount --bind", source, " on ", target);
      }
    }
  }
  if (c.rootfs &&
      ::mount(c.rootfs->c_str(), c.rootfs->c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    fail_errno(p, "mount --rbind", *c.rootfs, " on itself");
  }
  if (!p.proc_target.empty() && ::mount("proc", p.proc_target.c_str(), "proc",
                                        MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    fail_errno(p, "mount proc on", p.proc_target);
  }
  if (p.fs) {
    // Binds, tmpfs and /dev inside the rootfs, while the host's paths are still visible.
    if (auto r = container_fs::before_pivot(*p.fs); !r) {
      fail(p, r.assume_error());
    }
  }
  if (c.rootfs) {
    // The library's own pivot_root_into, without its checks (the parent checked the rootfs).
    if (auto r = pivot_root_here(c.rootfs->c_str()); !r) {
      fail(p, r.assume_error());
    }
  }
  if (p.fs) {
    // Masked and read-only paths (the new /proc is there), then the read-only root.
    if (auto r = container_fs::after_pivot(*p.fs); !r) {
      fail(p, r.assume_error());
    }
  }
  change_root_and_identity(p, groups_dropped);
  start_session(p);
  // Only 0, 1, 2 and the redirected fds reach the program: mark everything else close-on-exec
  // (the error pipe already is, and must stay open until exec).
  ::syscall(SYS_close_range, 3U, ~0U, close_range_cloexec);
  for (auto [target, source] : c.redirects) {
    if (target == source) {
      if (::fcntl(target, F_SETFD, 0) < 0) {
        fail_errno(p, "clear FD_CLOEXEC of", "fd ", target);
      }
    } else if (::dup2(source, target) < 0) {
      fail_errno(p, "dup2", "fd ", source, " to fd ", target);
    }
  }
  connect_captures(p);
  // The very last steps: no_new_privs, then the filter (which may deny what came before).
  if (c.no_new_privs) {
    if (auto r = security::set_no_new_privs(); !r) {
      fail(p, r.assume_error());
    }
  }
  if (p.seccomp) {
    if (auto r = security::load_seccomp(*p.seccomp); !r) {
      fail(p, r.assume_error());
    }
  }
  if (c.hold) {
    ::close(p.err_w);
    spawn_init::hold();
  }
  if (c.fn) {
    ::close(p.err_w);
    ::_exit(c.fn());
  }
  if (!p.candidates.empty()) {
    // execvp's search, in the child's own filesystem view: the first candidate that exists;
    // a refusal (EACCES) is reported only when no later one runs.
    int refused = 0;
    for (const std::string& candidate : p.candidates) {
      ::execve(candidate.c_str(), p.argv.data(), p.envp.data());
      if (errno != ENOENT && errno != ENOTDIR) {
        refused = errno;
      }
    }
    if (refused != 0) {
      fail(p, errno_error(refused, "execve").on(c.program, " in PATH"));
    }
    fail(p, errno_error(ENOENT, "find program").on(c.program, " in PATH"));
  }
  ::execve(p.path.c_str(), p.argv.data(), p.envp.data());
  fail_errno(p, "execve", p.path);
}

}  // namespace nsfun::detail::spawn_child

// SPDX-License-Identifier: MIT
// nsfun – spawn(): clone3 into new namespaces, with the parent finishing setup first.
//
// Between clone3 and execve the child runs on a copy of a possibly multithreaded parent: another
// thread may have held the malloc lock at the moment of the clone. So the child makes only
// async-signal-safe calls (raw syscalls, no allocation); everything that allocates (argv, envp,
// paths, the offsets text, the names of joined namespaces) is prepared by the parent beforehand.
// When a step fails, the child reports the step, errno and the object's text through a pipe in
// one fixed-size write; the parent turns that into the error spawn() returns.

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
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/detail/sys.hpp>
#include <nsfun/detail/time_ns_text.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/spawn.hpp>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in a header

// Older kernel headers lack these (clone3 flags from 5.2 and 5.7, close_range from 5.11).
#ifndef CLONE_PIDFD
#  define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#  define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#  define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace nsfun {

namespace {

// The steps the child can fail at; it reports the index, the parent names it.
enum Step : int {
  step_setns,
  step_sethostname,
  step_setdomainname,
  step_time_unshare,
  step_time_open,
  step_time_offsets,
  step_make_private,
  step_make_slave,
  step_mount_sys,
  step_bind_etc,
  step_bind_rootfs,
  step_mount_proc,
  step_chdir,
  step_pivot_root,
  step_umount_old_root,
  step_keep_fd,
  step_dup2,
  step_fork_init,
  step_execve,
  step_count
};

constexpr std::string_view step_names[step_count] = {"setns",
                                                     "sethostname",
                                                     "setdomainname",
                                                     "unshare CLONE_NEWTIME",
                                                     "open /proc/self/timens_offsets",
                                                     "write timens_offsets",
                                                     "mount --make-rprivate /",
                                                     "mount --make-rslave /",
                                                     "mount sysfs on /sys",
                                                     "mount --bind",
                                                     "mount --rbind",
                                                     "mount proc on",
                                                     "chdir",
                                                     "pivot_root",
                                                     "umount old root",
                                                     "clear FD_CLOEXEC of",
                                                     "dup2",
                                                     "fork init",
                                                     "execve"};

// What the child sends when a step fails: the step, errno and the text of what it failed on
// (cut at what an error can hold). One write of less than PIPE_BUF bytes: it arrives whole.
struct Report {
  int step = step_count;
  int err = 0;
  std::uint32_t object_len = 0;
  char object[error::capacity()] = {};
};

static_assert(sizeof(Report) <= PIPE_BUF, "a report must be one atomic pipe write");

// Appends to a report's object text without allocating (async-signal-safe); text that does not
// fit is cut, and the last three bytes then say so ("...").
void put(Report& r, std::string_view s) noexcept {
  std::size_t n = std::min(s.size(), sizeof(r.object) - r.object_len);
  std::memcpy(r.object + r.object_len, s.data(), n);
  r.object_len += static_cast<std::uint32_t>(n);
  if (n < s.size()) {
    std::memcpy(r.object + sizeof(r.object) - 3, "...", 3);
  }
}

void put(Report& r, int n) noexcept {
  char tmp[16];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), n);
  (void)ec;
  put(r, std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
}

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
  std::string path;  // resolved program
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<int> join_fds;
  std::vector<std::string> join_names;                   // what each join_fds entry is, for errors
  NetNs netns;                                           // Command::netns: the named namespace
  unsigned long sys_flags = 0;                           // how to mount its /sys
  std::vector<std::pair<std::string, std::string>> etc;  // /etc/netns/NAME/x → /etc/x
  std::string proc_target;                               // where to mount proc
  std::string offsets;                                   // timens_offsets text
  std::string offsets_object;                            // the same on one line, for errors
  bool new_mnt = false;   // clone3 with CLONE_NEWNS (asked for, or implied by a mount setting)
  bool made_mnt = false;  // the child's mount namespace is that new one (none is joined)
  bool relay = false;     // fork once more: init of a new pid namespace, or after joining one
  int sync_r = -1;
  int sync_w = -1;
  int err_r = -1;
  int err_w = -1;
};

volatile pid_t forward_to = 0;  // the init's main child; used by its signal handler

extern "C" void forward_signal(int sig) {
  if (forward_to > 0) {
    ::kill(forward_to, sig);
  }
}

// PID 1 of a new pid namespace (or the relay after joining one): forward signals to the main
// child, reap every orphan that is reparented here, and exit with the main child's status.
[[noreturn]] void run_init(pid_t main_child) {
  forward_to = main_child;

  struct sigaction sa {};

  sa.sa_handler = forward_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT}) {
    ::sigaction(sig, &sa, nullptr);
  }

  struct sigaction dfl {};

  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(-1, &status, 0);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::_exit(127);  // ECHILD: the main child vanished without a status
    }
    if (w == main_child) {
      // PID 1 ignores its own default-action signals, so a killed child is reported the way
      // shells do: 128 + signal.
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

// Reports the failed step with errno and the pieces of its object's text, and exits.
template <class... A>
[[noreturn]] void child_fail(const Plan& p, Step step, const A&... object) {
  Report r;
  r.err = errno;
  r.step = step;
  (put(r, object), ...);
  (void)!::write(p.err_w, &r, sizeof(r));
  ::_exit(127);
}

[[noreturn]] void child_main(const Plan& p) {
  const CommandSpec& c = *p.cmd;
  ::close(p.sync_w);
  ::close(p.err_r);
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

  for (std::size_t i = 0; i < p.join_fds.size(); ++i) {
    if (::setns(p.join_fds[i], 0) < 0) {
      child_fail(p, step_setns, p.join_names[i]);
    }
  }
  if (p.relay) {
    // The relay forks first: setns(pid) moves only its children, and everything from here on
    // (a /proc mount in particular, which shows the mounter's pid namespace) must happen in the
    // process that runs the program. To exec a program, vfork: the main child shares our memory
    // only until its execve (or _exit after a failed step), and no page tables are copied. A
    // function gets a real fork.
    pid_t main_child = c.fn ? ::fork() : ::vfork();
    if (main_child < 0) {
      child_fail(p, step_fork_init);
    }
    if (main_child > 0) {
      ::close(p.err_w);  // only the main child reports from here on
      run_init(main_child);
    }
  }
  if (c.hostname && ::sethostname(c.hostname->data(), c.hostname->size()) < 0) {
    child_fail(p, step_sethostname, *c.hostname);
  }
  if (c.domainname && ::setdomainname(c.domainname->data(), c.domainname->size()) < 0) {
    child_fail(p, step_setdomainname, *c.domainname);
  }
  if (!p.offsets.empty()) {
    // Offsets can be written only before any process is in the namespace: unshare makes it the
    // namespace of our children and of our next execve, and nobody is in it yet.
    if (::unshare(detail::sys::clone_newtime) < 0) {
      child_fail(p, step_time_unshare);
    }
    int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      child_fail(p, step_time_open);
    }
    if (::write(fd, p.offsets.data(), p.offsets.size()) < 0) {
      child_fail(p, step_time_offsets, p.offsets_object);
    }
    ::close(fd);
  }
  // Command::netns binds over /sys and /etc: those must never propagate back, whatever
  // keep_propagation says, so it always gets a recursive slave (as ip netns exec does). A joined
  // mount namespace is left as it is.
  if (p.made_mnt && p.netns) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
      child_fail(p, step_make_slave);
    }
  } else if (p.made_mnt && !c.keep_propagation) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
      child_fail(p, step_make_private);
    }
  }
  if (p.netns) {
    // As ip netns exec: a sysfs of the joined network namespace over the caller's (which may not
    // be mounted at all: then there is nothing to detach), then the /etc/netns/NAME overrides.
    (void)::umount2("/sys", MNT_DETACH);
    if (::mount(c.netns->c_str(), "/sys", "sysfs", p.sys_flags, nullptr) < 0) {
      child_fail(p, step_mount_sys, "for netns ", *c.netns);
    }
    for (const auto& [source, target] : p.etc) {
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        child_fail(p, step_bind_etc, source, " on ", target);
      }
    }
  }
  if (c.rootfs &&
      ::mount(c.rootfs->c_str(), c.rootfs->c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    child_fail(p, step_bind_rootfs, *c.rootfs, " on itself");
  }
  if (!p.proc_target.empty() && ::mount("proc", p.proc_target.c_str(), "proc",
                                        MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    child_fail(p, step_mount_proc, p.proc_target);
  }
  if (c.rootfs) {
    // pivot_root(".", "."): the old root ends up stacked under the new one and is detached.
    if (::chdir(c.rootfs->c_str()) < 0) {
      child_fail(p, step_chdir, *c.rootfs);
    }
    if (::syscall(SYS_pivot_root, ".", ".") < 0) {
      child_fail(p, step_pivot_root, *c.rootfs);
    }
    if (::umount2(".", MNT_DETACH) < 0) {
      child_fail(p, step_umount_old_root);
    }
    if (::chdir("/") < 0) {
      child_fail(p, step_chdir, "/");
    }
  }
  if (c.cwd && ::chdir(c.cwd->c_str()) < 0) {
    child_fail(p, step_chdir, *c.cwd);
  }
  // Only 0, 1, 2 and the redirected fds reach the program: mark everything else close-on-exec
  // (the error pipe already is, and must stay open until exec).
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  for (auto [target, source] : c.redirects) {
    if (target == source) {
      if (::fcntl(target, F_SETFD, 0) < 0) {
        child_fail(p, step_keep_fd, "fd ", target);
      }
    } else if (::dup2(source, target) < 0) {
      child_fail(p, step_dup2, "fd ", source, " to fd ", target);
    }
  }
  if (c.fn) {
    ::close(p.err_w);
    ::_exit(c.fn());
  }
  ::execve(p.path.c_str(), p.argv.data(), p.envp.data());
  child_fail(p, step_execve, p.path);
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// PATH lookup done by the parent (execvpe may allocate). Inside a rootfs the candidates are
// checked under it but executed by their path inside.
result<std::string> resolve(const CommandSpec& c,
                            const std::string& program,
                            const char* path_env) {
  if (program.find('/') != std::string::npos) {
    return program;
  }
  std::string root = c.rootfs ? *c.rootfs : std::string();
  std::string_view dirs = path_env != nullptr
                              ? path_env
                              : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
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
bool joins(const CommandSpec& c, NsType t) noexcept {
  return (t == NsType::net && c.netns) ||
         std::any_of(c.join.begin(), c.join.end(), [t](const NsFd* ns) { return ns->type() == t; });
}

// Whether the child's mount namespace is a new one: asked for, or implied by mount_proc, rootfs
// or netns, and not replaced by a joined one.
bool makes_mnt(const CommandSpec& c) noexcept {
  return (c.fresh.contains(NsType::mnt) || c.mount_proc || c.rootfs || c.netns) &&
         !joins(c, NsType::mnt);
}

// The refusal of a setting whose namespace the child would not have made or joined.
error needs(std::string_view setting, std::string_view which, NsType t) noexcept {
  return nsfun_error(errc::namespace_not_new, "spawn")
      .because(setting, " needs a ", which, " ", name(t), " namespace");
}

// Refuses, before anything is cloned, every setting that would apply to a namespace the child
// shares with the caller (the host's hostname, say) or that cannot take effect.
result<void> check_namespaces(const CommandSpec& c) noexcept {
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
  if (c.keep_propagation && !makes_mnt(c)) {
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

// Command::netns: open the named namespace and list the /etc overrides, here where allocating
// is safe; the child only mounts.
result<void> prepare_netns(const CommandSpec& c, Plan& p) {
  NSFUN_TRY(p.netns, netns::open(*c.netns));
  p.join_fds.push_back(p.netns.get());  // after any user namespace, which may own it
  p.join_names.push_back(std::string(netns::run_dir) + "/" + *c.netns);

  struct statvfs sys {};

  if (::statvfs("/sys", &sys) == 0 && (sys.f_flag & ST_RDONLY) != 0) {
    p.sys_flags = MS_RDONLY;
  }
  const std::string dir = std::string(netns::etc_dir) + "/" + *c.netns;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) {
      return success();  // no overrides
    }
    return detail::sys::last_error("open").on(dir);
  }
  while (const dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      p.etc.emplace_back(dir + "/" + e->d_name, std::string("/etc/") + e->d_name);
    }
  }
  std::sort(p.etc.begin(), p.etc.end());
  return success();
}

result<void> prepare(const CommandSpec& c, Plan& p) {
  p.cmd = &c;
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
  if (!c.fn) {
    if (c.program.empty()) {
      return errno_error(ENOENT, "find program").because("empty program name");
    }
    NSFUN_TRY(p.path, resolve(c, c.program, path_env));
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
  p.made_mnt = makes_mnt(c);
  p.new_mnt = c.fresh.contains(NsType::mnt) || p.made_mnt;
  if (c.mount_proc) {
    p.proc_target = c.rootfs ? *c.rootfs + "/proc" : "/proc";
  }
  if (c.offsets) {
    p.offsets = detail::time_offsets_text(TimeOffsets{c.offsets->first, c.offsets->second});
    p.offsets_object = p.offsets;
    std::replace(p.offsets_object.begin(), p.offsets_object.end(), '\n', ' ');
    while (!p.offsets_object.empty() && p.offsets_object.back() == ' ') {
      p.offsets_object.pop_back();
    }
  }
  if (c.fresh.contains(NsType::pid) && c.init) {
    p.relay = true;
  }
  return success();
}

// What clone3 was asked to do, for its error: "new uts,mnt into cgroup /sys/fs/cgroup/x".
error clone_error(int err, NsTypeSet fresh, int cgroup) noexcept {
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
  return e;
}

}  // namespace

result<Child> spawn(const Command& cmd) noexcept {
  const CommandSpec& c = cmd.spec();
  NSFUN_TRYV(check_namespaces(c));
  Plan p;
  try {
    NSFUN_TRYV(prepare(c, p));
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

  NsTypeSet fresh = c.fresh;
  if (p.new_mnt) {
    fresh.insert(NsType::mnt);
  }
  if (c.offsets) {
    fresh.erase(NsType::time);  // made by the child with unshare, so it can set the offsets
  }
  int pidfd = -1;
  CloneArgs args{};
  args.flags = static_cast<std::uint64_t>(static_cast<unsigned>(fresh.clone_flags())) | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);  // NOLINT: the kernel's ABI
  args.exit_signal = SIGCHLD;
  if (c.cgroup >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(c.cgroup);
  }
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    return clone_error(errno, fresh, c.cgroup);
  }
  if (pid == 0) {
    child_main(p);
  }

  Child child;
  child.pid_ = static_cast<pid_t>(pid);
  child.pidfd_ = UniqueFd::adopt(pidfd);  // owns: CLONE_PIDFD gives us a new cloexec fd
  sync_r.reset();
  err_w.reset();
  // From here every failure returns with `child` going out of scope: killed and reaped.
  if (c.map) {
    NSFUN_TRYV(c.map->apply(child.pid_));
  }
  if (::write(sync_w.get(), "g", 1) != 1) {
    return detail::sys::last_error("wake child").on("pid ", child.pid_);
  }
  sync_w.reset();
  Report report;
  if (detail::sys::read_full(err_r.get(), &report, sizeof(report))) {
    (void)child.wait();
    std::string_view what =
        report.step >= 0 && report.step < step_count ? step_names[report.step] : "spawn";
    std::string_view object(report.object,
                            std::min<std::size_t>(report.object_len, sizeof(report.object)));
    return errno_error(report.err, what).on(object);
  }
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, false)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    dispose();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::move(other.pidfd_);
    reaped_ = std::exchange(other.reaped_, false);
  }
  return *this;
}

Child::~Child() {
  dispose();
}

void Child::dispose() noexcept {
  if (pid_ > 0 && !reaped_) {
    (void)kill();
    (void)wait();
  }
  pid_ = 0;
  pidfd_.reset();
  reaped_ = false;
}

namespace {

ExitStatus status_of(const siginfo_t& info) noexcept {
  ExitStatus s;
  if (info.si_code == CLD_EXITED) {
    s.code = info.si_status;
  } else {
    s.signal = info.si_status;
  }
  return s;
}

}  // namespace

result<void> Child::usable(int err, std::string_view what) const noexcept {
  if (pid_ <= 0) {
    return errno_error(err, what).because("no process (an empty, moved-from or detached Child)");
  }
  if (reaped_) {
    return errno_error(err, what).on("pid ", pid_).because("already waited for");
  }
  return success();
}

result<ExitStatus> Child::wait() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0) {
    if (errno != EINTR) {
      return detail::sys::last_error("waitid").on("pid ", pid_);
    }
  }
  reaped_ = true;
  return status_of(info);
}

result<std::optional<ExitStatus>> Child::try_wait() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) < 0) {
    return detail::sys::last_error("waitid").on("pid ", pid_);
  }
  if (info.si_pid == 0) {
    return std::optional<ExitStatus>();
  }
  reaped_ = true;
  return std::optional<ExitStatus>(status_of(info));
}

result<void> Child::signal(int sig) noexcept {
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

result<void> Child::kill() noexcept {
  return signal(SIGKILL);
}

void Child::detach() noexcept {
  pid_ = 0;
  pidfd_.reset();
  reaped_ = false;
}

}  // namespace nsfun

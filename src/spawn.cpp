// SPDX-License-Identifier: MIT
// nsfun – spawn(): clone3 into new namespaces, with the parent finishing setup first.
//
// Between clone3 and execve the child runs on a copy of a possibly multithreaded parent: another
// thread may have held the malloc lock at the moment of the clone. So the child makes only
// async-signal-safe calls (raw syscalls, no allocation); everything that allocates (argv, envp,
// paths, the offsets text) is prepared by the parent beforehand.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/persist.hpp>
#include <nsfun/spawn.hpp>

#include "sys.hpp"
#include "time_ns_text.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in a header

namespace nsfun {

namespace {

// The steps the child can fail at; it reports the index, the parent names it.
enum Step : int {
  step_sync,
  step_setns,
  step_sethostname,
  step_setdomainname,
  step_time_unshare,
  step_time_offsets,
  step_propagation,
  step_mount_sys,
  step_bind_etc,
  step_bind_rootfs,
  step_mount_proc,
  step_chdir_rootfs,
  step_pivot_root,
  step_umount_old_root,
  step_cwd,
  step_redirect,
  step_fork_init,
  step_execve,
  step_count
};

constexpr std::string_view step_names[step_count] = {"wait for parent",
                                                     "setns",
                                                     "sethostname",
                                                     "setdomainname",
                                                     "unshare CLONE_NEWTIME",
                                                     "write timens_offsets",
                                                     "mount --make-rprivate /",
                                                     "mount sysfs on /sys",
                                                     "mount --bind /etc/netns entry",
                                                     "mount --bind rootfs",
                                                     "mount proc",
                                                     "chdir rootfs",
                                                     "pivot_root",
                                                     "umount old root",
                                                     "chdir",
                                                     "dup2",
                                                     "fork init",
                                                     "execve"};

// clone3's argument (linux/sched.h has it from 5.3; spelled out for older headers).
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

constexpr std::uint64_t clone_pidfd = 0x00001000;
constexpr std::uint64_t clone_into_cgroup = 0x200000000ULL;

// Everything the child needs, made by the parent before clone3.
struct Plan {
  const CommandSpec* cmd = nullptr;
  std::string path;  // resolved program
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<int> join_fds;
  NetNs netns;                                           // Command::netns: the named namespace
  unsigned long sys_flags = 0;                           // how to mount its /sys
  std::vector<std::pair<std::string, std::string>> etc;  // /etc/netns/NAME/x → /etc/x
  std::string proc_target;                               // where to mount proc
  std::string offsets;                                   // timens_offsets text
  bool new_mnt = false;
  bool relay = false;  // fork once more: init of a new pid namespace, or after joining one
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

[[noreturn]] void child_fail(const Plan& p, Step step) {
  int report[2] = {step, errno};
  (void)!::write(p.err_w, report, sizeof(report));
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

  for (int fd : p.join_fds) {
    if (::setns(fd, 0) < 0) {
      child_fail(p, step_setns);
    }
  }
  if (c.hostname && ::sethostname(c.hostname->data(), c.hostname->size()) < 0) {
    child_fail(p, step_sethostname);
  }
  if (c.domainname && ::setdomainname(c.domainname->data(), c.domainname->size()) < 0) {
    child_fail(p, step_setdomainname);
  }
  if (!p.offsets.empty()) {
    // Offsets can be written only before any process is in the namespace: unshare makes it the
    // namespace of our children and of our next execve, and nobody is in it yet.
    if (::unshare(sys::clone_newtime) < 0) {
      child_fail(p, step_time_unshare);
    }
    int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, p.offsets.data(), p.offsets.size()) < 0) {
      child_fail(p, step_time_offsets);
    }
    ::close(fd);
  }
  // Command::netns binds over /sys and /etc: those must never propagate back, whatever
  // keep_propagation says, so it always gets a recursive slave (as ip netns exec does).
  if (p.new_mnt && (!c.keep_propagation || p.netns) &&
      ::mount(nullptr, "/", nullptr, MS_REC | (p.netns ? MS_SLAVE : MS_PRIVATE), nullptr) < 0) {
    child_fail(p, step_propagation);
  }
  if (p.netns) {
    // As ip netns exec: a sysfs of the joined network namespace over the caller's (which may not
    // be mounted at all: then there is nothing to detach), then the /etc/netns/NAME overrides.
    (void)::umount2("/sys", MNT_DETACH);
    if (::mount(c.netns->c_str(), "/sys", "sysfs", p.sys_flags, nullptr) < 0) {
      child_fail(p, step_mount_sys);
    }
    for (const auto& [source, target] : p.etc) {
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        child_fail(p, step_bind_etc);
      }
    }
  }
  if (c.rootfs &&
      ::mount(c.rootfs->c_str(), c.rootfs->c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    child_fail(p, step_bind_rootfs);
  }
  if (!p.proc_target.empty() && ::mount("proc", p.proc_target.c_str(), "proc",
                                        MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    child_fail(p, step_mount_proc);
  }
  if (c.rootfs) {
    // pivot_root(".", "."): the old root ends up stacked under the new one and is detached.
    if (::chdir(c.rootfs->c_str()) < 0) {
      child_fail(p, step_chdir_rootfs);
    }
    if (::syscall(SYS_pivot_root, ".", ".") < 0) {
      child_fail(p, step_pivot_root);
    }
    if (::umount2(".", MNT_DETACH) < 0) {
      child_fail(p, step_umount_old_root);
    }
    if (::chdir("/") < 0) {
      child_fail(p, step_chdir_rootfs);
    }
  }
  if (c.cwd && ::chdir(c.cwd->c_str()) < 0) {
    child_fail(p, step_cwd);
  }
  // Only 0, 1, 2 and the redirected fds reach the program: mark everything else close-on-exec
  // (the error pipe already is, and must stay open until exec).
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC, 5.11+ */);
  for (auto [target, source] : c.redirects) {
    if (target == source) {
      if (::fcntl(target, F_SETFD, 0) < 0) {
        child_fail(p, step_redirect);
      }
    } else if (::dup2(source, target) < 0) {
      child_fail(p, step_redirect);
    }
  }
  if (p.relay) {
    // To exec a program, vfork: the main child shares our memory only until its execve (or
    // _exit after a failed one), and no page tables are copied. A function gets a real fork.
    pid_t main_child = c.fn ? ::fork() : ::vfork();
    if (main_child < 0) {
      child_fail(p, step_fork_init);
    }
    if (main_child > 0) {
      ::close(p.err_w);  // only the main child reports from here on
      run_init(main_child);
    }
  }
  if (c.fn) {
    ::close(p.err_w);
    ::_exit(c.fn());
  }
  ::execve(p.path.c_str(), p.argv.data(), p.envp.data());
  child_fail(p, step_execve);
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
    std::string dir(dirs.substr(0, colon));
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      if (executable(root + candidate)) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      break;
    }
    dirs.remove_prefix(colon + 1);
  }
  return errno_error(ENOENT, "find program in PATH");
}

// Command::netns: open the named namespace and list the /etc overrides, here where allocating
// is safe; the child only mounts.
result<void> prepare_netns(const CommandSpec& c, Plan& p) {
  const bool joins_net = std::any_of(c.join.begin(), c.join.end(),
                                     [](const NsFd* ns) { return ns->type() == NsType::net; });
  if (c.fresh.contains(NsType::net) || joins_net || c.rootfs) {
    return errno_error(EINVAL, "netns() with a new or joined network namespace, or a rootfs");
  }
  NSFUN_TRY(p.netns, netns::open(*c.netns));
  p.join_fds.push_back(p.netns.get());  // after any user namespace, which may own it

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
    return sys::last_error("open /etc/netns/NAME");
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
      return errno_error(ENOENT, "find program in PATH");
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
      return sys::last_error("check rootfs");
    }
    if (!S_ISDIR(st.st_mode)) {
      return errno_error(ENOTDIR, "check rootfs");
    }
  }
  p.new_mnt = c.fresh.contains(NsType::mnt) || c.mount_proc || c.rootfs || c.netns;
  if (c.mount_proc) {
    p.proc_target = c.rootfs ? *c.rootfs + "/proc" : "/proc";
  }
  if (c.offsets) {
    p.offsets = detail::time_offsets_text(TimeOffsets{c.offsets->first, c.offsets->second});
  }
  if (c.fresh.contains(NsType::pid) && c.init) {
    p.relay = true;
  }
  return success();
}

}  // namespace

result<Child> spawn(const Command& cmd) noexcept {
  const CommandSpec& c = cmd.spec();
  Plan p;
  try {
    NSFUN_TRYV(prepare(c, p));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "spawn");
  }
  if (c.map && !c.fresh.contains(NsType::user)) {
    return nsfun_error(errc::invalid_id_map, "user map without a new user namespace");
  }
  int sync[2];
  int err[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) {
    return sys::last_error("pipe2");
  }
  UniqueFd sync_r = UniqueFd::adopt(sync[0]);  // owns: just made
  UniqueFd sync_w = UniqueFd::adopt(sync[1]);  // owns: just made
  if (::pipe2(err, O_CLOEXEC) < 0) {
    return sys::last_error("pipe2");
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
  args.flags = static_cast<std::uint64_t>(static_cast<unsigned>(fresh.clone_flags())) | clone_pidfd;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);  // NOLINT: the kernel's ABI
  args.exit_signal = SIGCHLD;
  if (c.cgroup >= 0) {
    args.flags |= clone_into_cgroup;
    args.cgroup = static_cast<std::uint64_t>(c.cgroup);
  }
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    return sys::last_error("clone3");
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
    return sys::last_error("write to child");
  }
  sync_w.reset();
  int report[2] = {0, 0};
  if (sys::read_full(err_r.get(), report, sizeof(report))) {
    (void)child.wait();
    Step step =
        report[0] >= 0 && report[0] < step_count ? static_cast<Step>(report[0]) : step_count;
    return errno_error(report[1], step == step_count ? "spawn" : step_names[step]);
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
      return sys::last_error("waitid").on("pid ", pid_);
    }
  }
  reaped_ = true;
  return status_of(info);
}

result<std::optional<ExitStatus>> Child::try_wait() noexcept {
  NSFUN_TRYV(usable(ECHILD, "waitid"));
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) < 0) {
    return sys::last_error("waitid").on("pid ", pid_);
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
      return sys::last_error("pidfd_send_signal").on("SIG", abbrev, " to pid ", pid_);
    }
    return sys::last_error("pidfd_send_signal").on("signal ", sig, " to pid ", pid_);
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

// SPDX-License-Identifier: MIT
// nsfun – seccomp filters: the implementation (see <nsfun/config.hpp>).
//
// compile() builds the filter with libseccomp in the parent and exports the BPF program through
// a memfd (libseccomp 2.5.4 has seccomp_export_bpf(ctx, fd) only, not seccomp_export_bpf_mem);
// the child loads the program with a raw seccomp(2) call (detail::security::load_seccomp).
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::detail::seccomp {

// Docker's unconditional allow-list (moby profiles/seccomp/default.json at commit
// 00f3d189e420d485e42d15fe494f96d272284e0e, its first "SCMP_ACT_ALLOW" entry), names of all
// architectures: those the native one lacks are skipped.
inline constexpr std::string_view default_allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
};

// The errno values compile() accepts (SECCOMP_RET_DATA holds 16 bits; errno values are < 4096).
inline constexpr int max_errno = 4095;

struct Cache {
  std::mutex mutex;
  std::optional<SeccompProgram> program;  // set by the first successful compile()
};

inline bool valid_errno(int e) noexcept {
  return e >= 1 && e <= max_errno;
}

inline std::uint32_t scmp_action(SeccompAction a) noexcept {
  switch (a.kind()) {
    case SeccompAction::Kind::allow:
      return SCMP_ACT_ALLOW;
    case SeccompAction::Kind::errno_return:
      return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(a.errno_value()));
    case SeccompAction::Kind::kill_process:
      return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::Kind::kill_thread:
      return SCMP_ACT_KILL_THREAD;
    case SeccompAction::Kind::trap:
      return SCMP_ACT_TRAP;
    case SeccompAction::Kind::log:
      return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

inline scmp_compare scmp_op(SeccompArg::Op op) noexcept {
  switch (op) {
    case SeccompArg::Op::eq:
      return SCMP_CMP_EQ;
    case SeccompArg::Op::ne:
      return SCMP_CMP_NE;
    case SeccompArg::Op::lt:
      return SCMP_CMP_LT;
    case SeccompArg::Op::le:
      return SCMP_CMP_LE;
    case SeccompArg::Op::gt:
      return SCMP_CMP_GT;
    case SeccompArg::Op::ge:
      return SCMP_CMP_GE;
    case SeccompArg::Op::masked_eq:
      return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

struct CtxRelease {
  void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};

using Ctx = std::unique_ptr<void, CtxRelease>;

// The machine name for "not a system call on x86_64".
struct Machine {
  utsname u{};

  Machine() noexcept {
    if (::uname(&u) != 0) {
      std::strcpy(u.machine,
                  "this architecture");  // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
    }
  }

  [[nodiscard]] std::string_view name() const noexcept { return u.machine; }
};

// Reads the whole of a memfd from its start.
inline result<std::vector<sock_filter>> read_program(int fd) {
  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return errno_error(errno, "seccomp").on("fstat memfd");
  }
  auto size = static_cast<std::size_t>(st.st_size);
  if (size % sizeof(sock_filter) != 0) {
    return errno_error(EINVAL, "seccomp")
        .on("seccomp_export_bpf")
        .because("a program of ", size, " bytes, not whole instructions");
  }
  std::vector<sock_filter> insns(size / sizeof(sock_filter));
  auto* p =
      reinterpret_cast<char*>(insns.data());  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return errno_error(n < 0 ? errno : EIO, "seccomp").on("read memfd");
    }
    done += static_cast<std::size_t>(n);
  }
  return insns;
}

}  // namespace nsfun::detail::seccomp

namespace nsfun {

NSFUN_INLINE std::shared_ptr<detail::seccomp::Cache> detail::seccomp::new_cache() {
  return std::make_shared<Cache>();
}

NSFUN_INLINE std::string SeccompAction::to_string() const {
  switch (kind_) {
    case Kind::allow:
      return "allow";
    case Kind::errno_return: {
      const char* n = ::strerrorname_np(err_);
      return "errno " + (n != nullptr ? std::string(n) : std::to_string(err_));
    }
    case Kind::kill_process:
      return "kill_process";
    case Kind::kill_thread:
      return "kill_thread";
    case Kind::trap:
      return "trap";
    case Kind::log:
      return "log";
  }
  return "?";
}

NSFUN_INLINE SeccompFilter SeccompFilter::allow_list(int err) {
  return SeccompFilter(SeccompAction::errno_return(err));
}

NSFUN_INLINE SeccompFilter SeccompFilter::allow_list_kill() {
  return SeccompFilter(SeccompAction::kill_process());
}

NSFUN_INLINE SeccompFilter SeccompFilter::deny_list() {
  return SeccompFilter(SeccompAction::allow());
}

NSFUN_INLINE SeccompFilter SeccompFilter::container_default() {
  SeccompFilter f = allow_list(EPERM);
  auto allow_any = [&f](std::string_view name, std::vector<SeccompArg> args = {}) {
    f.add(SeccompRule{std::string(name), SeccompAction::allow(), std::move(args), true});
  };
  for (std::string_view name : detail::seccomp::default_allowed) {
    allow_any(name);
  }
  // Kernel 4.8+ (seccomp is checked after ptrace since then); nsfun needs 5.x anyway.
  for (std::string_view name : {"process_vm_readv", "process_vm_writev", "ptrace"}) {
    allow_any(name);
  }
  // socket() except AF_VSOCK (40).
  allow_any("socket", {SeccompArg{0, SeccompArg::Op::ne, 40, 0}});
  // personality(): PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query.
  for (std::uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    allow_any("personality", {SeccompArg{0, SeccompArg::Op::eq, persona, 0}});
  }
  // x86 only.
  allow_any("arch_prctl");
  allow_any("modify_ldt");
  // CAP_SYS_CHROOT is in the default capabilities.
  allow_any("chroot");
  // clone() without CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (0x7e020000); the
  // flags are argument 1 on s390.
#if defined(__s390__) || defined(__s390x__)
  constexpr unsigned clone_flags_arg = 1;
#else
  constexpr unsigned clone_flags_arg = 0;
#endif
  allow_any("clone", {SeccompArg{clone_flags_arg, SeccompArg::Op::masked_eq, 0, 0x7e020000ULL}});
  // clone3's flags live in memory the filter cannot read: ENOSYS makes libc fall back to clone.
  f.add(SeccompRule{"clone3", SeccompAction::errno_return(ENOSYS), {}, true});
  return f;
}

NSFUN_INLINE SeccompFilter& SeccompFilter::add(SeccompRule rule) {
  rules_.push_back(std::move(rule));
  cache_ = detail::seccomp::new_cache();  // copies made before keep theirs
  return *this;
}

NSFUN_INLINE SeccompFilter& SeccompFilter::allow(std::string syscall,
                                                 std::vector<SeccompArg> args) {
  return add(SeccompRule{std::move(syscall), SeccompAction::allow(), std::move(args), false});
}

NSFUN_INLINE SeccompFilter& SeccompFilter::deny(std::string syscall,
                                                int err,
                                                std::vector<SeccompArg> args) {
  return add(
      SeccompRule{std::move(syscall), SeccompAction::errno_return(err), std::move(args), false});
}

NSFUN_INLINE SeccompFilter& SeccompFilter::kill(std::string syscall, std::vector<SeccompArg> args) {
  return add(
      SeccompRule{std::move(syscall), SeccompAction::kill_process(), std::move(args), false});
}

NSFUN_INLINE result<SeccompProgram> SeccompFilter::compile() const {
  namespace sc = detail::seccomp;
  std::unique_lock<std::mutex> lock;
  if (cache_) {  // null only in a moved-from filter
    lock = std::unique_lock<std::mutex>(cache_->mutex);
    if (cache_->program) {
      return *cache_->program;
    }
  }
  if (default_.kind() == SeccompAction::Kind::errno_return &&
      !sc::valid_errno(default_.errno_value())) {
    return errno_error(EINVAL, "seccomp")
        .on("default action")
        .because("errno ", default_.errno_value(), " is not in 1..", sc::max_errno);
  }
  sc::Ctx ctx(seccomp_init(sc::scmp_action(default_)));
  if (!ctx) {
    return errno_error(ENOMEM, "seccomp").on("seccomp_init");
  }
  // A binary tree of the system call numbers instead of a linear list. Measured for the
  // container default profile (Linux 6.18): loading it takes ~70 us instead of ~600 us, since
  // the kernel runs the filter once per system call number at load time to find the calls it
  // always allows (seccomp's action cache), and a tree answers each in a few steps.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    return errno_error(-rc, "seccomp").on("seccomp_attr_set SCMP_FLTATR_CTL_OPTIMIZE");
  }
  sc::Machine machine;
  // The unconditional action of each call so far: libseccomp would keep one of two silently.
  std::unordered_map<int, SeccompAction> unconditional;
  for (const SeccompRule& rule : rules_) {
    if (rule.action.kind() == SeccompAction::Kind::errno_return &&
        !sc::valid_errno(rule.action.errno_value())) {
      return errno_error(EINVAL, "seccomp")
          .on(rule.syscall)
          .because("errno ", rule.action.errno_value(), " is not in 1..", sc::max_errno);
    }
    if (rule.args.size() > 6) {
      return errno_error(EINVAL, "seccomp")
          .on(rule.syscall)
          .because(rule.args.size(), " argument conditions, a call has 6 arguments");
    }
    int nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (nr < 0) {
      // __NR_SCMP_ERROR: no architecture has it; another negative number: a pseudo number
      // for a call of another architecture.
      if (rule.skip_unknown) {
        continue;
      }
      return nsfun_error(errc::invalid_name, "seccomp")
          .on(rule.syscall)
          .because(nr == __NR_SCMP_ERROR ? "not a system call" : "not a system call on ",
                   nr == __NR_SCMP_ERROR ? std::string_view() : machine.name());
    }
    if (rule.action == default_) {
      return errno_error(EINVAL, "seccomp")
          .on(rule.syscall)
          .because("the rule's action (", rule.action.to_string(),
                   ") is the filter's default action");
    }
    if (rule.args.empty()) {
      auto [at, fresh] = unconditional.emplace(nr, rule.action);
      if (!fresh && at->second != rule.action) {
        return errno_error(EINVAL, "seccomp")
            .on(rule.syscall)
            .because("two actions for the call: ", at->second.to_string(), " and ",
                     rule.action.to_string());
      }
    }
    std::array<scmp_arg_cmp, 6> cmps{};
    for (std::size_t i = 0; i < rule.args.size(); ++i) {
      const SeccompArg& a = rule.args[i];
      if (a.index > 5) {
        return errno_error(EINVAL, "seccomp")
            .on(rule.syscall)
            .because("argument index ", a.index, " is not in 0..5");
      }
      bool masked = a.op == SeccompArg::Op::masked_eq;
      cmps.at(i) =
          scmp_arg_cmp{a.index, sc::scmp_op(a.op), masked ? a.mask : a.value, masked ? a.value : 0};
    }
    int rc = seccomp_rule_add_array(ctx.get(), sc::scmp_action(rule.action), nr,
                                    static_cast<unsigned>(rule.args.size()),
                                    rule.args.empty() ? nullptr : cmps.data());
    if (rc < 0) {
      error e = errno_error(-rc, "seccomp").on(rule.syscall);
      if (rc == -EEXIST) {
        e.because("conflicts with another rule for it (", rule.action.to_string(), ")");
      }
      return e;
    }
  }
  // owns: the memfd we just made, for libseccomp to write the program into
  UniqueFd fd = UniqueFd::adopt(::memfd_create("nsfun-seccomp", MFD_CLOEXEC));
  if (!fd) {
    return errno_error(errno, "seccomp").on("memfd_create");
  }
  if (int rc = seccomp_export_bpf(ctx.get(), fd.get()); rc < 0) {
    return errno_error(-rc, "seccomp").on("seccomp_export_bpf");
  }
  NSFUN_TRY(auto insns, sc::read_program(fd.get()));
  if (insns.size() > BPF_MAXINSNS) {
    return errno_error(E2BIG, "seccomp")
        .on("seccomp_export_bpf")
        .because("a program of ", insns.size(), " instructions, the kernel takes ", BPF_MAXINSNS);
  }
  SeccompProgram program{std::move(insns)};
  if (cache_) {
    cache_->program = program;
  }
  return program;
}

NSFUN_INLINE result<void> detail::security::set_no_new_privs() noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) {
    return errno_error(errno, "prctl").on("PR_SET_NO_NEW_PRIVS");
  }
  return success();
}

NSFUN_INLINE result<void> detail::security::load_seccomp(const SeccompProgram& program) noexcept {
  if (program.empty()) {
    return success();
  }
  sock_fprog prog = program.fprog();
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &prog);
  if (rc != 0 && errno == ENOSYS) {  // COMPAT(linux < 3.17): no seccomp(2)
    rc = ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0UL, 0UL);
  }
  if (rc != 0) {
    int err = errno;
    error e = errno_error(err, "seccomp").on("SECCOMP_SET_MODE_FILTER");
    if (err == EACCES) {
      e.because("needs no_new_privs or CAP_SYS_ADMIN");
    }
    return e;
  }
  return success();
}

}  // namespace nsfun

// SPDX-License-Identifier: MIT
// nsfun – seccomp filters for a spawned process: SeccompFilter and SeccompProgram.
//
// A SeccompFilter is a list of rules (a system call by name, an action, optional argument
// conditions) and a default action for every system call no rule names. compile() turns it into a
// classic BPF program with libseccomp, in the parent; the spawned child loads that program with
// seccomp(2) as its last step before execve(2), without allocating (see
// <nsfun/detail/security.hpp>). The filter is for the native architecture only: a system call
// made through another ABI (int 0x80 on x86_64, x32) kills the process (libseccomp's default for
// a foreign architecture), where Docker's profile allows the x86 and x32 ABIs too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <linux/filter.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

namespace detail::seccomp {
struct Cache;  // a filter's compiled program, shared by its copies
[[nodiscard]] std::shared_ptr<Cache> new_cache();
}  // namespace detail::seccomp

/// What a seccomp filter does with a system call (seccomp(2) SECCOMP_RET_*).
class SeccompAction {
 public:
  enum class Kind : std::uint8_t {
    allow,         ///< SECCOMP_RET_ALLOW: the call runs
    errno_return,  ///< SECCOMP_RET_ERRNO: the call fails with errno() without running
    kill_process,  ///< SECCOMP_RET_KILL_PROCESS: SIGSYS kills the whole process
    kill_thread,   ///< SECCOMP_RET_KILL_THREAD: SIGSYS kills the calling thread
    trap,          ///< SECCOMP_RET_TRAP: a SIGSYS the process may catch
    log,           ///< SECCOMP_RET_LOG: the call runs and the kernel logs it
  };

  [[nodiscard]] static constexpr SeccompAction allow() noexcept { return {Kind::allow, 0}; }

  /// Fails the call with `err` (1..4095), e.g. EPERM or ENOSYS.
  [[nodiscard]] static constexpr SeccompAction errno_return(int err) noexcept {
    return {Kind::errno_return, err};
  }

  [[nodiscard]] static constexpr SeccompAction kill_process() noexcept {
    return {Kind::kill_process, 0};
  }

  [[nodiscard]] static constexpr SeccompAction kill_thread() noexcept {
    return {Kind::kill_thread, 0};
  }

  [[nodiscard]] static constexpr SeccompAction trap() noexcept { return {Kind::trap, 0}; }

  [[nodiscard]] static constexpr SeccompAction log() noexcept { return {Kind::log, 0}; }

  [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }

  /// The errno of errno_return(); 0 for the other kinds.
  [[nodiscard]] constexpr int errno_value() const noexcept { return err_; }

  /// "allow", "errno EPERM" (the errno's name when known, else its number), "kill_process", …
  [[nodiscard]] std::string to_string() const;

  friend constexpr bool operator==(SeccompAction, SeccompAction) noexcept = default;

 private:
  constexpr SeccompAction(Kind k, int e) noexcept : kind_(k), err_(e) {}

  Kind kind_;
  int err_;
};

/// A condition on one argument of a system call (libseccomp's scmp_arg_cmp): argument `index`
/// (0..5) compared with `value`; for masked_eq, `(arg & mask) == value`.
struct SeccompArg {
  enum class Op : std::uint8_t { eq, ne, lt, le, gt, ge, masked_eq };

  unsigned index = 0;
  Op op = Op::eq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  ///< masked_eq only

  friend bool operator==(const SeccompArg&, const SeccompArg&) = default;
};

/// One rule: `action` for system call `syscall` when all `args` conditions hold (no condition:
/// always). Several rules may name the same call with different conditions; the first that
/// matches decides, in the order libseccomp gives (each condition set is tried; an action other
/// than the default must be the same for all rules of one call when no condition is given).
struct SeccompRule {
  std::string syscall;
  SeccompAction action = SeccompAction::allow();
  std::vector<SeccompArg> args;
  /// A name this architecture does not have is skipped instead of refused: the default profile
  /// lists calls of all architectures, as Docker's does (chown32, _llseek, …).
  bool skip_unknown = false;

  friend bool operator==(const SeccompRule&, const SeccompRule&) = default;
};

/// A compiled filter: the classic BPF program seccomp(2) loads. Made by SeccompFilter::compile()
/// in the parent; spawn() loads it in the child (detail::security::load_seccomp()).
struct SeccompProgram {
  std::vector<sock_filter> insns;

  /// The view seccomp(2) and prctl(PR_SET_SECCOMP) take; valid while `insns` is unchanged.
  [[nodiscard]] sock_fprog fprog() const noexcept {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): the kernel's struct is not const
    return sock_fprog{static_cast<unsigned short>(insns.size()),
                      const_cast<sock_filter*>(insns.data())};
  }

  [[nodiscard]] bool empty() const noexcept { return insns.empty(); }
};

/// A seccomp filter, built with libseccomp (seccomp_init, seccomp_rule_add_array,
/// seccomp_export_bpf). A plain value: building one makes no system call.
///
/// Two shapes: an allow-list (allow_list(): the default action fails every call with an errno,
/// or kills; allow() names what may run) and a deny-list (deny_list(): the default allows; deny()
/// and kill() name what may not). A default-constructed filter is an empty deny-list (allows
/// everything).
class SeccompFilter {
 public:
  SeccompFilter() = default;

  /// Every call no rule names fails with `err` (EPERM by default; ENOSYS makes programs fall
  /// back as if the kernel were older).
  [[nodiscard]] static SeccompFilter allow_list(int err = 1 /* EPERM */);

  /// Every call no rule names kills the process (SIGSYS).
  [[nodiscard]] static SeccompFilter allow_list_kill();

  /// Every call no rule names runs.
  [[nodiscard]] static SeccompFilter deny_list();

  /// An allow-list as close as nsfun can make it to the profile container runtimes ship: Docker's
  /// (moby) profiles/seccomp/default.json at commit 00f3d189e420d485e42d15fe494f96d272284e0e
  /// (https://github.com/moby/moby/blob/00f3d189e420d485e42d15fe494f96d272284e0e/profiles/seccomp/default.json),
  /// which podman and crun use through containers-common's seccomp.json, taken for a process
  /// with Capabilities::container_default() (no CAP_SYS_ADMIN) on the native architecture.
  ///
  /// Default: EPERM. Allowed: that profile's unconditional list (349 names; those this
  /// architecture lacks are skipped), socket() except AF_VSOCK, personality() with 0, PER_LINUX32
  /// (8), UNAME26 (0x20000), 0x20008 and 0xffffffff (query), arch_prctl and modify_ldt (x86),
  /// clone() without any CLONE_NEW* flag (mask 0x7e020000 on x86; argument 1 on s390), chroot
  /// (CAP_SYS_CHROOT), ptrace, process_vm_readv and process_vm_writev (kernel 4.8+). clone3 fails
  /// with ENOSYS, so that libc falls back to clone, whose flags the filter can see.
  ///
  /// So it denies (EPERM): mount, umount2, pivot_root, move_mount, open_tree, fsopen, fsmount,
  /// fsconfig, fspick, mount_setattr; unshare, setns, and clone with a CLONE_NEW* flag; bpf,
  /// perf_event_open, fanotify_init, lookup_dcookie, quotactl, quotactl_fd; sethostname,
  /// setdomainname, syslog; reboot, kexec_load, kexec_file_load; init_module, finit_module,
  /// delete_module; acct, swapon, swapoff; iopl, ioperm; settimeofday, clock_settime; vhangup;
  /// kcmp, pidfd_getfd, process_madvise; get_mempolicy, mbind, set_mempolicy,
  /// set_mempolicy_home_node; add_key, request_key, keyctl; userfaultfd; open_by_handle_at;
  /// nfsservctl, uselib, ustat, sysfs, _sysctl, vm86; personality with any other value;
  /// socket(AF_VSOCK); and every call newer than the profile (listmount, statmount, lsm_*,
  /// mseal, cachestat, map_shadow_stack, …). (adjtimex and clock_adjtime are allowed: the
  /// kernel asks CAP_SYS_TIME for a change.)
  ///
  /// Differences from Docker's: native architecture only (see the file comment); the rules
  /// Docker adds for extra capabilities (CAP_SYS_ADMIN, CAP_SYS_PTRACE, …) are not applied
  /// here: a container given more capabilities gets a wider filter with allow().
  [[nodiscard]] static SeccompFilter container_default();

  /// Adds a rule; returns *this.
  SeccompFilter& add(SeccompRule rule);

  /// Allows `syscall` (in an allow-list), with optional argument conditions.
  SeccompFilter& allow(std::string syscall, std::vector<SeccompArg> args = {});

  /// Fails `syscall` with `err` (EPERM by default) without running it.
  SeccompFilter& deny(std::string syscall,
                      int err = 1 /* EPERM */,
                      std::vector<SeccompArg> args = {});

  /// Kills the process when it makes `syscall` (SIGSYS, SECCOMP_RET_KILL_PROCESS).
  SeccompFilter& kill(std::string syscall, std::vector<SeccompArg> args = {});

  [[nodiscard]] SeccompAction default_action() const noexcept { return default_; }

  [[nodiscard]] const std::vector<SeccompRule>& rules() const noexcept { return rules_; }

  /// Builds the BPF program for the native architecture with libseccomp. Parent side: it
  /// allocates (libseccomp's filter, the program). The program is kept: the next compile() of
  /// this filter or of a copy of it (not changed since) returns it again without libseccomp,
  /// which takes about 2 ms for container_default(), longer than a spawn. Safe to call from
  /// several threads on one filter or its copies.
  /// Errors (step "seccomp", object the system call's name unless said):
  /// - nsfun::errc::invalid_name: a name this architecture does not have ("seccomp fanotify_mark2:
  ///   not a system call on x86_64"), unless the rule has skip_unknown;
  /// - std::errc::invalid_argument: an errno outside 1..4095 or an argument index over 5
  ///   (reason says which), a rule whose action is the default action (libseccomp refuses it),
  ///   or a call given two different unconditional actions;
  /// - any other errno libseccomp returns, with the libseccomp function as object
  ///   ("seccomp seccomp_export_bpf: …").
  [[nodiscard]] result<SeccompProgram> compile() const;

 private:
  explicit SeccompFilter(SeccompAction def) : default_(def) {}

  SeccompAction default_ = SeccompAction::allow();
  std::vector<SeccompRule> rules_;
  std::shared_ptr<detail::seccomp::Cache> cache_ = detail::seccomp::new_cache();
};

namespace detail::security {

/// Child side, between clone and execve: sets PR_SET_NO_NEW_PRIVS (prctl(2)). Async-signal-safe.
/// Errors: the errno of prctl (step "prctl", object "PR_SET_NO_NEW_PRIVS").
[[nodiscard]] result<void> set_no_new_privs() noexcept;

/// Child side, the last step before execve: loads the compiled filter with seccomp(2)
/// (SECCOMP_SET_MODE_FILTER), falling back to prctl(PR_SET_SECCOMP) where seccomp(2) is missing.
/// An empty program loads nothing. Async-signal-safe, allocates nothing.
/// Needs: no_new_privs set, or CAP_SYS_ADMIN in the caller's user namespace.
/// Errors: step "seccomp", object "SECCOMP_SET_MODE_FILTER"; std::errc::permission_denied with
/// the reason "needs no_new_privs or CAP_SYS_ADMIN"; std::errc::invalid_argument (a program the
/// kernel refuses).
[[nodiscard]] result<void> load_seccomp(const SeccompProgram& program) noexcept;

}  // namespace detail::security

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/seccomp.ipp>
#endif

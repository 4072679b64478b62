// SPDX-License-Identifier: MIT
// nsfun – starting processes in new (or existing) namespaces: Command, spawn() and Child.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/config.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/unique_fd.hpp>
#include <nsfun/user_map.hpp>

namespace nsfun {

/// How a process ended.
struct ExitStatus {
  int code = 0;    ///< exit code, when it exited
  int signal = 0;  ///< the signal that killed it, or 0

  [[nodiscard]] bool exited() const noexcept { return signal == 0; }

  [[nodiscard]] bool success() const noexcept { return signal == 0 && code == 0; }

  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

/// What Child::wait_with_output() returns: how the process ended and what it wrote on the
/// captured pipes (Command::capture_stdout, capture_stderr; empty for a stream not captured).
struct Output {
  ExitStatus status;
  std::string out;  ///< its stdout
  std::string err;  ///< its stderr
};

/// A started process, owned through its pidfd (immune to pid reuse). Move-only.
///
/// The destructor kills (SIGKILL) and reaps a child that was neither waited for nor detached,
/// so that no process outlives its handle by accident; detach() opts out. Moving leaves the
/// source empty (no pid, no pidfd: `!child`); move-assigning first disposes of the target's own
/// child the way the destructor does. Neither the destructor nor the moves throw.
class Child {
 public:
  Child() noexcept = default;

  Child(Child&& other) noexcept;

  /// Kills and reaps this handle's own child (unless waited for or detached), then takes
  /// `other`'s, leaving `other` empty. Self-assignment does nothing.
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  /// The pid in the caller's pid namespace; 0 when empty.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  [[nodiscard]] FdRef pidfd() const noexcept { return pidfd_.ref(); }

  /// Waits for the process to end and reaps it. Wraps: waitid(P_PIDFD).
  /// Errors: std::errc::no_child_process when empty or already waited for.
  [[nodiscard]] result<ExitStatus> wait() noexcept;

  /// The status if the process has ended (and reaps it), nothing if it still runs.
  /// Errors: std::errc::no_child_process when empty or already waited for.
  [[nodiscard]] result<std::optional<ExitStatus>> try_wait() noexcept;

  /// The read end of the pipe on the process's stdout (Command::capture_stdout()); an empty
  /// FdRef (-1) when it was not captured or wait_with_output() has read it. The caller may read
  /// it itself (it is O_CLOEXEC and blocking); it stays owned by the Child.
  [[nodiscard]] FdRef stdout_pipe() const noexcept { return stdout_.ref(); }

  /// The same for stderr (Command::capture_stderr()).
  [[nodiscard]] FdRef stderr_pipe() const noexcept { return stderr_.ref(); }

  /// Reads the captured stdout and stderr until both reach end-of-file (polling both, so a
  /// process that fills one pipe while the caller waits on the other cannot deadlock), closes
  /// them, then waits for the process as wait() does. A stream that was not captured comes back
  /// empty. End-of-file comes when every process holding the pipe's write end has closed it or
  /// ended: a daemon the program leaves behind with its stdout keeps this call waiting.
  /// Errors: as wait(); std::errc::not_enough_memory; the errno of poll or read (the process
  /// is then left to the destructor).
  [[nodiscard]] result<Output> wait_with_output() noexcept;

  /// Sends a signal. Wraps: pidfd_send_signal(2).
  /// Errors: std::errc::no_such_process (also when empty or already waited for).
  [[nodiscard]] result<void> signal(int sig) noexcept;

  /// Sends SIGKILL. Errors: as signal().
  [[nodiscard]] result<void> kill() noexcept;

  /// Lets the process run on after this handle dies; closes the pidfd and leaves the handle
  /// empty.
  void detach() noexcept;

  /// True while the handle has a process (even one already waited for).
  [[nodiscard]] explicit operator bool() const noexcept { return pid_ > 0; }

 private:
  friend result<Child> spawn(const class Command& cmd) noexcept;  // sets the fields

  // What the destructor does: kill and reap a child not waited for; then empty.
  void dispose() noexcept;

  // An error with errno `err` for step `what` when there is no process to act on.
  [[nodiscard]] result<void> usable(int err, std::string_view what) const noexcept;

  pid_t pid_ = 0;
  UniqueFd pidfd_;
  bool reaped_ = false;
  UniqueFd stdout_;  // Command::capture_stdout: the pipe's read end
  UniqueFd stderr_;  // Command::capture_stderr
};

/// One resource limit of Command::rlimit().
struct ResourceLimit {
  int resource = 0;  ///< RLIMIT_NOFILE, …
  rlim_t soft = 0;
  rlim_t hard = 0;
};

/// What a Command holds; read by spawn().
struct CommandSpec {
  std::string program;
  std::function<int()> fn;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool clear_env = false;
  NsTypeSet fresh;
  std::vector<const NsFd*> join;
  std::optional<UserMap> map;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  bool keep_propagation = false;
  bool mount_proc = false;
  std::optional<std::string> rootfs;
  std::optional<std::string> cwd;
  int cwd_fd = -1;
  std::optional<std::string> chroot;
  int chroot_fd = -1;
  std::optional<std::string> netns;
  const NsFd* netns_ns = nullptr;  // netns(ns, name): the namespace itself (else /run/netns/NAME)
  int cgroup = -1;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<std::vector<gid_t>> groups;
  bool keep_caps = false;
  std::optional<std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>> offsets;
  bool init = false;
  bool hold = false;
  bool die_with_parent = false;
  std::vector<std::pair<int, int>> redirects;
  bool no_new_privs = false;
  std::vector<ResourceLimit> rlimits;
  std::optional<int> oom_score_adj;
  bool setsid = false;
  int controlling_terminal = -1;
  bool capture_stdout = false;
  bool capture_stderr = false;
  std::optional<Capabilities> capabilities;
  std::optional<SeccompFilter> seccomp;
  std::optional<ContainerFs> filesystem;
};

/// What to start and where: a builder (each setter returns *this).
///
///     auto child = nsfun::spawn(nsfun::Command("/bin/hostname")
///                                   .namespaces({nsfun::NsType::uts})
///                                   .hostname("box"));
///
/// A setting that acts inside a namespace needs the child to have its own namespace of that
/// type, made (namespaces()) or joined (join()); each setter says which. spawn() refuses a
/// setting whose namespace the child would share with the caller, before anything is started,
/// with nsfun::errc::namespace_not_new ("spawn: hostname needs a new or joined uts namespace"):
/// it would otherwise change the caller's own namespace (the host's hostname, say).
class Command {
 public:
  /// A program to execute: a path, or a name searched in PATH (the child's PATH: env() and
  /// clear_env() apply) inside the rootfs, if any. With a chroot() or a joined mount namespace
  /// the child searches it itself, in the filesystem it then sees, as execvp(3) does.
  explicit Command(std::string program) {
    s_.program = std::move(program);
    s_.args.push_back(s_.program);
  }

  /// A function to run in the child instead of a program; its return value is the exit code
  /// (passed to _exit(2): no atexit handler runs and no stdio buffer is flushed, so write(2)
  /// what must be seen).
  ///
  /// Where it runs: exactly where the program would be executed, after every other step of the
  /// child, in this order:
  ///  1. clone3 has made the new namespaces (the child is in them; a new time namespace only
  ///     from step 3); the parent has set the rlimit()s and oom_score_adj() and written the
  ///     user_map();
  ///  2. the joins (join(), netns(): the user namespace first);
  ///  3. with init() or a joined pid namespace, the fork of the process that runs fn (the
  ///     relay stays behind as its init); hostname(), domainname(), time_offsets();
  ///  4. the mount steps: propagation made private, netns()'s /sys and /etc binds, the rootfs()
  ///     bound on itself, the fresh /proc of mount_proc(), filesystem()'s binds, tmpfs and /dev,
  ///     pivot_root, then filesystem()'s masked and read-only paths and read-only root;
  ///  5. chroot(), cwd();
  ///  6. identity: the bounding set of capabilities(), groups(), gid(), uid() (setgroups,
  ///     setresgid, setresuid), the other sets of capabilities(), keep_caps();
  ///  7. setsid(), controlling_terminal();
  ///  8. fds: everything beyond 0, 1 and 2 marked close-on-exec (fn still sees them open, since
  ///     there is no exec), redirect(), capture_stdout(), capture_stderr();
  ///  9. no_new_privs(), then the seccomp() filter;
  /// then fn. So fn sees the container's root, mounts, identity and limits, and the caller's
  /// memory as it was at spawn() (clone3 without CLONE_VM: a copy; what fn changes, the caller
  /// never sees). spawn() returns as soon as fn starts: fn's failures show only in its exit code.
  /// What it may call: when the caller has other threads, only async-signal-safe functions
  /// (signal-safety(7): raw system calls, no malloc, no locks, no stdio), since another thread
  /// may have held a lock at the moment of the clone; in a single-threaded caller, anything the
  /// settings allow (a uid() without capabilities cannot mount, say; the seccomp() filter
  /// applies).
  explicit Command(std::function<int()> fn) { s_.fn = std::move(fn); }

  /// A process that runs nothing: it keeps the namespaces it was started in (and no fd beyond 0,
  /// 1 and 2) until it is killed (Child::kill(), or the Child's destructor). As PID 1 of a new
  /// pid namespace it also reaps the orphans reparented to it. What acquire() and `nsm create`
  /// start to hold new namespaces; all the settings apply as to any Command.
  [[nodiscard]] static Command hold() {
    Command c{std::function<int()>()};
    c.s_.hold = true;
    return c;
  }

  Command& arg(std::string a) {
    s_.args.push_back(std::move(a));
    return *this;
  }

  Command& args(const std::vector<std::string>& as) {
    s_.args.insert(s_.args.end(), as.begin(), as.end());
    return *this;
  }

  /// argv[0], when it should differ from the program path.
  Command& arg0(std::string a) {
    if (!s_.args.empty()) {
      s_.args[0] = std::move(a);
    }
    return *this;
  }

  /// Sets (or replaces) one environment variable; the rest is inherited unless clear_env().
  Command& env(std::string key, std::string value) {
    s_.env.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  Command& clear_env() {
    s_.clear_env = true;
    return *this;
  }

  /// New namespaces for the child (clone3 CLONE_NEW* flags), replacing an earlier call's set.
  Command& namespaces(NsTypeSet types) {
    s_.fresh = types;
    return *this;
  }

  /// Existing namespaces the child joins (setns) before it starts, after the new ones are made
  /// (a user namespace first); a joined namespace takes the place of a new one of its type, and
  /// the settings that need a namespace (hostname(), mount_proc(), …) apply in it. Only a
  /// pointer is kept: `ns` must outlive spawn(). Joining a pid namespace puts a relay process in
  /// between, as nsenter does: setns(pid) moves only children, so the relay forks the program's
  /// process right after joining, and that process applies every setting from inside the joined
  /// pid namespace.
  Command& join(const NsFd& ns) {
    s_.join.push_back(&ns);
    return *this;
  }

  /// uid/gid maps written by the parent before the child goes on.
  /// Needs a new user namespace (namespaces({NsType::user})); a joined one already has its maps.
  Command& user_map(UserMap map) {
    s_.map = std::move(map);
    return *this;
  }

  /// The child's hostname (sethostname(2)). Needs a new or joined uts namespace.
  Command& hostname(std::string name) {
    s_.hostname = std::move(name);
    return *this;
  }

  /// The child's NIS domain name (setdomainname(2)). Needs a new or joined uts namespace.
  Command& domainname(std::string name) {
    s_.domainname = std::move(name);
    return *this;
  }

  /// Keeps the mount propagation of a new mount namespace as copied (default: everything is made
  /// recursively private first, so nothing the child mounts reaches the parent's namespace).
  /// Needs a new mount namespace (asked for, or implied by mount_proc, rootfs or netns; not a
  /// joined one, whose propagation is never changed).
  Command& keep_propagation(bool keep = true) {
    s_.keep_propagation = keep;
    return *this;
  }

  /// Mounts a fresh /proc (of the child's pid namespace) — `unshare --pid --fork --mount-proc`.
  /// Needs a new or joined pid namespace. Implies a new mount namespace unless one is joined (then
  /// /proc is mounted in that one).
  Command& mount_proc(bool on = true) {
    s_.mount_proc = on;
    return *this;
  }

  /// Makes `dir` the root with pivot_root; the old root is unmounted. Implies a new mount
  /// namespace unless one is joined (then the root of that one changes). With mount_proc, /proc
  /// is mounted inside the new root.
  Command& rootfs(std::string dir) {
    s_.rootfs = std::move(dir);
    return *this;
  }

  /// Runs the child in the named network namespace /run/netns/NAME the way `ip netns exec` does:
  /// in a new mount namespace (always a recursive slave of the one it would otherwise be in:
  /// nothing goes back) where /sys is a fresh sysfs showing that namespace's devices, and every
  /// entry of /etc/netns/NAME is bound over the same name in /etc (resolv.conf, hosts, …: DNS as
  /// the namespace's owner configured it). The mount namespace is made after the joins, on top of
  /// whatever the child is in then: the caller's, or a joined one (join() of a mount namespace),
  /// which is itself never changed. Unlike ip, a bind that fails fails the spawn (an /etc entry
  /// that does not exist, say) instead of printing a warning. Cannot be combined with a new
  /// network namespace, a joined one, or rootfs() (std::errc::invalid_argument). Joins the
  /// named namespace itself (after a joined user namespace, which may own it), so it needs no
  /// other.
  Command& netns(std::string name) {
    s_.netns = std::move(name);
    s_.netns_ns = nullptr;
    return *this;
  }

  /// The same for a network namespace the caller holds (a named set's, one made by acquire()):
  /// it is joined, /sys shows its devices, and the entries of /etc/netns/`name` are bound over
  /// /etc (none when `name` is empty or has no directory there). `name` must be a single path
  /// component (std::errc::invalid_argument otherwise: it names a directory under /etc/netns).
  /// Only a pointer to `ns` is kept: it must outlive spawn().
  Command& netns(const NetNs& ns, std::string name) {
    s_.netns = std::move(name);
    s_.netns_ns = &ns.ns();
    return *this;
  }

  /// Working directory of the child (after the rootfs change). Needs no namespace.
  Command& cwd(std::string dir) {
    s_.cwd = std::move(dir);
    s_.cwd_fd = -1;
    return *this;
  }

  /// Working directory of the child as a directory fd the caller opened (fchdir(2)), such as
  /// /proc/PID/cwd: the same directory whatever namespaces and root the child ends up with (it
  /// may lie outside a chroot()). Taken after the root change, before the identity changes. The
  /// fd must stay open until spawn() returns. Needs no namespace.
  Command& cwd(FdRef dir) {
    s_.cwd_fd = dir.get();
    s_.cwd.reset();
    return *this;
  }

  /// Changes the child's root directory to `dir` with chroot(2) (and its working directory to
  /// the new root, unless cwd() says otherwise), as `chroot DIR` or `nsenter --root=DIR` do:
  /// the mount namespace is not changed (use rootfs() for pivot_root in a new one). `dir` is
  /// resolved in the child after the joins, i.e. in a joined mount namespace, and after rootfs();
  /// symbolic links are followed as chroot(2) follows them. When the child joins no mount
  /// namespace, a `dir` that is missing or not a directory is refused before anything starts
  /// (std::errc::no_such_file_or_directory, std::errc::not_a_directory: `check chroot /x`).
  /// Needs no namespace; needs CAP_SYS_CHROOT in the child's user namespace.
  Command& chroot(std::string dir) {
    s_.chroot = std::move(dir);
    s_.chroot_fd = -1;
    return *this;
  }

  /// The same for a directory fd the caller opened, such as /proc/PID/root (`nsenter --root`:
  /// the root of process PID, in whatever mount namespace it lives). The fd must stay open until
  /// spawn() returns; a fd that is not a directory fails in the child (`fchdir`).
  Command& chroot(FdRef dir) {
    s_.chroot_fd = dir.get();
    s_.chroot.reset();
    return *this;
  }

  /// The child's user id (real, effective and saved: setresuid(2)), in the user namespace it ends
  /// up in (a new or joined one, else the caller's). Set last before exec, after the joins,
  /// mounts, root and working directory changes, and after groups() and gid(), as container
  /// runtimes do: setgroups, then setresgid, then setresuid. Becoming uid 0 of a user namespace
  /// the child joined gives it that namespace's full capabilities (`nsenter --user`); changing
  /// to another uid drops them (see keep_caps()). An id not mapped in a new user namespace (its
  /// user_map(), or none) or in the caller's is refused before anything starts
  /// (std::errc::invalid_argument, `spawn: uid 5 is not mapped in the new user namespace (uid
  /// map 0:1000:1)`); in a joined one the kernel refuses it in the child (`setresuid uid 5:
  /// Invalid argument`, with that reason). (uid_t)-1 is never an id. Needs CAP_SETUID there.
  Command& uid(uid_t id) {
    s_.uid = id;
    return *this;
  }

  /// The child's group id (setresgid(2)), in the user namespace it ends up in; as uid(). Needs
  /// CAP_SETGID there.
  Command& gid(gid_t id) {
    s_.gid = id;
    return *this;
  }

  /// The child's supplementary groups (setgroups(2)), replacing the inherited ones, in the user
  /// namespace it ends up in; checked as uid(). An empty list drops them all: that is also tried
  /// before any user namespace is joined, so that it works in a joined user namespace whose
  /// /proc/PID/setgroups is "deny" (as `unshare --map-root-user` makes them), where only the
  /// second attempt is refused: the child fails only when both are. A non-empty list in such a
  /// namespace fails in the child (`setgroups: Operation not permitted`). At most 65536 groups
  /// (std::errc::invalid_argument). Needs CAP_SETGID.
  Command& groups(std::vector<gid_t> ids) {
    s_.groups = std::move(ids);
    return *this;
  }

  /// Keeps the capabilities the child has in its (new or joined) user namespace when uid() makes
  /// it a non-root user there, and across its exec, by raising them into the ambient set
  /// (`nsenter --keep-caps`); without it the kernel clears them. Needs a new or joined user
  /// namespace (nsfun::errc::namespace_not_new otherwise: the host's capabilities are never made
  /// ambient).
  Command& keep_caps(bool on = true) {
    s_.keep_caps = on;
    return *this;
  }

  /// Starts the child directly in a cgroup v2 directory (clone3 CLONE_INTO_CGROUP, 5.7+): an fd
  /// on the directory, which must stay open until spawn() returns. Needs no namespace: the
  /// directory is one of the caller's hierarchy, named explicitly.
  Command& cgroup(FdRef dir) {
    s_.cgroup = dir.get();
    return *this;
  }

  /// Clock offsets of the child's new time namespace, written before the program starts. Needs
  /// a new time namespace (namespaces({NsType::time})); a joined one cannot take offsets (the
  /// kernel allows them only before a process is in the namespace).
  Command& time_offsets(std::chrono::nanoseconds monotonic, std::chrono::nanoseconds boottime) {
    s_.offsets = {monotonic, boottime};
    return *this;
  }

  /// When the child is PID 1 of a new pid namespace, run nsfun's minimal init as PID 1 and the
  /// program as its child: it forwards signals, reaps orphans and exits with the program's
  /// status (128+N when the program was killed by signal N). Off by default, as with
  /// `unshare --fork` and `docker run` (`--init`): turn it on when the program does not reap the
  /// orphans of its namespace itself (the PID 1 problem). Inside, the init is called `init`:
  /// its comm and /proc/1/cmdline say so, and its copy of the caller's environment strings is
  /// zeroed, so the launcher's command line and environment do not show (its /proc/1/exe still
  /// names the launcher's binary: it is a fork, not an exec). It forks before the mount and
  /// identity steps, so it keeps the capabilities the child had then and no seccomp() filter;
  /// the kernel's ptrace rule (the tracer needs every capability the tracee has) keeps a
  /// program that dropped capabilities from reading its memory. Needs a new pid namespace.
  Command& init(bool on = true) {
    s_.init = on;
    return *this;
  }

  /// Kill the child (SIGKILL) when its parent dies. Wraps PR_SET_PDEATHSIG, which follows the
  /// parent *thread*: spawn from a thread that lives as long as the child should. Needs no
  /// namespace.
  Command& die_with_parent(bool on = true) {
    s_.die_with_parent = on;
    return *this;
  }

  /// Makes fd `target` of the child a copy of the caller's `source` (e.g. 1 for stdout). Every
  /// other fd beyond 0, 1 and 2 is closed in the child. Needs no namespace.
  Command& redirect(int target, FdRef source) {
    s_.redirects.emplace_back(target, source.get());
    return *this;
  }

  /// The five capability sets the child ends with (see Capabilities; `Capabilities::only(keep)`,
  /// `Capabilities::container_default()`, the 14 runc and crun keep). The bounding set is cut
  /// before the identity change (which needs CAP_SETPCAP), PR_SET_KEEPCAPS is set before
  /// setresuid, and the effective, permitted, inheritable and ambient sets are applied right
  /// after it, so a uid() other than 0 keeps what is asked (its ambient set survives the exec;
  /// uid 0's effective set after the exec is its bounding set, as under runc). Sets that break
  /// the kernel's rules are refused before anything starts (std::errc::invalid_argument, "spawn:
  /// capabilities: ambient not in inheritable: cap_net_admin"), as is keep_caps() with it (the
  /// ambient set says what is kept). Needs no namespace: in the caller's user namespace it
  /// needs CAP_SETPCAP to cut the bounding set and can keep only what the caller holds; in a
  /// new one the child holds everything there first.
  Command& capabilities(Capabilities caps) {
    s_.capabilities = caps;
    return *this;
  }

  /// A seccomp filter for the program (SeccompFilter: an allow-list or a deny-list,
  /// SeccompFilter::container_default() as Docker's), compiled by spawn() in the parent
  /// (a system call the architecture lacks is refused there: "spawn: seccomp fanotify_mark2: not
  /// a system call on x86_64") and loaded in the child as the very last step before the exec,
  /// after no_new_privs(). Loading needs no_new_privs() or CAP_SYS_ADMIN in the child's user
  /// namespace at that point: without no_new_privs(), a capabilities() whose effective set lacks
  /// CAP_SYS_ADMIN, or a uid() other than 0 without capabilities() (its effective set is
  /// cleared), is refused before anything starts (std::errc::invalid_argument, "spawn: seccomp
  /// needs no_new_privs() or CAP_SYS_ADMIN kept"). A function (Command(fn)) runs under the
  /// filter too; a minimal init (init()) does not, it forks earlier. Needs no namespace.
  Command& seccomp(SeccompFilter filter) {
    s_.seccomp = std::move(filter);
    return *this;
  }

  /// The filesystem inside the new root (ContainerFs: a read-only root, binds from the host,
  /// tmpfs mounts, a minimal /dev, masked and read-only paths), applied in the child's new
  /// mount namespace: binds, tmpfs and /dev after the rootfs is bound on itself and /proc
  /// mounted in it, before pivot_root; masked and read-only paths and the read-only root right
  /// after pivot_root. Checked by the parent before anything starts (a bind source that does not
  /// exist, a target with ".."): the error names the setting. Needs rootfs()
  /// (std::errc::invalid_argument, "spawn: filesystem needs rootfs()": without a new root, the
  /// mounts would land on the caller's own tree) and a new mount namespace
  /// (nsfun::errc::namespace_not_new with a joined one, whose other processes would see the
  /// mounts).
  Command& filesystem(ContainerFs fs) {
    s_.filesystem = std::move(fs);
    return *this;
  }

  /// Sets the no_new_privs bit (prctl(PR_SET_NO_NEW_PRIVS)) as the last step before the exec:
  /// the program and its descendants can never gain privileges through execve (set-user-ID
  /// bits and file capabilities are ignored), as runc's and crun's `noNewPrivileges`. It can
  /// never be unset. Needs no namespace and no privilege.
  Command& no_new_privs(bool on = true) {
    s_.no_new_privs = on;
    return *this;
  }

  /// A resource limit of the child (setrlimit(2)), replacing an earlier rlimit() of the same
  /// resource: `rlimit(RLIMIT_NOFILE, 1024, 4096)`; RLIM_INFINITY for no limit. Set by the
  /// parent (prlimit(2)) before the child goes on, as runc does: the kernel checks the right to
  /// raise a hard limit in the initial user namespace, where a child in a new user namespace
  /// has no capability; a minimal init is bound too. Refused before anything starts
  /// (std::errc::invalid_argument,
  /// "spawn: rlimit RLIMIT_NOFILE: soft limit 10 above hard limit 5"): an unknown resource, a
  /// soft limit above the hard one, an RLIMIT_NOFILE above /proc/sys/fs/nr_open;
  /// (std::errc::operation_not_permitted) a hard limit above the caller's own when the caller
  /// lacks CAP_SYS_RESOURCE in the initial user namespace. Needs no namespace.
  Command& rlimit(int resource, rlim_t soft, rlim_t hard) {
    std::erase_if(s_.rlimits,
                  [resource](const ResourceLimit& l) { return l.resource == resource; });
    s_.rlimits.push_back(ResourceLimit{resource, soft, hard});
    return *this;
  }

  /// The child's oom_score_adj, -1000 (never chosen by the OOM killer) to 1000 (chosen first),
  /// written by the parent to /proc/PID/oom_score_adj before the child goes on (so a minimal
  /// init has it too). A value outside that range is refused before anything starts
  /// (std::errc::invalid_argument). Lowering it below the lowest value the caller's process has
  /// had needs CAP_SYS_RESOURCE in the initial user namespace: the kernel refuses it
  /// ("write /proc/PID/oom_score_adj -500: Permission denied") and no process is left. Needs no
  /// namespace; needs the caller's /proc.
  Command& oom_score_adj(int value) {
    s_.oom_score_adj = value;
    return *this;
  }

  /// Makes the child the leader of a new session and process group (setsid(2)), without a
  /// controlling terminal (`setsid(1)`): a terminal's hangup or job control no longer reaches
  /// it. With init() it is the program's process that starts the session, not the init. Needs
  /// no namespace.
  Command& setsid(bool on = true) {
    s_.setsid = on;
    return *this;
  }

  /// Makes the terminal `tty` (a fd the caller opened: a pty's slave side, say) the controlling
  /// terminal of the child's new session (implies setsid(); then ioctl(TIOCSCTTY) without
  /// stealing), as `setsid --ctty` does. It does not become the child's stdin, stdout or
  /// stderr: redirect() them to it for that. The fd must stay open until spawn() returns. A fd
  /// that is not a terminal is refused before anything starts (ENOTTY,
  /// std::errc::inappropriate_io_control_operation); a terminal that is already another session's
  /// controlling terminal fails in the child
  /// ("ioctl TIOCSCTTY on fd 5: Operation not permitted"). Needs no namespace.
  Command& controlling_terminal(FdRef tty) {
    s_.controlling_terminal = tty.get();
    s_.setsid = true;
    return *this;
  }

  /// Connects the child's stdout to a pipe the Child holds (Child::stdout_pipe(),
  /// Child::wait_with_output()). Cannot be combined with a redirect() of fd 1
  /// (std::errc::invalid_argument). Needs no namespace.
  Command& capture_stdout(bool on = true) {
    s_.capture_stdout = on;
    return *this;
  }

  /// The same for stderr (fd 2; Child::stderr_pipe()).
  Command& capture_stderr(bool on = true) {
    s_.capture_stderr = on;
    return *this;
  }

  [[nodiscard]] const CommandSpec& spec() const noexcept { return s_; }

 private:
  CommandSpec s_;
};

/// Starts `cmd` with clone3 (CLONE_PIDFD always). Settings whose namespace the child would
/// share with the caller are refused first (see Command). The parent writes the user maps
/// before the child goes on; any failure in the child before exec (a missing program, a refused
/// mount) comes back here as an error naming the step and what it failed on
/// ("execve /usr/bin/foo: No such file or directory", "sethostname box: Invalid argument"), and
/// no process is left behind.
/// Affects: nothing in the caller. Safe from multithreaded programs: between clone and exec the
/// child makes only async-signal-safe calls.
/// Errors: nsfun::errc::namespace_not_new (a setting without its namespace),
/// std::errc::invalid_argument (netns() combined with a network namespace or a rootfs; an id
/// that is not mapped where uid(), gid() or groups() would apply it; an rlimit(),
/// oom_score_adj(), capabilities(), seccomp() or filesystem() that cannot apply as given: the
/// message names the setting), std::errc::no_such_file_or_directory (program, a bind source),
/// std::errc::operation_not_permitted, std::errc::inappropriate_io_control_operation (ENOTTY:
/// controlling_terminal()), nsfun::errc::invalid_id_map, nsfun::errc::invalid_name (a seccomp()
/// call the architecture lacks), and the errno of the failing step in the child. Nothing is started
/// when a setting is refused; when a step fails in the child, the child (and its init) is killed
/// and reaped, and its mounts go with its mount namespace.
[[nodiscard]] result<Child> spawn(const Command& cmd) noexcept;

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/spawn.ipp>
#  include <nsfun/impl/user_map.ipp>  // see the end of <nsfun/user_map.hpp>
#endif

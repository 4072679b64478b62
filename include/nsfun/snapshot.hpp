// SPDX-License-Identifier: MIT
// nsfun – Snapshot: processes grouped by namespace (what lsns shows), diffs and isolation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/proc_scan.hpp>

namespace nsfun {

/// One namespace in a Snapshot: lsns's NS TYPE NPROCS PID PPID USER COMMAND, and more.
struct NsSummary {
  Namespace ns;
  std::size_t nprocs = 0;              ///< processes in it (0 for one held only by a bind mount)
  pid_t pid = 0;                       ///< lowest pid in it; 0 when none
  pid_t ppid = 0;                      ///< parent of `pid` (with SnapshotOptions::ppid)
  uid_t uid = static_cast<uid_t>(-1);  ///< owner of `pid`; -1 when unknown
  std::string command;                 ///< command line of `pid` (its name when the line is empty)
  std::uint64_t parent = 0;  ///< PNS: inode of the parent namespace (pid, user), 0 if none/not read
  std::uint64_t owner = 0;   ///< ONS: inode of the owning user namespace, 0 if not read
  std::string path;          ///< where it is bind-mounted, if anywhere (the first of `nsfs`)
  /// NSFS: every nsfs bind mount of it in the caller's mount namespace (with
  /// SnapshotOptions::mounts or fds), in the order /proc/self/mountinfo lists them (lsns's
  /// order), each path once: e.g. /run/netns/NAME and /run/nsm/NAME/net.
  std::vector<std::string> nsfs;
  /// For a namespace no process is in (nprocs 0) that a process holds open (with
  /// SnapshotOptions::fds): the lowest such pid, and its fd that holds it, `holder_fd`: an fd
  /// on the namespace's nsfs file, or (when `holder_socket`) a socket made in that network
  /// namespace. 0 / -1 when none was looked for or found.
  pid_t holder = 0;
  int holder_fd = -1;          ///< see `holder`
  bool holder_socket = false;  ///< see `holder`
};

/// What a Snapshot collects; every extra costs syscalls per distinct namespace, never per process.
struct SnapshotOptions {
  NsTypeSet types = NsTypeSet::all();
  bool commands = true;    ///< USER and COMMAND of each namespace's lowest pid
  bool ppid = false;       ///< also its PPID (with commands)
  bool hierarchy = false;  ///< PNS and ONS, through the nsfs ioctls
  bool ids = false;        ///< the kernel's 64-bit namespace ids (NS_GET_ID, Linux 6.18+)
  bool mounts = true;      ///< namespaces held by nsfs bind mounts (/proc/self/mountinfo)
  /// Also namespaces that no process is in but one holds open, as lsns 2.41+ lists them: by an
  /// fd on an nsfs file (open("/proc/X/ns/net") after X exited, or of a bind mount since
  /// unmounted), or, for network namespaces, by a socket made there (found with pidfd_getfd(2)
  /// and SIOCGSKNS, so only for processes the caller may ptrace). Costs a readlinkat per open
  /// fd of every process whose fds the caller may read, and a few syscalls per distinct socket.
  /// Such namespaces have nprocs 0 and `holder` set.
  bool fds = false;
  bool keep_procs = false;  ///< keep every process's entry (for processes_in())
  unsigned workers = 0;     ///< passed to the scan
  bool task_iter = true;    ///< passed to the scan (ProcScanOptions::task_iter)
};

/// Processes grouped by namespace, taken in one pass over /proc.
class Snapshot {
 public:
  /// Scans /proc and groups. Errors: nsfun::errc::proc_not_mounted.
  [[nodiscard]] static result<Snapshot> take(const SnapshotOptions& options = {}) noexcept;

  /// Every namespace found, sorted by inode (as lsns lists them).
  [[nodiscard]] const std::vector<NsSummary>& namespaces() const noexcept { return namespaces_; }

  /// The namespace summary for `ns`, or nullptr.
  [[nodiscard]] const NsSummary* find(const Namespace& ns) const noexcept;

  /// The processes scanned (with SnapshotOptions::keep_procs).
  [[nodiscard]] const std::vector<ProcEntry>& processes() const noexcept { return procs_; }

  /// Pids of the processes in `ns` (with keep_procs), ascending.
  [[nodiscard]] std::vector<pid_t> processes_in(const Namespace& ns) const;

  [[nodiscard]] const ProcScanStats& stats() const noexcept { return stats_; }

  [[nodiscard]] std::uint64_t nsfs_dev() const noexcept { return nsfs_dev_; }

 private:
  std::vector<NsSummary> namespaces_;
  std::vector<ProcEntry> procs_;
  ProcScanStats stats_;
  std::uint64_t nsfs_dev_ = 0;
};

/// One /proc/PID/ns entry of two processes side by side.
struct NsDiffEntry {
  NsLink link;
  Namespace a;  ///< empty when that process's link was not readable
  Namespace b;

  [[nodiscard]] bool same() const noexcept { return !a.empty() && a == b; }
};

/// Compares every link of two processes, including pid_for_children and time_for_children.
/// Errors: std::errc::no_such_process, std::errc::permission_denied.
[[nodiscard]] result<std::vector<NsDiffEntry>> diff(pid_t a, pid_t b) noexcept;

/// What a process is isolated from: the types in which it is in another namespace than a
/// reference process, and which reference that was.
struct Isolation {
  /// Which process the namespaces were compared with.
  enum class Reference {
    init,     ///< PID 1 of the caller's /proc: the host, seen from the caller's pid namespace
    caller,   ///< the calling thread, when PID 1's links cannot be read (sandboxes, this VM)
    process,  ///< the process the caller named
  };

  NsTypeSet types;    ///< where the process is in another namespace than the reference
  NsTypeSet unknown;  ///< types not compared: the link of either side could not be read
  Reference reference = Reference::init;
  pid_t reference_pid = 0;  ///< 1, the caller's thread id, or the pid asked for
};

/// The process isolated_from(pid) compares with, and its links (ProcEntry::ino, all ten): PID 1
/// of the caller's /proc when every link of it can be read, else the calling thread.
struct IsolationReference {
  Isolation::Reference kind = Isolation::Reference::init;
  ProcEntry proc;
};

/// Reads the default reference of isolated_from(pid), for callers that compare link by link.
/// Errors: nsfun::errc::proc_not_mounted.
[[nodiscard]] result<IsolationReference> isolation_reference() noexcept;

/// What process `pid` is isolated from, compared with the init of the caller's pid namespace
/// (PID 1) when its links can be read, else with the calling thread's own namespaces (PID 1's
/// links are unreadable in many sandboxes even for root); `reference` says which was used.
/// Errors: std::errc::no_such_process, std::errc::permission_denied (for `pid`).
[[nodiscard]] result<Isolation> isolated_from(pid_t pid) noexcept;

/// What process `pid` is isolated from, compared with process `reference`.
/// Errors: std::errc::no_such_process, std::errc::permission_denied (for either).
[[nodiscard]] result<Isolation> isolated_from(pid_t pid, pid_t reference) noexcept;

/// One nsfs bind mount from /proc/self/mountinfo: which namespace, mounted where.
struct NsfsMount {
  Namespace ns;
  std::string path;
};

/// Opens a namespace a Snapshot listed, the way it was found: the link of its lowest pid, its
/// first bind mount, or its holder's fd (the network namespace of a socket, with SIOCGSKNS).
/// The namespace is checked to be the one listed: a pid reused or a mount replaced since fails.
/// Errors: std::errc::no_such_process (gone, or every way to it now leads elsewhere),
/// std::errc::permission_denied; each naming the namespace ("net:[4026532301]").
[[nodiscard]] result<NsFd> open_namespace(const NsSummary& s) noexcept;

/// The nsfs bind mounts visible in the caller's mount namespace (e.g. /run/netns/NAME).
[[nodiscard]] result<std::vector<NsfsMount>> nsfs_mounts() noexcept;

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/snapshot.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun – the /proc scanner: one pass over /proc reading only what the caller asked for.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

/// What a scan reads besides the namespace links. Each field costs syscalls per process, so
/// only the ones asked for are read.
struct ProcScanOptions {
  /// The namespace types whose links are read (one readlinkat each per process).
  NsTypeSet types = NsTypeSet::all();
  /// Also read pid_for_children and time_for_children (when pid/time are in `types`).
  bool for_children = false;
  bool ppid = false;     ///< parent pid and command name (/proc/PID/stat)
  bool uid = false;      ///< owner uid (fstatat /proc/PID)
  bool cmdline = false;  ///< full command line (/proc/PID/cmdline)
  bool nspid = false;    ///< pid in each nested pid namespace (NSpid in /proc/PID/status)
  /// Also list threads whose namespaces differ from their process leader's.
  bool threads = false;
  /// Scan only these pids (in this order) instead of every process.
  std::optional<std::vector<pid_t>> pids;
  /// Worker threads: 0 picks by the number of processes and CPUs; 1 never splits.
  unsigned workers = 0;
  /// For a scan of every process, read the links of all of them with one pass of a BPF task
  /// iterator when this build has it and the caller may load it (root: CAP_BPF and
  /// CAP_PERFMON): one read() instead of a readlinkat per link per process. The values are the
  /// ones the links show; anything else still comes from /proc, and without the iterator the
  /// scan reads /proc only. ProcScanStats::task_iter says which way was taken.
  bool task_iter = true;
};

/// One process (or, with `threads`, one thread that differs from its leader) as /proc showed it.
struct ProcEntry {
  pid_t pid = 0;  ///< the process (thread group) id
  pid_t tid = 0;  ///< == pid for the process itself; a thread's id for thread entries
  /// Inode of each /proc/PID/ns link, indexed by NsLink; 0 where not read or not readable.
  std::array<std::uint64_t, ns_link_count> ino{};
  pid_t ppid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  std::string comm;          ///< command name (with `ppid`)
  std::string cmdline;       ///< arguments joined by spaces (with `cmdline`)
  std::vector<pid_t> nspid;  ///< outermost first (with `nspid`)

  /// The namespace behind a link, or an empty Namespace when that link was not read.
  [[nodiscard]] Namespace ns(NsLink l, std::uint64_t nsfs_dev) const noexcept {
    std::uint64_t i = ino[static_cast<std::size_t>(l)];
    return i == 0 ? Namespace{} : Namespace(type_of(l), nsfs_dev, i);
  }
};

/// What a scan met besides processes: the races that are normal on a live system.
struct ProcScanStats {
  std::size_t seen = 0;      ///< pids listed in /proc
  std::size_t vanished = 0;  ///< exited before any link was read (ENOENT/ESRCH)
  std::size_t denied = 0;    ///< links not readable (EACCES/EPERM)
  bool task_iter = false;    ///< the links came from the BPF task iterator (ProcScanOptions)
  // A process is kept when at least one link was read; links it no longer has are 0. A zombie
  // keeps its user and pid links, and lsns counts it in those namespaces too. Thread entries
  // (ProcScanOptions::threads) add to vanished/denied but not to seen.
};

/// The result of one pass over /proc.
struct ProcScan {
  std::vector<ProcEntry> procs;  ///< in ascending pid order (threads after their leader)
  ProcScanStats stats;
  std::uint64_t nsfs_dev = 0;  ///< the device of nsfs, for building Namespace values
};

/// Scans /proc once. Processes that exit mid-scan or whose links are unreadable are skipped and
/// counted in stats, never errors. Errors: nsfun::errc::proc_not_mounted.
[[nodiscard]] result<ProcScan> scan_procs(const ProcScanOptions& options = {}) noexcept;

/// Reads one process, all ten links and the fields asked for.
/// Errors: std::errc::no_such_process, std::errc::permission_denied.
[[nodiscard]] result<ProcEntry> scan_proc(pid_t pid, const ProcScanOptions& options = {}) noexcept;

}  // namespace nsfun

// Header-only: the implementation needs the private <nsfun/detail/scan_internal.hpp>, which needs
// this header; that one includes the implementation at its end, so that either header may come
// first.
#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/detail/scan_internal.hpp>
#endif

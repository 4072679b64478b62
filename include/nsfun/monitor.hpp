// SPDX-License-Identifier: MIT
// nsfun – NsMonitor: every namespace as it appears and goes, however short its life.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

/// Where a monitor's events come from. `automatic` takes the best one the caller may use.
enum class MonitorBackend : std::uint8_t {
  automatic,
  /// BPF programs on kernel tracepoints (task_newtask, sys_exit, kfree, kmem_cache_free,
  /// sched_process_exit/free), streaming through a BPF ring buffer: every namespace, however
  /// short-lived, with the task that made it. Needs CAP_BPF and CAP_PERFMON (root) and BTF.
  bpf,
  /// The proc connector (fork, exec, exit) with targeted reads of that process's links, plus a
  /// periodic rescan for unshare/setns without exec. Needs to run in the initial user and pid
  /// namespaces (recent kernels ask no capability there; older ones CAP_NET_ADMIN).
  connector,
  /// Periodic rescans of /proc (unprivileged).
  poll,
};

/// "auto", "bpf", "connector", "poll".
[[nodiscard]] NSFUN_INLINE std::string_view name(MonitorBackend b) noexcept;

/// Parses a backend name as name() prints it ("auto" for automatic).
[[nodiscard]] NSFUN_INLINE std::optional<MonitorBackend> monitor_backend_from_name(
    std::string_view s) noexcept;

enum class NsEventKind : std::uint8_t {
  appeared,  ///< NEW: a namespace came into existence (or, for poll, was first seen)
  gone,      ///< GONE: it was freed; `lived` says for how long where its birth was seen
  join,      ///< JOIN: a process entered it (setns), with MonitorOptions::processes
  leave,     ///< LEAVE: a process left it (setns, unshare, exit), with MonitorOptions::processes
  lost,      ///< events were lost (ring buffer full, netlink overrun): `lost` says how many
};

/// "NEW", "GONE", "JOIN", "LEAVE", "LOST".
[[nodiscard]] NSFUN_INLINE std::string_view name(NsEventKind k) noexcept;

/// One thing that happened to a namespace.
struct NsEvent {
  NsEventKind kind = NsEventKind::appeared;
  /// When it happened (for the BPF backend the kernel's timestamp, else when it was noticed).
  std::chrono::system_clock::time_point time{};
  /// The same instant on CLOCK_MONOTONIC, in nanoseconds (for latencies).
  std::uint64_t monotonic_ns = 0;
  /// The namespace: type, inode and, where the kernel has it (Linux 6.18+), the 64-bit id that
  /// is never reused. Empty for `lost`.
  Namespace ns;
  /// NEW: the task that created it (for clone, the parent); JOIN/LEAVE: the process. 0 when
  /// unknown (GONE, or a namespace first seen by a rescan).
  pid_t pid = 0;
  pid_t tid = 0;
  std::string comm;
  /// The owning user namespace's inode (for a user namespace, its parent's); 0 when unknown.
  std::uint64_t owner = 0;
  /// GONE: how long it lived, when its NEW was seen by this monitor.
  std::optional<std::chrono::nanoseconds> lived;
  /// LOST: how many events were lost.
  std::uint64_t lost = 0;
};

struct MonitorOptions {
  /// The namespace types reported.
  NsTypeSet types = NsTypeSet::all();
  MonitorBackend backend = MonitorBackend::automatic;
  /// poll: the rescan period; connector: the period of the rescan that catches unshare/setns
  /// without exec. BPF needs none.
  std::chrono::milliseconds interval{1000};
  /// Also report JOIN and LEAVE for processes (the connector and poll backends see them at
  /// exec/exit and on rescans; BPF at setns, unshare and exit).
  bool processes = false;
  /// BPF: the ring buffer's size in bytes (a power of two, at least one page).
  std::size_t ring_bytes = std::size_t{1} << 22;
};

/// Counters of a monitor's work so far.
struct MonitorStats {
  std::uint64_t events = 0;    ///< events delivered
  std::uint64_t lost = 0;      ///< events lost (also reported as `lost` events)
  std::uint64_t rescans = 0;   ///< full /proc rescans
  std::uint64_t rechecks = 0;  ///< liveness checks of single namespaces
};

namespace detail {
class MonitorSource;
}  // namespace detail

/// Watches namespaces come and go.
///
/// Pull style: wait on fd() in your own event loop (readable when next() has something or work
/// is due), then call next(0) until it returns no event; or call next(timeout) to wait here.
/// Push style: run(fn) calls fn for each event until fn returns false or `stop_fd` is readable.
///
/// Identity is the 64-bit namespace id where the kernel has one (Linux 6.18+), so a namespace
/// whose inode number is recycled is never taken for the old one coming back. Everything the
/// monitor made (BPF programs, links and maps, sockets, timers) is gone when it is destroyed;
/// nothing is pinned.
class NsMonitor {
 public:
  /// Starts watching with the backend asked for, or with the best one permitted (automatic);
  /// backend() and why() say which one and why the better ones were not taken.
  /// Errors: errc::empty_namespace_type_list for no type; std::errc::invalid_argument for an
  /// interval under 1 ms or a ring_bytes that is not a power of two of at least one page; the
  /// backend's own error when one was asked for by name and cannot start here.
  [[nodiscard]] static NSFUN_INLINE result<NsMonitor> open(
      const MonitorOptions& options = {}) noexcept;

  NSFUN_INLINE NsMonitor(NsMonitor&&) noexcept;
  NSFUN_INLINE NsMonitor& operator=(NsMonitor&&) noexcept;
  NsMonitor(const NsMonitor&) = delete;
  NsMonitor& operator=(const NsMonitor&) = delete;
  NSFUN_INLINE ~NsMonitor();

  [[nodiscard]] NSFUN_INLINE MonitorBackend backend() const noexcept;

  /// One line on the backend in use and why the better ones were not taken, e.g.
  /// "bpf unavailable: load BPF programs: Operation not permitted; using connector".
  [[nodiscard]] NSFUN_INLINE const std::string& why() const noexcept;

  /// A file descriptor that polls readable when next(0) may return an event or pending work is
  /// due. Owned by the monitor.
  [[nodiscard]] NSFUN_INLINE int fd() const noexcept;

  /// The next event, waiting up to `timeout` (negative: without limit); no event when the time
  /// ran out. Errors: the backend's (a read that failed).
  [[nodiscard]] NSFUN_INLINE result<std::optional<NsEvent>> next(
      std::chrono::milliseconds timeout) noexcept;

  /// Calls `fn` for each event until it returns false, or until `stop_fd` (when not -1) polls
  /// readable (a signalfd, an eventfd); returns then.
  [[nodiscard]] NSFUN_INLINE result<void> run(const std::function<bool(const NsEvent&)>& fn,
                                              int stop_fd = -1) noexcept;

  [[nodiscard]] NSFUN_INLINE MonitorStats stats() const noexcept;

 private:
  struct Impl;
  explicit NsMonitor(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// What favor_monitor_thread() left the calling thread with.
struct MonitorThreadPriority {
  int nice = 0;                       ///< the thread's nice value now
  std::chrono::microseconds slice{};  ///< the time slice asked for (0: the kernel's default)
};

/// Asks the scheduler to run the calling thread soon after an event wakes it: for the thread
/// that reads an NsMonitor on a busy machine. The connector backend reads a new process's links
/// when it gets to the process's event; on a machine saturated by the very processes it watches,
/// a monitor at the default priority gets there late, after short-lived ones are gone. Sets the
/// nice value `nice` where permitted (lowering it needs CAP_SYS_NICE or RLIMIT_NICE; otherwise
/// the thread keeps its own) and a 100 µs time slice (sched_setattr's sched_runtime, which the
/// EEVDF scheduler of Linux 6.12+ honours for SCHED_OTHER: a woken thread with a short slice
/// preempts the running one; older kernels ignore it), as auditd raises its own priority. It
/// takes no more CPU than the events cost. Changes only the calling thread; `nsm monitor` calls
/// it with the default.
/// Errors: the errno of sched_setattr(2) when even the slice at the thread's own nice value is
/// refused (std::errc::invalid_argument for a nice outside -20..19).
[[nodiscard]] NSFUN_INLINE result<MonitorThreadPriority> favor_monitor_thread(
    int nice = -10) noexcept;

}  // namespace nsfun

// Header-only: the implementation needs the private <nsfun/detail/monitor_source.hpp>, which
// needs this header; that one includes the implementation at its end, so that either header may
// come first.
#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/detail/monitor_source.hpp>
#endif

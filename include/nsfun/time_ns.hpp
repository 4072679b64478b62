// SPDX-License-Identifier: MIT
// nsfun – time namespaces: CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets (timens_offsets).
//
// A time namespace shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME (and their _RAW, _COARSE and
// _ALARM variants) for the processes in it. The offsets can be written only while no process
// has entered the namespace yet: after unshare(CLONE_NEWTIME) and before the first fork, exec or
// setns into it. acquire_time_ns() does all of that for the caller.
#pragma once

#include <chrono>
#include <string_view>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun {

/// How far the clocks of a time namespace are ahead of (or, negative, behind) the host's.
/// The kernel refuses offsets that would make a clock negative now, or beyond about 146 years.
struct TimeOffsets {
  std::chrono::nanoseconds monotonic{};  ///< added to CLOCK_MONOTONIC
  std::chrono::nanoseconds boottime{};   ///< added to CLOCK_BOOTTIME

  friend bool operator==(const TimeOffsets&, const TimeOffsets&) = default;
};

/// Writes the offsets of the time namespace the calling thread's children will be born into
/// (its time_for_children), which must be a new one no process has entered yet: call it on a
/// thread that just did unshare(NsTypeSet{NsType::time}). Writes /proc/TID/timens_offsets
/// (the thread's own entry; /proc/self and /proc/thread-self have none for a non-main thread).
/// Wraps: proc(5) timens_offsets, time_namespaces(7).
/// Affects: the calling thread's time_for_children namespace.
/// Needs: CAP_SYS_TIME in the user namespace that owns the time namespace.
/// Errors: a failed write (step "write") names both offsets and the file, as in
/// "write monotonic 0s boottime -3155760000s to /proc/42/timens_offsets: the boottime offset
/// would make the clock negative"; the reason says why for std::errc::permission_denied (a
/// process has already entered the namespace, or it is the initial one) and, when the caller's
/// clocks show it, for std::errc::result_out_of_range (an offset that would make a clock
/// negative now, or put it beyond about 146 years); std::errc::operation_not_permitted.
[[nodiscard]] result<void> set_time_offsets(const TimeOffsets& offsets) noexcept;

/// The same for the time_for_children namespace of process (or thread) `pid`: what a spawner
/// does for a child that unshared CLONE_NEWTIME and waits, before it execs.
/// Errors: as set_time_offsets(offsets); std::errc::no_such_file_or_directory (no such pid; step
/// "open", naming /proc/PID/timens_offsets).
[[nodiscard]] result<void> set_time_offsets(pid_t pid, const TimeOffsets& offsets) noexcept;

/// Creates a new time namespace with these offsets and returns an fd on it; the caller's
/// threads stay where they are. Made on a short-lived thread (unshare(CLONE_NEWTIME), write
/// the offsets, open its time_for_children). A process enters it with enter(ns) (setns: the
/// caller moves at once and must be single-threaded; its children follow), or is spawned in it.
/// Needs: CAP_SYS_ADMIN (to unshare) and CAP_SYS_TIME.
/// Errors: std::errc::result_out_of_range (step "write", naming the offsets, as for
/// set_time_offsets(): an offset would make a clock negative or is too large),
/// std::errc::operation_not_permitted (step "unshare", object "time").
[[nodiscard]] result<TimeNs> acquire_time_ns(const TimeOffsets& offsets) noexcept;

/// The offsets of the time namespace process (or thread) `pid` gives its children (its
/// time_for_children, which is its own namespace unless it unshared a new one): reads
/// /proc/PID/timens_offsets. For the calling process, pass ::getpid().
/// Errors (naming /proc/PID/timens_offsets): std::errc::no_such_file_or_directory (no such pid,
/// or no time namespaces in the kernel), std::errc::invalid_argument (unexpected file contents;
/// the line is quoted).
[[nodiscard]] result<TimeOffsets> time_offsets(pid_t pid) noexcept;

namespace detail {

// Not API: writes both offsets to `path` (a /proc/PID/timens_offsets) in one write; a failed
// write names the offsets and the file and says why where the errno alone would puzzle (EACCES,
// ERANGE). It allocates nothing and makes only async-signal-safe calls: set_time_offsets() and
// spawn's child (between clone and exec) both write through it.
[[nodiscard]] result<void> write_time_offsets(const char* path,
                                              const TimeOffsets& offsets) noexcept;

// Not API: parses the text of a /proc/PID/timens_offsets (`source` names it in errors). Refuses
// what the kernel never prints: nanoseconds outside [0, 1e9), seconds beyond KTIME_SEC_MAX, an
// unknown clock, anything after the numbers. time_offsets() reads through it.
[[nodiscard]] result<TimeOffsets> parse_time_offsets(std::string_view text,
                                                     std::string_view source) noexcept;

}  // namespace detail

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/time_ns.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun – private: every process's namespace links from one pass of a BPF task iterator
// (src/bpf/task_ns.bpf.c), for the scanner to use instead of readlinkat where it is allowed.
#pragma once

#include <cstddef>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::detail {

// The record is plain C (the BPF program includes it too) and includes nothing: included here, its
// struct is nsfun::detail::nsfun_task_ns, and its macros are checked against nsfun::NsLink and
// undone below, so none reaches a user of the headers.
#include <nsfun/detail/task_ns_record.h>

inline constexpr unsigned task_ns_magic = NSFUN_TASK_NS_MAGIC;
static_assert(NSFUN_LINK_COUNT == ns_link_count);
static_assert(NSFUN_LINK_USER == static_cast<int>(NsLink::user));
static_assert(NSFUN_LINK_MNT == static_cast<int>(NsLink::mnt));
static_assert(NSFUN_LINK_UTS == static_cast<int>(NsLink::uts));
static_assert(NSFUN_LINK_IPC == static_cast<int>(NsLink::ipc));
static_assert(NSFUN_LINK_PID == static_cast<int>(NsLink::pid));
static_assert(NSFUN_LINK_NET == static_cast<int>(NsLink::net));
static_assert(NSFUN_LINK_CGROUP == static_cast<int>(NsLink::cgroup));
static_assert(NSFUN_LINK_TIME == static_cast<int>(NsLink::time));
static_assert(NSFUN_LINK_PID_FOR_CHILDREN == static_cast<int>(NsLink::pid_for_children));
static_assert(NSFUN_LINK_TIME_FOR_CHILDREN == static_cast<int>(NsLink::time_for_children));
#undef NSFUN_LINK_USER
#undef NSFUN_LINK_MNT
#undef NSFUN_LINK_UTS
#undef NSFUN_LINK_IPC
#undef NSFUN_LINK_PID
#undef NSFUN_LINK_NET
#undef NSFUN_LINK_CGROUP
#undef NSFUN_LINK_TIME
#undef NSFUN_LINK_PID_FOR_CHILDREN
#undef NSFUN_LINK_TIME_FOR_CHILDREN
#undef NSFUN_LINK_COUNT
#undef NSFUN_TASK_NS_MAGIC

// One process as the iterator saw it: its pid and the inode behind each link (indexed by NsLink),
// 0 where the link would not be readable.
using TaskNs = nsfun_task_ns;

// The iterator's records, sorted by pid. Empty when the iterator is not built in, cannot be
// loaded (no CAP_BPF and CAP_PERFMON, no BTF, an older kernel), or reports pids of another pid
// namespace than the one `proc_fd`'s /proc shows; the scan then reads /proc as before.
class TaskNsTable {
 public:
  // `expected`: about how many processes there are (room is made for that many up front).
  [[nodiscard]] static TaskNsTable read(int proc_fd, std::size_t expected) noexcept;

  [[nodiscard]] bool empty() const noexcept { return records_.size() <= 1; }

  // The record for `pid`, or nullptr (the process started after the iterator passed it).
  [[nodiscard]] const TaskNs* find(pid_t pid) const noexcept;

  // Every process's record, by pid (empty when the table is).
  [[nodiscard]] const TaskNs* begin() const noexcept {
    return empty() ? nullptr : records_.data() + 1;
  }

  [[nodiscard]] const TaskNs* end() const noexcept {
    return empty() ? nullptr : records_.data() + records_.size();
  }

 private:
  friend class TaskIterLink;

  // Reads one pass from iterator fd `iter` (closed here) and checks it against `proc_fd`.
  [[nodiscard]] static TaskNsTable from_iter(int iter, int proc_fd, std::size_t expected) noexcept;

  std::vector<TaskNs> records_;  // as read: the iterator's first record, then one per process
};

// The iterator loaded once and kept attached (as a BPF link, nothing pinned) for many passes,
// for a caller that reads every process's links again and again (NsMonitor's rescans): each
// read() only creates an iterator fd on the link, without loading the program again. Closing
// it (the destructor) unloads the program. Move-only.
class TaskIterLink {
 public:
  // An empty link when the iterator is not built in or cannot be loaded here.
  [[nodiscard]] static TaskIterLink open() noexcept;

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(link_); }

  // One pass, as TaskNsTable::read(); empty when there is no link or the pass fails.
  [[nodiscard]] TaskNsTable read(int proc_fd, std::size_t expected) const noexcept;

 private:
  UniqueFd link_;
};

// Whether this build has the iterator at all (NSFUN_HAVE_BPF: set by CMake when NSFUN_BPF built
// it, for nsfun::nsfun and nsfun::header_only alike; without it, 0).
[[nodiscard]] bool task_iter_built() noexcept;

}  // namespace nsfun::detail

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/task_iter.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun – private: every process's namespace links from one pass of a BPF task iterator
// (src/bpf/task_ns.bpf.c), for the scanner to use instead of readlinkat where it is allowed.
#pragma once

#include <cstddef>
#include <vector>

#include <sys/types.h>

#include <nsfun/detail/task_ns_record.h>

namespace nsfun::detail {

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

 private:
  std::vector<TaskNs> records_;  // as read: the iterator's first record, then one per process
};

// Whether this build has the iterator at all (NSFUN_BPF).
[[nodiscard]] bool task_iter_built() noexcept;

}  // namespace nsfun::detail

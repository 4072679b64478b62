// SPDX-License-Identifier: MIT
// nsfun – reads the BPF task iterator into a table the scanner can look pids up in.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <new>

#include <unistd.h>

#include <nsfun/detail/task_iter.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

#if NSFUN_HAVE_BPF
#  include "bpf/task_ns_loader.h"
#endif

namespace nsfun::detail {

bool task_iter_built() noexcept {
  return NSFUN_HAVE_BPF != 0;
}

const TaskNs* TaskNsTable::find(pid_t pid) const noexcept {
  if (empty()) {
    return nullptr;
  }
  const auto want = static_cast<unsigned>(pid);
  auto it = std::lower_bound(records_.begin() + 1, records_.end(), want,
                             [](const TaskNs& t, unsigned p) { return t.pid < p; });
  return it != records_.end() && it->pid == want ? &*it : nullptr;
}

#if NSFUN_HAVE_BPF

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

namespace {

// The pid "self" resolves to in this /proc: getpid() only when /proc shows our pid namespace.
pid_t proc_self(int proc_fd) noexcept {
  char buf[32];
  ssize_t n = ::readlinkat(proc_fd, "self", buf, sizeof(buf));
  pid_t pid = 0;
  if (n > 0) {
    std::from_chars(buf, buf + n, pid);
  }
  return pid;
}

// Reads the whole iteration into `out`; false on any error (the table is then not used).
bool read_all(int fd, std::vector<TaskNs>& out) {
  std::size_t bytes = 0;
  for (;;) {
    if (bytes == out.size() * sizeof(TaskNs)) {
      out.resize(out.size() * 2);
    }
    char* base = reinterpret_cast<char*>(out.data());
    ssize_t n = ::read(fd, base + bytes, out.size() * sizeof(TaskNs) - bytes);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    if (n == 0) {
      break;
    }
    bytes += static_cast<std::size_t>(n);
  }
  if (bytes % sizeof(TaskNs) != 0) {
    return false;
  }
  out.resize(bytes / sizeof(TaskNs));
  return true;
}

bool by_pid(const TaskNs& a, const TaskNs& b) noexcept {
  return a.pid < b.pid;
}

}  // namespace

TaskNsTable TaskNsTable::read(int proc_fd, std::size_t expected) noexcept {
  TaskNsTable table;
  int fd = nsfun_task_ns_open();
  if (fd < 0) {
    return table;
  }
  UniqueFd iter = UniqueFd::adopt(fd);  // owns: just opened
  try {
    std::vector<TaskNs>& r = table.records_;
    r.resize(expected + expected / 8 + 64);
    if (!read_all(iter.get(), r) || r.empty()) {
      r.clear();
      return table;
    }
    // The first record says at which pid namespace level the reader is. The pids are the ones
    // /proc shows only when that is the initial namespace (level 0: pids are global) and /proc
    // is that namespace's (its "self" is our pid).
    const TaskNs& head = r.front();
    if (head.pid != 0 || head.ino[0] != NSFUN_TASK_NS_MAGIC || head.ino[1] != 0 ||
        proc_self(proc_fd) != ::getpid()) {
      r.clear();
      return table;
    }
    // The iterator walks pids in order; sort anyway rather than trust it for the lookups.
    if (!std::is_sorted(r.begin() + 1, r.end(), by_pid)) {
      std::sort(r.begin() + 1, r.end(), by_pid);
    }
  } catch (const std::bad_alloc&) {
    table.records_.clear();
  }
  return table;
}

#else

TaskNsTable TaskNsTable::read(int, std::size_t) noexcept {
  return {};
}

#endif

}  // namespace nsfun::detail

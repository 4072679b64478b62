// SPDX-License-Identifier: MIT
// nsfun – the BPF task iterator's table: the implementation (see <nsfun/config.hpp>). Loads the
// iterator (src/bpf/task_ns.bpf.c) from its light skeleton, generated at build time as C++
// (cmake/NsfunBpf.cmake: <nsfun/detail/task_ns.skel.hpp>), and reads it into a table the scanner
// can look pids up in. Built with the iterator only where NSFUN_HAVE_BPF is 1 (CMake sets it for
// nsfun::nsfun and nsfun::header_only when NSFUN_BPF built it); otherwise the table is always
// empty and the scan reads /proc only.
#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>

#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/task_iter.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

#if defined(NSFUN_HAVE_BPF) && NSFUN_HAVE_BPF
// libbpf's loader helpers (macros undone: <nsfun/detail/bpf_loader.hpp>), then the generated
// skeleton in a namespace of its own: its struct nsfun_task_ns_skel and functions stay out of the
// global namespace.
#  include <nsfun/detail/bpf_loader.hpp>

namespace nsfun::detail::task_ns_skel {
#  include <nsfun/detail/task_ns.skel.hpp>
}  // namespace nsfun::detail::task_ns_skel
#endif

namespace nsfun::detail {

NSFUN_INLINE bool task_iter_built() noexcept {
#if defined(NSFUN_HAVE_BPF) && NSFUN_HAVE_BPF
  return true;
#else
  return false;
#endif
}

NSFUN_INLINE const TaskNs* TaskNsTable::find(pid_t pid) const noexcept {
  if (empty()) {
    return nullptr;
  }
  const auto want = static_cast<unsigned>(pid);
  auto it = std::lower_bound(records_.begin() + 1, records_.end(), want,
                             [](const TaskNs& t, unsigned p) { return t.pid < p; });
  return it != records_.end() && it->pid == want ? &*it : nullptr;
}

#if defined(NSFUN_HAVE_BPF) && NSFUN_HAVE_BPF

namespace task_iter {

// A BPF link of the loaded iterator (it holds the program), or -errno when the iterator cannot
// be loaded here (no CAP_BPF/CAP_PERFMON, no BTF, an older kernel, lockdown). Every other fd it
// made is closed again.
inline int open_link() noexcept {
  namespace skel = task_ns_skel;
  skel::nsfun_task_ns_skel* obj = skel::nsfun_task_ns_skel__open_and_load();
  if (obj == nullptr) {
    return errno != 0 ? -errno : -EINVAL;
  }
  int link = skel_link_create(obj->progs.nsfun_task_ns.prog_fd, 0, BPF_TRACE_ITER);
  int err = link < 0 ? -errno : 0;
  skel::nsfun_task_ns_skel__destroy(obj);
  return link >= 0 ? link : err;
}

// An fd to read one pass of nsfun_task_ns records from (over every task), or -errno.
inline int create_iter(int link) noexcept {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.iter_create.link_fd = static_cast<__u32>(link);
  int iter = skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
  return iter >= 0 ? iter : -errno;
}

// The same, from a link of its own that the iterator fd keeps alive for as long as it lives.
inline int open_iter() noexcept {
  int link = open_link();
  if (link < 0) {
    return link;
  }
  int iter = create_iter(link);
  ::close(link);
  return iter;
}

// The pid "self" resolves to in this /proc: getpid() only when /proc shows our pid namespace.
inline pid_t proc_self(int proc_fd) noexcept {
  char buf[32];
  ssize_t n = ::readlinkat(proc_fd, "self", buf, sizeof(buf));
  pid_t pid = 0;
  if (n > 0) {
    std::from_chars(buf, buf + n, pid);
  }
  return pid;
}

// Reads the whole iteration into `out`; false on any error (the table is then not used).
inline bool read_all(int fd, std::vector<TaskNs>& out) {
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

inline bool by_pid(const TaskNs& a, const TaskNs& b) noexcept {
  return a.pid < b.pid;
}

}  // namespace task_iter

NSFUN_INLINE TaskNsTable TaskNsTable::read(int proc_fd, std::size_t expected) noexcept {
  return from_iter(task_iter::open_iter(), proc_fd, expected);
}

NSFUN_INLINE TaskNsTable TaskNsTable::from_iter(int fd,
                                                int proc_fd,
                                                std::size_t expected) noexcept {
  using task_iter::by_pid;
  TaskNsTable table;
  if (fd < 0) {
    return table;
  }
  UniqueFd iter = UniqueFd::adopt(fd);  // owns: just opened
  try {
    std::vector<TaskNs>& r = table.records_;
    r.resize(expected + expected / 8 + 64);
    if (!task_iter::read_all(iter.get(), r) || r.empty()) {
      r.clear();
      return table;
    }
    // The first record says at which pid namespace level the reader is. The pids are the ones
    // /proc shows only when that is the initial namespace (level 0: pids are global) and /proc
    // is that namespace's (its "self" is our pid).
    const TaskNs& head = r.front();
    if (head.pid != 0 || head.ino[0] != task_ns_magic || head.ino[1] != 0 ||
        task_iter::proc_self(proc_fd) != ::getpid()) {
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

NSFUN_INLINE TaskIterLink TaskIterLink::open() noexcept {
  TaskIterLink l;
  int fd = task_iter::open_link();
  if (fd >= 0) {
    l.link_ = UniqueFd::adopt(fd);  // owns: just made
  }
  return l;
}

NSFUN_INLINE TaskNsTable TaskIterLink::read(int proc_fd, std::size_t expected) const noexcept {
  if (!link_) {
    return {};
  }
  return TaskNsTable::from_iter(task_iter::create_iter(link_.get()), proc_fd, expected);
}

#else

NSFUN_INLINE TaskNsTable TaskNsTable::read(int /*proc_fd*/, std::size_t /*expected*/) noexcept {
  return {};
}

NSFUN_INLINE TaskNsTable TaskNsTable::from_iter(int fd,
                                                int /*proc_fd*/,
                                                std::size_t /*expected*/) noexcept {
  if (fd >= 0) {
    ::close(fd);
  }
  return {};
}

NSFUN_INLINE TaskIterLink TaskIterLink::open() noexcept {
  return {};
}

NSFUN_INLINE TaskNsTable TaskIterLink::read(int /*proc_fd*/,
                                            std::size_t /*expected*/) const noexcept {
  return {};
}

#endif

}  // namespace nsfun::detail

// SPDX-License-Identifier: MIT
// nsfun – private: kernel constants older headers lack, and small syscall helpers.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

#include <errno.h>
#include <linux/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <nsfun/error.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun::detail::sys {

// nsfs ioctls (linux/nsfs.h). NS_GET_ID is Linux 6.18+; the others are 4.9/4.11.
inline constexpr unsigned long ns_get_userns = _IO(0xb7, 0x1);
inline constexpr unsigned long ns_get_parent = _IO(0xb7, 0x2);
inline constexpr unsigned long ns_get_nstype = _IO(0xb7, 0x3);
inline constexpr unsigned long ns_get_owner_uid = _IO(0xb7, 0x4);
inline constexpr unsigned long ns_get_id = _IOR(0xb7, 13, std::uint64_t);

// pidfs ioctls (linux/pidfd.h, Linux 6.11+), indexed like nsfun::NsLink.
inline constexpr unsigned long pidfd_get_ns_ioctl[] = {
    _IO(0xFF, 9),   // user
    _IO(0xFF, 3),   // mnt
    _IO(0xFF, 10),  // uts
    _IO(0xFF, 2),   // ipc
    _IO(0xFF, 5),   // pid
    _IO(0xFF, 4),   // net
    _IO(0xFF, 1),   // cgroup
    _IO(0xFF, 7),   // time
    _IO(0xFF, 6),   // pid_for_children
    _IO(0xFF, 8),   // time_for_children
};

inline constexpr int clone_newtime = 0x00000080;

#ifndef SYS_pidfd_open
inline constexpr long sys_pidfd_open = 434;
#else
inline constexpr long sys_pidfd_open = SYS_pidfd_open;
#endif

// A path built without allocating: "/proc/<pid>/ns/<name>" and friends, or a relative one under
// a /proc dirfd ("1234/ns/net"), cut back with truncate() to reuse its prefix. Past the capacity
// a path is cut short (and then names nothing). Only the terminator is written up front: a
// PathBuf on the stack costs nothing per use (the scanner makes one per process).
class PathBuf {
 public:
  PathBuf() noexcept { buf_[0] = '\0'; }

  PathBuf& add(std::string_view s) noexcept {
    std::size_t n = std::min(s.size(), sizeof(buf_) - 1 - len_);
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
    buf_[len_] = '\0';
    return *this;
  }

  PathBuf& add(long n) noexcept {
    char tmp[24];
    auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), n);
    (void)ec;
    return add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
  }

  /// Cuts the path back to its first `len` characters (a size() taken earlier).
  PathBuf& truncate(std::size_t len) noexcept {
    len_ = std::min(len, len_);
    buf_[len_] = '\0';
    return *this;
  }

  [[nodiscard]] std::size_t size() const noexcept { return len_; }

  [[nodiscard]] const char* c_str() const noexcept { return buf_; }

 private:
  char buf_[4096];  // terminated as it grows
  std::size_t len_ = 0;
};

// The names of a set of types ("user,net"), built without allocating, to name what an error was
// about.
class TypeNames {
 public:
  explicit TypeNames(NsTypeSet types) noexcept {
    for (NsType t : types) {
      if (len_ > 0) {
        buf_[len_++] = ',';
      }
      std::string_view n = name(t);
      std::memcpy(buf_ + len_, n.data(), n.size());
      len_ += n.size();
    }
  }

  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  char buf_[48];  // "user,mnt,uts,ipc,pid,net,cgroup,time" is 36
  std::size_t len_ = 0;
};

// The failure for the errno of the call that just failed.
[[nodiscard]] inline auto last_error(std::string_view what) noexcept {
  return errno_error(errno, what);
}

// Names the limit behind a failed clone, clone3 or unshare making namespaces of `types`, as a
// note after the kernel's message: ENOSPC is a count limit of /proc/sys/user (for the user
// namespace the caller is in, or an outer one) or the nesting limit of pid namespaces, EUSERS
// the nesting limit of user namespaces, EAGAIN the process limits. Async-signal-safe.
inline error& with_limit_note(error& e, NsTypeSet types) noexcept {
  const int err = e.code.category() == std::generic_category() ? e.code.value() : 0;
  if (err == ENOSPC) {
    char buf[200];
    std::size_t n = 0;
    auto add = [&](std::string_view s) {
      std::size_t k = std::min(s.size(), sizeof(buf) - n);
      std::memcpy(buf + n, s.data(), k);
      n += k;
    };
    add("a limit of /proc/sys/user: ");
    bool first = true;
    for (NsType t : types) {
      add(first ? "max_" : ", max_");
      add(name(t));
      add("_namespaces");
      first = false;
    }
    add(" (here or in an outer user namespace)");
    if (types.contains(NsType::pid)) {
      add(", or 32 nested pid namespaces");
    }
    e.with_note(std::string_view(buf, n));
  } else if (err == EUSERS) {
    e.with_note("32 nested user namespaces");
  } else if (err == EAGAIN) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      e.with_note("the process limit: RLIMIT_NPROC ", rl.rlim_cur,
                  ", the pids cgroup, or kernel.threads-max");
    } else {
      e.with_note("the process limit: the pids cgroup, RLIMIT_NPROC or kernel.threads-max");
    }
  }
  return e;
}

/// Reads exactly `len` bytes (retrying on EINTR and short reads); false on EOF or an error first.
/// Async-signal-safe.
inline bool read_full(int fd, void* buf, std::size_t len) noexcept {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace nsfun::detail::sys

// SPDX-License-Identifier: MIT
// nsfun – private: small, allocation-light helpers for reading /proc.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/detail/sys.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::detail {

// A dirfd on /proc. Errors: nsfun::errc::proc_not_mounted when /proc is not procfs.
[[nodiscard]] inline result<UniqueFd> open_proc() noexcept {
  int fd = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? nsfun_error(errc::proc_not_mounted, "open").on("/proc")
                           : sys::last_error("open").on("/proc");
  }
  UniqueFd proc = UniqueFd::adopt(fd);  // owns: just opened
  if (::faccessat(fd, "self/ns", F_OK, 0) < 0) {
    return nsfun_error(errc::proc_not_mounted, "open")
        .on("/proc")
        .because("no /proc/self/ns: /proc is not a procfs mount");
  }
  return proc;
}

// The device number all nsfs files share.
[[nodiscard]] inline result<std::uint64_t> nsfs_dev(int proc_fd) noexcept {
  struct stat st {};

  if (::fstatat(proc_fd, "self/ns/net", &st, 0) < 0) {
    return sys::last_error("stat").on("/proc/self/ns/net");
  }
  return std::uint64_t{st.st_dev};
}

// Calls fn(n) for every entry of a /proc-like directory whose name is a whole number (0 only
// with `zero`: a /proc/PID/fd entry, never a pid), in directory order (ascending for /proc,
// /proc/PID/task and /proc/PID/fd), from the start. getdents64 with a large buffer: one
// syscall per few hundred entries. The kernel fills the buffer until the next entry does not
// fit, and an entry is at most 280 bytes: a call that left more room than that reached the end,
// so the usual last call, which returns 0, is skipped.
template <class F>
void for_each_numbered(int dirfd, bool zero, F&& fn) {
  ::lseek(dirfd, 0, SEEK_SET);
  alignas(8) char buf[32768];
  constexpr long largest_entry = 280;  // 19 bytes of header, a 255-byte name and its NUL, aligned
  for (;;) {
    long n = ::syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
    if (n <= 0) {
      return;
    }
    for (long off = 0; off < n;) {
      struct Dirent64 {
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };

      const char* rec = buf + off;
      unsigned short reclen = 0;
      std::memcpy(&reclen, rec + offsetof(Dirent64, reclen), sizeof(reclen));
      const char* name = rec + offsetof(Dirent64, name);
      if ((name[0] >= '1' && name[0] <= '9') || (zero && name[0] == '0' && name[1] == '\0')) {
        int value = 0;
        auto [end, ec] = std::from_chars(name, name + std::strlen(name), value);
        if (ec == std::errc() && *end == '\0') {
          fn(value);
        }
      }
      off += reclen;
    }
    if (n <= static_cast<long>(sizeof(buf)) - largest_entry) {
      return;
    }
  }
}

// Calls fn(pid) for every pid entry of /proc or /proc/PID/task (see for_each_numbered).
template <class F>
void for_each_pid(int dirfd, F&& fn) {
  for_each_numbered(dirfd, false, std::forward<F>(fn));  // pid_t is int
}

// Reads a whole (small) file relative to dirfd into `out`; returns 0 or an errno value.
// With `owner`, also the file's owner (fstat on the open file: cheaper than a second lookup; a
// /proc/PID file belongs to whom /proc/PID does).
[[nodiscard]] inline int read_at(int dirfd,
                                 const char* path,
                                 std::string& out,
                                 uid_t* owner = nullptr) {
  int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return errno;
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  if (owner != nullptr) {
    struct stat st {};

    if (::fstat(fd, &st) < 0) {
      return errno;
    }
    *owner = st.st_uid;
  }
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;  // ESRCH: the process exited after the open
    }
    out.append(buf, static_cast<std::size_t>(n));
    // procfs hands out a whole small file per read: a short read is the end, which saves the
    // read() that would return 0.
    if (static_cast<std::size_t>(n) < sizeof(buf)) {
      return 0;
    }
  }
}

// "1234 (name with ) inside) S 1 …": ppid and comm. The name ends at the *last* ')'.
inline void parse_stat(std::string_view stat, pid_t& ppid, std::string& comm) {
  std::size_t open = stat.find('(');
  std::size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return;
  }
  comm.assign(stat.substr(open + 1, close - open - 1));
  // ") S 1234 " : state, then ppid.
  std::size_t p = close + 4;
  if (p < stat.size()) {
    std::from_chars(stat.data() + p, stat.data() + stat.size(), ppid);
  }
}

// NUL-separated arguments to one space-separated line.
inline void join_cmdline(std::string& cmdline) {
  while (!cmdline.empty() && cmdline.back() == '\0') {
    cmdline.pop_back();
  }
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
}

// "NSpid:\t1234\t1\n" in /proc/PID/status -> {1234, 1}.
inline void parse_nspid(std::string_view status, std::vector<pid_t>& out) {
  out.clear();
  std::size_t at = status.find("\nNSpid:");
  if (at == std::string_view::npos) {
    return;
  }
  const char* p = status.data() + at + 7;
  const char* end = status.data() + status.size();
  while (p < end && *p != '\n') {
    while (p < end && (*p == ' ' || *p == '\t')) {
      ++p;
    }
    pid_t v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) {
      break;
    }
    out.push_back(v);
    p = next;
  }
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo (octal).
inline std::string unescape_mount_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto octal = [](char c) {
    return c >= '0' && c <= '7';
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out +=
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace nsfun::detail

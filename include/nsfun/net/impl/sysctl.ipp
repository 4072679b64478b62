// SPDX-License-Identifier: MIT
// nsfun::net – sysctl: the implementation (see <nsfun/config.hpp>). /proc/sys, opened on a
// thread inside the namespace.
#pragma once

#include <cerrno>
#include <new>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/sysctl.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::net {

namespace detail {

// "/proc/sys/" + key, dots turned into slashes unless the key is already a path.
inline result<std::string> sysctl_path_of(std::string_view key) {
  auto refuse = [key](std::string_view why) {
    return errno_error(EINVAL, "sysctl key").on('"', key, '"').because(why);
  };
  if (key.empty()) {
    return refuse("empty");
  }
  if (key.front() == '/') {
    return refuse("starts with '/' (a key is relative to /proc/sys)");
  }
  if (key.find("..") != std::string_view::npos) {
    return refuse("contains \"..\"");
  }
  if (key.find('\0') != std::string_view::npos) {
    return refuse("contains NUL");
  }
  std::string path = "/proc/sys/";
  bool is_path = key.find('/') != std::string_view::npos;
  for (char c : key) {
    path.push_back(!is_path && c == '.' ? '/' : c);
  }
  return path;
}

// A failure that does not say what it failed on (entering the namespace, say) names the file.
template <class T>
result<T> sysctl_on_path(result<T>&& r, const std::string& path) noexcept {
  if (!r && r.assume_error().object().empty()) {
    r.assume_error().on(path);
  }
  return std::move(r);
}

// Runs on a thread inside the namespace: /proc/sys/net shows the opener's namespace.
inline result<void> sysctl_write_here(const std::string& path, std::string_view value) noexcept {
  int raw = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (raw < 0) {
    return errno_error(errno, "open").on(path);
  }
  UniqueFd fd = UniqueFd::adopt(raw);  // owns: just opened
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) {
    return errno_error(errno, "write").on('"', value, "\" to ", path);
  }
  if (static_cast<std::size_t>(n) != value.size()) {
    return errno_error(EIO, "write").on('"', value, "\" to ", path).because("short write");
  }
  return sysctl_on_path(fd.close(), path);
}

inline result<std::string> sysctl_read_here(const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (raw < 0) {
    return errno_error(errno, "open").on(path);
  }
  UniqueFd fd = UniqueFd::adopt(raw);  // owns: just opened
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, "read").on(path);
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

}  // namespace detail

namespace sysctl {

NSFUN_INLINE result<void> write(const NetNs& ns,
                                std::string_view key,
                                std::string_view value) noexcept {
  try {
    if (!ns) {
      return errno_error(EBADF, "sysctl").on(key).because("empty NetNs handle");
    }
    NSFUN_TRY(auto path, detail::sysctl_path_of(key));
    return detail::sysctl_on_path(
        nsfun::detail::run_in_known(ns, [&] { return detail::sysctl_write_here(path, value); }),
        path);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "sysctl").on(key);
  }
}

NSFUN_INLINE result<std::string> read(const NetNs& ns, std::string_view key) noexcept {
  try {
    if (!ns) {
      return errno_error(EBADF, "sysctl").on(key).because("empty NetNs handle");
    }
    NSFUN_TRY(auto path, detail::sysctl_path_of(key));
    return detail::sysctl_on_path(
        nsfun::detail::run_in_known(ns, [&] { return detail::sysctl_read_here(path); }), path);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "sysctl").on(key);
  }
}

}  // namespace sysctl

}  // namespace nsfun::net

// SPDX-License-Identifier: MIT
// nsfun::net – /proc/sys, opened on a thread inside the namespace.

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/enter.hpp>
#include <nsfun/net/sysctl.hpp>

namespace nsfun::net::sysctl {

namespace {

// "/proc/sys/" + key, dots turned into slashes unless the key is already a path.
result<std::string> path_of(std::string_view key) {
  constexpr std::string_view step = "sysctl key";
  if (key.empty() || key.front() == '/' || key.find("..") != std::string_view::npos ||
      key.find('\0') != std::string_view::npos) {
    return errno_error(EINVAL, step);
  }
  std::string path = "/proc/sys/";
  bool is_path = key.find('/') != std::string_view::npos;
  for (char c : key) {
    path.push_back(!is_path && c == '.' ? '/' : c);
  }
  return path;
}

}  // namespace

result<void> write(const NetNs& ns, std::string_view key, std::string_view value) {
  if (!ns) {
    return errno_error(EBADF, "sysctl");
  }
  NSFUN_TRY(auto path, path_of(key));
  return run_in(ns, [&]() -> result<void> {
    int raw = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (raw < 0) {
      return errno_error(errno, "open /proc/sys");
    }
    UniqueFd fd = UniqueFd::adopt(raw);  // owns: just opened
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) {
      return errno_error(errno, "write /proc/sys");
    }
    if (static_cast<std::size_t>(n) != value.size()) {
      return errno_error(EIO, "write /proc/sys");
    }
    return fd.close();
  });
}

result<std::string> read(const NetNs& ns, std::string_view key) {
  if (!ns) {
    return errno_error(EBADF, "sysctl");
  }
  NSFUN_TRY(auto path, path_of(key));
  return run_in(ns, [&]() -> result<std::string> {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (raw < 0) {
      return errno_error(errno, "open /proc/sys");
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
        return errno_error(errno, "read /proc/sys");
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
  });
}

}  // namespace nsfun::net::sysctl

// SPDX-License-Identifier: MIT
// nsfun – NsFd: opening namespaces from pids, paths, pidfds and the caller, and the nsfs ioctls:
// the implementation (see <nsfun/config.hpp>).
#pragma once

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail::ns_fd {

inline constexpr int open_flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

// Kernel features, probed on first use: -1 unknown, 0 absent, 1 present.
inline std::atomic<int> have_ns_get_id{-1};
inline std::atomic<int> have_pidfd_ns_ioctl{-1};

// The kernel's 64-bit namespace id, or 0 where the kernel has no NS_GET_ID.
inline std::uint64_t read_ns_id(int fd) noexcept {
  if (have_ns_get_id.load(std::memory_order_relaxed) == 0) {
    return 0;
  }
  std::uint64_t id = 0;
  if (::ioctl(fd, detail::sys::ns_get_id, &id) == 0) {
    have_ns_get_id.store(1, std::memory_order_relaxed);
    return id;
  }
  // COMPAT(linux < 6.18): no NS_GET_ID; identity falls back to (dev, ino).
  if (errno == ENOTTY || errno == EINVAL) {
    have_ns_get_id.store(0, std::memory_order_relaxed);
  }
  return 0;
}

// Why opening `path` (/proc/<pid>/ns/<name>) said ENOENT: no /proc, no such process (or a
// zombie, which has no namespaces left), or a type this kernel does not have. The error names
// the path.
inline error diagnose_enoent(const char* path, std::string_view link_name) noexcept {
  detail::sys::PathBuf self;
  self.add("/proc/self/ns/").add(link_name);
  if (::access("/proc/self/ns", F_OK) != 0) {
    return nsfun_error(errc::proc_not_mounted, "open").on(path);
  }
  if (::access(self.c_str(), F_OK) != 0) {
    return nsfun_error(errc::unsupported_namespace_type, "open").on(path);
  }
  return errno_error(ESRCH, "open").on(path);
}

// The error of a failed open of /proc/<pid>/ns/<name> (or /proc/thread-self/ns/<name>).
inline error open_error(int err, const char* path, std::string_view link_name) noexcept {
  if (err == ENOENT) {
    return diagnose_enoent(path, link_name);
  }
  return errno_error(err, "open").on(path);
}

// The name of the PIDFD_GET_*_NAMESPACE ioctl of a link, for error messages.
inline constexpr std::string_view pidfd_ioctl_name[] = {"PIDFD_GET_USER_NAMESPACE",
                                                        "PIDFD_GET_MNT_NAMESPACE",
                                                        "PIDFD_GET_UTS_NAMESPACE",
                                                        "PIDFD_GET_IPC_NAMESPACE",
                                                        "PIDFD_GET_PID_NAMESPACE",
                                                        "PIDFD_GET_NET_NAMESPACE",
                                                        "PIDFD_GET_CGROUP_NAMESPACE",
                                                        "PIDFD_GET_TIME_NAMESPACE",
                                                        "PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE",
                                                        "PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE"};

static_assert(std::size(pidfd_ioctl_name) == ns_link_count);

// Replaces the object of a failed result (adopt names the fd; its callers know better).
template <class T, class... A>
[[nodiscard]] result<T> named(result<T>&& r, const A&... object) noexcept {
  if (!r) {
    r.assume_error().on(object...);
  }
  return std::move(r);
}

}  // namespace detail::ns_fd

NSFUN_INLINE result<NsFd> NsFd::adopt(UniqueFd fd, std::optional<NsType> expected) noexcept {
  const int n = fd.get();
  int flag = ::ioctl(n, detail::sys::ns_get_nstype);
  if (flag < 0) {
    if (errno == ENOTTY || errno == EINVAL) {
      return nsfun_error(errc::not_a_namespace, "NS_GET_NSTYPE").on("fd ", n);
    }
    return detail::sys::last_error("NS_GET_NSTYPE").on("fd ", n);
  }
  std::optional<NsType> type = ns_type_from_clone_flag(flag);
  if (!type) {
    return nsfun_error(errc::unknown_namespace_type, "NS_GET_NSTYPE")
        .on("fd ", n)
        .because("unknown CLONE_NEW* flag ", flag);
  }
  if (expected && *expected != *type) {
    return nsfun_error(errc::wrong_namespace_type, "namespace type")
        .on("fd ", n)
        .because("expected ", name(*expected), ", got ", name(*type));
  }

  struct stat st {};

  if (::fstat(n, &st) < 0) {
    return detail::sys::last_error("fstat").on("fd ", n);
  }
  Namespace ns(*type, st.st_dev, st.st_ino, detail::ns_fd::read_ns_id(fd.get()));
  return NsFd(std::move(fd), ns);
}

NSFUN_INLINE result<NsFd> NsFd::open(pid_t pid, NsLink l) noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/").add(pid).add("/ns/").add(name(l));
  if (pid <= 0) {
    return errno_error(ESRCH, "open").on(path.c_str()).because("no process has pid ", pid);
  }
  int fd = ::open(path.c_str(), detail::ns_fd::open_flags);
  if (fd < 0) {
    return detail::ns_fd::open_error(errno, path.c_str(), name(l));
  }
  return detail::ns_fd::named(adopt(UniqueFd::adopt(fd), type_of(l)),
                              path.c_str());  // owns: just opened
}

NSFUN_INLINE result<NsFd> NsFd::open(pid_t pid, NsType t) noexcept {
  return open(pid, link_of(t));
}

NSFUN_INLINE result<NsFd> NsFd::current(NsLink l) noexcept {
  // thread-self, not self: setns and unshare act per thread.
  detail::sys::PathBuf path;
  path.add("/proc/thread-self/ns/").add(name(l));
  int fd = ::open(path.c_str(), detail::ns_fd::open_flags);
  if (fd < 0) {
    return detail::ns_fd::open_error(errno, path.c_str(), name(l));
  }
  return detail::ns_fd::named(adopt(UniqueFd::adopt(fd), type_of(l)),
                              path.c_str());  // owns: just opened
}

NSFUN_INLINE result<NsFd> NsFd::current(NsType t) noexcept {
  return current(link_of(t));
}

NSFUN_INLINE result<NsFd> NsFd::open_path(const char* path,
                                          std::optional<NsType> expected) noexcept {
  // nsfs files are regular files. Checking first means a FIFO is never opened (which would
  // block) and a device never sees an open() it may act on.
  struct stat st {};

  if (::stat(path, &st) < 0) {
    return detail::sys::last_error("stat").on(path);
  }
  if (!S_ISREG(st.st_mode)) {
    return nsfun_error(errc::not_a_namespace, "stat")
        .on(path)
        .because(S_ISDIR(st.st_mode) ? "a directory, not a namespace file"
                                     : "not a regular file, so not a namespace file");
  }
  int fd = ::open(path, detail::ns_fd::open_flags | O_NONBLOCK);
  if (fd < 0) {
    return detail::sys::last_error("open").on(path);
  }
  return detail::ns_fd::named(adopt(UniqueFd::adopt(fd), expected), path);  // owns: just opened
}

NSFUN_INLINE result<NsFd> NsFd::open_pidfd(FdRef pidfd, NsLink l) noexcept {
  if (detail::ns_fd::have_pidfd_ns_ioctl.load(std::memory_order_relaxed) != 0) {
    const auto i = static_cast<std::size_t>(l);
    int fd = ::ioctl(pidfd.get(), detail::sys::pidfd_get_ns_ioctl[i], 0);
    if (fd >= 0) {
      detail::ns_fd::have_pidfd_ns_ioctl.store(1, std::memory_order_relaxed);
      // owns: the ioctl returns a new fd
      return detail::ns_fd::named(adopt(UniqueFd::adopt(fd), type_of(l)), "pidfd ", pidfd.get());
    }
    if (errno != ENOTTY && errno != EINVAL) {
      return detail::sys::last_error(detail::ns_fd::pidfd_ioctl_name[i]).on("pidfd ", pidfd.get());
    }
    // COMPAT(linux < 6.11): no PIDFD_GET_*_NAMESPACE; go through /proc below.
    detail::ns_fd::have_pidfd_ns_ioctl.store(0, std::memory_order_relaxed);
  }
  NSFUN_TRY(pid_t pid, pidfd_pid(pidfd));
  NSFUN_TRY(auto ns, open(pid, l));
  // The pid may have been reused between reading it and opening /proc/<pid>: the pidfd still
  // referring to a live process proves the namespace is that process's.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0U) < 0) {
    return detail::sys::last_error("pidfd_send_signal")
        .on("pidfd ", pidfd.get(), " (pid ", pid, ")");
  }
  return ns;
}

NSFUN_INLINE result<NsFd> NsFd::clone() const noexcept {
  auto fd = fd_.clone();
  if (!fd) {
    return detail::on_namespace(fd.assume_error(), ns_);
  }
  return NsFd(std::move(fd).assume_value(), ns_);
}

NSFUN_INLINE result<NsFd> NsFd::parent() const noexcept {
  int fd = ::ioctl(fd_.get(), detail::sys::ns_get_parent);
  if (fd < 0) {
    if (errno == EPERM) {
      return detail::on_namespace(nsfun_error(errc::no_parent, "NS_GET_PARENT"), ns_);
    }
    return detail::on_namespace(detail::sys::last_error("NS_GET_PARENT"), ns_);
  }
  auto r = adopt(UniqueFd::adopt(fd), type());  // owns: the ioctl returns a new fd
  if (!r) {
    return detail::on_namespace(r.assume_error(), ns_);
  }
  return r;
}

NSFUN_INLINE result<NsFd> NsFd::owner() const noexcept {
  int fd = ::ioctl(fd_.get(), detail::sys::ns_get_userns);
  if (fd < 0) {
    return detail::on_namespace(detail::sys::last_error("NS_GET_USERNS"), ns_);
  }
  auto r = adopt(UniqueFd::adopt(fd), NsType::user);  // owns: the ioctl returns a new fd
  if (!r) {
    return detail::on_namespace(r.assume_error(), ns_);
  }
  return r;
}

NSFUN_INLINE result<uid_t> NsFd::owner_uid() const noexcept {
  if (type() != NsType::user) {
    return detail::on_namespace(nsfun_error(errc::wrong_namespace_type, "NS_GET_OWNER_UID"), ns_)
        .because("expected user, got ", name(type()));
  }
  uid_t uid = 0;
  if (::ioctl(fd_.get(), detail::sys::ns_get_owner_uid, &uid) < 0) {
    return detail::on_namespace(detail::sys::last_error("NS_GET_OWNER_UID"), ns_);
  }
  return uid;
}

NSFUN_INLINE result<bool> NsFd::is_current() const noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/thread-self/ns/").add(name(type()));

  struct stat st {};

  if (::stat(path.c_str(), &st) < 0) {
    return detail::sys::last_error("stat").on(path.c_str());
  }
  return st.st_ino == ns_.ino() && st.st_dev == ns_.dev();
}

NSFUN_INLINE result<NsFdSet> NsFdSet::open(pid_t pid, NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::open(pid, t));
    set.insert(std::move(ns));
  }
  return set;
}

NSFUN_INLINE result<NsFdSet> NsFdSet::open_pidfd(FdRef pidfd, NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::open_pidfd(pidfd, link_of(t)));
    set.insert(std::move(ns));
  }
  return set;
}

NSFUN_INLINE result<NsFdSet> NsFdSet::current(NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::current(t));
    set.insert(std::move(ns));
  }
  return set;
}

}  // namespace nsfun

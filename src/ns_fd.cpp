// SPDX-License-Identifier: MIT
// nsfun – NsFd: opening namespaces from pids, paths, pidfds and the caller, and the nsfs ioctls.

#include <atomic>
#include <csignal>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>

#include "sys.hpp"

namespace nsfun {

namespace {

constexpr int open_flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

// Kernel features, probed on first use: -1 unknown, 0 absent, 1 present.
std::atomic<int> have_ns_get_id{-1};
std::atomic<int> have_pidfd_ns_ioctl{-1};

// The kernel's 64-bit namespace id, or 0 where the kernel has no NS_GET_ID.
std::uint64_t read_ns_id(int fd) noexcept {
  if (have_ns_get_id.load(std::memory_order_relaxed) == 0) {
    return 0;
  }
  std::uint64_t id = 0;
  if (::ioctl(fd, sys::ns_get_id, &id) == 0) {
    have_ns_get_id.store(1, std::memory_order_relaxed);
    return id;
  }
  // COMPAT(linux < 6.18): no NS_GET_ID; identity falls back to (dev, ino).
  if (errno == ENOTTY || errno == EINVAL) {
    have_ns_get_id.store(0, std::memory_order_relaxed);
  }
  return 0;
}

// Why opening /proc/<pid>/ns/<name> said ENOENT: no /proc, no such process (or a zombie, which
// has no namespaces left), or a type this kernel does not have.
error diagnose_enoent(std::string_view link_name) noexcept {
  sys::PathBuf self;
  self.add("/proc/self/ns/").add(link_name);
  if (::access("/proc/self/ns", F_OK) != 0) {
    return {make_error_code(errc::proc_not_mounted), "open /proc/PID/ns"};
  }
  if (::access(self.c_str(), F_OK) != 0) {
    return {make_error_code(errc::unsupported_namespace_type), "open /proc/PID/ns"};
  }
  return {std::make_error_code(std::errc::no_such_process), "open /proc/PID/ns"};
}

}  // namespace

result<NsFd> NsFd::adopt(UniqueFd fd, std::optional<NsType> expected) noexcept {
  int flag = ::ioctl(fd.get(), sys::ns_get_nstype);
  if (flag < 0) {
    if (errno == ENOTTY || errno == EINVAL) {
      return nsfun_error(errc::not_a_namespace, "ioctl NS_GET_NSTYPE");
    }
    return sys::last_error("ioctl NS_GET_NSTYPE");
  }
  std::optional<NsType> type = ns_type_from_clone_flag(flag);
  if (!type) {
    return nsfun_error(errc::unknown_namespace_type, "ioctl NS_GET_NSTYPE");
  }
  if (expected && *expected != *type) {
    return nsfun_error(errc::wrong_namespace_type, "check namespace type");
  }

  struct stat st {};

  if (::fstat(fd.get(), &st) < 0) {
    return sys::last_error("fstat namespace");
  }
  Namespace ns(*type, st.st_dev, st.st_ino, read_ns_id(fd.get()));
  return NsFd(std::move(fd), ns);
}

result<NsFd> NsFd::open(pid_t pid, NsLink l) noexcept {
  if (pid <= 0) {
    return errno_error(ESRCH, "open /proc/PID/ns");
  }
  sys::PathBuf path;
  path.add("/proc/").add(pid).add("/ns/").add(name(l));
  int fd = ::open(path.c_str(), open_flags);
  if (fd < 0) {
    if (errno == ENOENT) {
      return boost::outcome_v2::failure(diagnose_enoent(name(l)));
    }
    return sys::last_error("open /proc/PID/ns");
  }
  return adopt(UniqueFd::adopt(fd), type_of(l));  // owns: just opened
}

result<NsFd> NsFd::open(pid_t pid, NsType t) noexcept {
  return open(pid, link_of(t));
}

result<NsFd> NsFd::current(NsLink l) noexcept {
  // thread-self, not self: setns and unshare act per thread.
  sys::PathBuf path;
  path.add("/proc/thread-self/ns/").add(name(l));
  int fd = ::open(path.c_str(), open_flags);
  if (fd < 0) {
    if (errno == ENOENT) {
      return boost::outcome_v2::failure(diagnose_enoent(name(l)));
    }
    return sys::last_error("open /proc/thread-self/ns");
  }
  return adopt(UniqueFd::adopt(fd), type_of(l));  // owns: just opened
}

result<NsFd> NsFd::current(NsType t) noexcept {
  return current(link_of(t));
}

result<NsFd> NsFd::open_path(const char* path, std::optional<NsType> expected) noexcept {
  // nsfs files are regular files. Checking first means a FIFO is never opened (which would
  // block) and a device never sees an open() it may act on.
  struct stat st {};

  if (::stat(path, &st) < 0) {
    return sys::last_error("stat namespace file");
  }
  if (!S_ISREG(st.st_mode)) {
    return nsfun_error(errc::not_a_namespace, "stat namespace file");
  }
  int fd = ::open(path, open_flags | O_NONBLOCK);
  if (fd < 0) {
    return sys::last_error("open namespace file");
  }
  return adopt(UniqueFd::adopt(fd), expected);  // owns: just opened
}

result<NsFd> NsFd::open_pidfd(FdRef pidfd, NsLink l) noexcept {
  if (have_pidfd_ns_ioctl.load(std::memory_order_relaxed) != 0) {
    int fd = ::ioctl(pidfd.get(), sys::pidfd_get_ns_ioctl[static_cast<std::size_t>(l)], 0);
    if (fd >= 0) {
      have_pidfd_ns_ioctl.store(1, std::memory_order_relaxed);
      return adopt(UniqueFd::adopt(fd), type_of(l));  // owns: the ioctl returns a new fd
    }
    if (errno != ENOTTY && errno != EINVAL) {
      return sys::last_error("ioctl PIDFD_GET_NAMESPACE");
    }
    // COMPAT(linux < 6.11): no PIDFD_GET_*_NAMESPACE; go through /proc below.
    have_pidfd_ns_ioctl.store(0, std::memory_order_relaxed);
  }
  NSFUN_TRY(pid_t pid, pidfd_pid(pidfd));
  NSFUN_TRY(auto ns, open(pid, l));
  // The pid may have been reused between reading it and opening /proc/<pid>: the pidfd still
  // referring to a live process proves the namespace is that process's.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0U) < 0) {
    return sys::last_error("pidfd_send_signal");
  }
  return ns;
}

result<NsFd> NsFd::clone() const noexcept {
  NSFUN_TRY(auto fd, fd_.clone());
  return NsFd(std::move(fd), ns_);
}

result<NsFd> NsFd::parent() const noexcept {
  int fd = ::ioctl(fd_.get(), sys::ns_get_parent);
  if (fd < 0) {
    if (errno == EPERM) {
      return nsfun_error(errc::no_parent, "ioctl NS_GET_PARENT");
    }
    return sys::last_error("ioctl NS_GET_PARENT");
  }
  return adopt(UniqueFd::adopt(fd), type());  // owns: the ioctl returns a new fd
}

result<NsFd> NsFd::owner() const noexcept {
  int fd = ::ioctl(fd_.get(), sys::ns_get_userns);
  if (fd < 0) {
    return sys::last_error("ioctl NS_GET_USERNS");
  }
  return adopt(UniqueFd::adopt(fd), NsType::user);  // owns: the ioctl returns a new fd
}

result<uid_t> NsFd::owner_uid() const noexcept {
  if (type() != NsType::user) {
    return nsfun_error(errc::wrong_namespace_type, "ioctl NS_GET_OWNER_UID");
  }
  uid_t uid = 0;
  if (::ioctl(fd_.get(), sys::ns_get_owner_uid, &uid) < 0) {
    return sys::last_error("ioctl NS_GET_OWNER_UID");
  }
  return uid;
}

result<bool> NsFd::is_current() const noexcept {
  sys::PathBuf path;
  path.add("/proc/thread-self/ns/").add(name(type()));

  struct stat st {};

  if (::stat(path.c_str(), &st) < 0) {
    return sys::last_error("stat /proc/thread-self/ns");
  }
  return st.st_ino == ns_.ino() && st.st_dev == ns_.dev();
}

result<NsFdSet> NsFdSet::open(pid_t pid, NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::open(pid, t));
    set.insert(std::move(ns));
  }
  return set;
}

result<NsFdSet> NsFdSet::open_pidfd(FdRef pidfd, NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::open_pidfd(pidfd, link_of(t)));
    set.insert(std::move(ns));
  }
  return set;
}

result<NsFdSet> NsFdSet::current(NsTypeSet types) noexcept {
  NsFdSet set;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::current(t));
    set.insert(std::move(ns));
  }
  return set;
}

}  // namespace nsfun

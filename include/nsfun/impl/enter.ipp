// SPDX-License-Identifier: MIT
// nsfun – unshare, setns, the ScopedEnter guard and the run_in worker thread: the implementation
// (see <nsfun/config.hpp>).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/come_back.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail::enter_util {

// "net:[4026532481]": the namespace an error is about.
inline error& on_ns(error& e, const NsFd& ns) noexcept {
  return e.on(name(ns.type()), ":[", ns.identity().ino(), "]");
}

// "pid 42 (net,uts)": the process of a pidfd and the types asked for; the pid from fdinfo.
inline error on_pidfd(error e, FdRef pidfd, NsTypeSet types) noexcept {
  auto pid = pidfd_pid(pidfd);
  detail::sys::TypeNames text(types);
  if (pid) {
    return std::move(e).on("pid ", pid.value(), " (", text.view(), ")");
  }
  return std::move(e).on("pidfd ", pidfd.get(), " (", text.view(), ")");
}

// Threads of the calling process, from /proc/self/status; 0 when it cannot be read.
inline long thread_count() noexcept {
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return 0;
  }
  UniqueFd status = UniqueFd::adopt(fd);  // owns: just opened
  char buf[4096];
  ssize_t n = ::read(status.get(), buf, sizeof(buf) - 1);
  if (n <= 0) {
    return 0;
  }
  buf[n] = '\0';
  const char* p = std::strstr(buf, "\nThreads:");
  return p != nullptr ? std::strtol(p + 9, nullptr, 10) : 0;
}

// setns(CLONE_NEWUSER) says EINVAL both for "already in it" and "you have other threads";
// tell the caller which.
inline error explain_user_einval(const NsFd& ns) noexcept {
  auto same = ns.is_current();
  error e = errno_error(EINVAL, "setns");
  if (same && same.assume_value()) {
    e = nsfun_error(errc::own_user_namespace, "setns");
  } else if (thread_count() > 1) {
    e = nsfun_error(errc::threaded_user_namespace, "setns");
  }
  return on_ns(e, ns);
}

// The kernel refuses to switch the mount namespace of a thread that shares its fs_struct (root,
// cwd, umask) with other threads (fs/namespace.c: mntns_install); every pthread does.
inline result<void> unshare_fs() noexcept {
  if (::unshare(CLONE_FS) < 0) {
    return detail::sys::last_error("unshare CLONE_FS");
  }
  return success();
}

}  // namespace detail::enter_util

NSFUN_INLINE result<void> unshare(NsTypeSet types) noexcept {
  if (types.empty()) {
    return nsfun_error(errc::empty_namespace_type_list, "unshare");
  }
  if (::unshare(types.clone_flags()) < 0) {
    error e = detail::sys::last_error("unshare").on(detail::sys::TypeNames(types).view());
    return detail::sys::with_limit_note(e, types);
  }
  return success();
}

NSFUN_INLINE result<void> enter(const NsFd& ns) noexcept {
  if (ns.type() == NsType::mnt) {
    NSFUN_TRYV(detail::enter_util::unshare_fs());
  }
  if (::setns(ns.get(), clone_flag(ns.type())) < 0) {
    int err = errno;
    if (err == EINVAL && ns.type() == NsType::user) {
      return detail::enter_util::explain_user_einval(ns);
    }
    error e = errno_error(err, "setns");
    return detail::enter_util::on_ns(e, ns);
  }
  return success();
}

NSFUN_INLINE result<void> enter(const NsFdSet& set) noexcept {
  for (NsType t : set.types()) {
    NSFUN_TRYV(enter(*set.get(t)));
  }
  return success();
}

NSFUN_INLINE result<void> enter(FdRef pidfd, NsTypeSet types) noexcept {
  if (types.empty()) {
    return nsfun_error(errc::empty_namespace_type_list, "setns").on("pidfd ", pidfd.get());
  }
  if (types.contains(NsType::user)) {
    // Like nsenter(1): joining the user namespace one is already in is not an error here.
    NSFUN_TRY(auto user, NsFd::open_pidfd(pidfd, NsLink::user));
    NSFUN_TRY(bool same, user.is_current());
    if (same) {
      types.erase(NsType::user);
      if (types.empty()) {
        return success();
      }
    }
  }
  if (types.contains(NsType::mnt)) {
    NSFUN_TRYV(detail::enter_util::unshare_fs());
  }
  // COMPAT(linux < 5.8): setns on a pidfd fails with EINVAL; no fallback is attempted.
  if (::setns(pidfd.get(), types.clone_flags()) < 0) {
    int err = errno;
    if (err == EINVAL && types.contains(NsType::user) && detail::enter_util::thread_count() > 1) {
      return detail::enter_util::on_pidfd(nsfun_error(errc::threaded_user_namespace, "setns"),
                                          pidfd, types);
    }
    return detail::enter_util::on_pidfd(errno_error(err, "setns"), pidfd, types);
  }
  return success();
}

NSFUN_INLINE ScopedEnter::ScopedEnter() noexcept : tid_(::gettid()) {}

NSFUN_INLINE ScopedEnter::~ScopedEnter() {
  auto r = restore();
  if (!r) {
    // Carrying on would run this thread's code in namespaces it was never meant to be in.
    std::string msg =
        "nsfun: ScopedEnter: cannot restore namespaces: " + r.error().message() + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    std::abort();
  }
}

NSFUN_INLINE result<void> ScopedEnter::check_thread() const noexcept {
  if (::gettid() != tid_) {
    return errno_error(EPERM, "ScopedEnter")
        .because("used on thread ", ::gettid(), ", made on thread ", tid_);
  }
  return success();
}

NSFUN_INLINE result<void> ScopedEnter::save(NsTypeSet types) noexcept {
  NSFUN_TRYV(check_thread());
  if (types.contains(NsType::user)) {
    return nsfun_error(errc::user_namespace_not_restorable, "ScopedEnter");
  }
  for (NsType t : types - saved_.types()) {
    NSFUN_TRY(auto ns, NsFd::current(t));
    saved_.insert(std::move(ns));
    order_[count_++] = t;
    if (t == NsType::mnt) {
      // Entering a mount namespace moves cwd to its root; remember where we were.
      int fd = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        cwd_ = UniqueFd::adopt(fd);  // owns: just opened
      }
    }
  }
  return success();
}

NSFUN_INLINE result<void> ScopedEnter::enter(const NsFd& ns) noexcept {
  NSFUN_TRYV(save(NsTypeSet{ns.type()}));
  return nsfun::enter(ns);
}

NSFUN_INLINE result<void> ScopedEnter::enter(const NsFdSet& set) noexcept {
  NSFUN_TRYV(save(set.types()));
  return nsfun::enter(set);
}

NSFUN_INLINE result<void> ScopedEnter::enter(FdRef pidfd, NsTypeSet types) noexcept {
  NSFUN_TRYV(save(types));
  return nsfun::enter(pidfd, types);
}

NSFUN_INLINE result<void> ScopedEnter::restore() noexcept {
  if (count_ == 0) {
    return success();
  }
  // Another thread's setns would move that thread, and leave this one where it is.
  NSFUN_TRYV(check_thread());
  result<void> first = success();
  while (count_ > 0) {
    NsType t = order_[--count_];
    NsFd ns = saved_.take(t);
    // Keep going after a failure: put back as much as possible, report the first problem.
    if (::setns(ns.get(), clone_flag(t)) < 0 && first) {
      error e = detail::sys::last_error("setns (restore)");
      first = detail::enter_util::on_ns(e, ns);
    }
    if (t == NsType::mnt && cwd_) {
      if (::fchdir(cwd_.get()) < 0 && first) {
        first = detail::sys::last_error("fchdir (restore)");
      }
      cwd_.reset();
    }
  }
  return first;
}

namespace detail {

NSFUN_INLINE result<void> run_on_entered_thread(const NsFd* const* ns,
                                                std::size_t count,
                                                Where where,
                                                const std::function<void()>& body) noexcept {
  NsTypeSet types;
  for (std::size_t i = 0; i < count; ++i) {
    if (ns[i]->type() == NsType::user) {
      return nsfun_error(errc::threaded_user_namespace, "run_in")
          .on("user:[", ns[i]->identity().ino(), "]");
    }
    types.insert(ns[i]->type());
  }
  auto enter_and_run = [&]() -> result<void> {
    for (std::size_t i = 0; i < count; ++i) {
      NSFUN_TRYV(nsfun::enter(*ns[i]));
    }
    body();
    return success();
  };
  // On a thread of its own, the thread ends afterwards and its namespaces with it: nothing to
  // restore, whatever body did. The calling thread only for nsfun's own bodies (come_back.hpp).
  if (where == Where::here_if_safe) {
    return here_or_on_thread(types, enter_and_run);
  }
  return run_on_thread(enter_and_run);
}

}  // namespace detail

}  // namespace nsfun

// SPDX-License-Identifier: MIT
// nsfun – acquire(): new namespaces handed back as fds, made by a thread or a child process.

#include <cstring>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/acquire.hpp>
#include <nsfun/detail/come_back.hpp>
#include <nsfun/detail/sys.hpp>

namespace nsfun {

namespace {

// For time, unshare() changes only what children get: the new namespace is behind the
// time_for_children link.
NsLink new_ns_link(NsType t) noexcept {
  return t == NsType::time ? NsLink::time_for_children : link_of(t);
}

// unshare, then an fd for each new namespace; on whichever thread runs it.
result<NsFdSet> make_here(NsTypeSet types) noexcept {
  if (::unshare(types.clone_flags()) < 0) {
    return detail::sys::last_error("unshare").on(detail::sys::TypeNames(types).view());
  }
  NsFdSet made;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::current(new_ns_link(t)));
    made.insert(std::move(ns));
  }
  return made;
}

result<NsFdSet> acquire_on_thread(NsTypeSet types) noexcept {
  // net and uts: on this thread, when it can come back (see come_back.hpp). On a thread of its
  // own, the thread ends after making them; the fds keep the namespaces alive.
  return detail::here_or_on_thread(types, [&] { return make_here(types); });
}

// The kernel refuses CLONE_NEWUSER to a multithreaded process, so a user namespace is made by a
// forked child, which stays alive (blocked on a pipe) until the parent has opened its namespaces.
result<NsFdSet> acquire_in_child(NsTypeSet types) noexcept {
  int ready[2];
  int hold[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    return detail::sys::last_error("pipe2").with_context("acquire ",
                                                         detail::sys::TypeNames(types).view());
  }
  UniqueFd ready_r = UniqueFd::adopt(ready[0]);  // owns: just made
  UniqueFd ready_w = UniqueFd::adopt(ready[1]);  // owns: just made
  if (::pipe2(hold, O_CLOEXEC) < 0) {
    return detail::sys::last_error("pipe2").with_context("acquire ",
                                                         detail::sys::TypeNames(types).view());
  }
  UniqueFd hold_r = UniqueFd::adopt(hold[0]);  // owns: just made
  UniqueFd hold_w = UniqueFd::adopt(hold[1]);  // owns: just made

  pid_t pid = ::fork();
  if (pid < 0) {
    return detail::sys::last_error("fork").with_context("acquire ",
                                                        detail::sys::TypeNames(types).view());
  }
  if (pid == 0) {
    // Child of a possibly multithreaded parent: async-signal-safe calls only, then _exit.
    // Its copies of the parent's pipe ends must go, or it would never see EOF on `hold`.
    ::close(ready[0]);
    ::close(hold[1]);
    int err = ::unshare(types.clone_flags()) < 0 ? errno : 0;
    (void)!::write(ready[1], &err, sizeof(err));
    char c = 0;
    // Returns when the parent closes its end: done, or the parent died.
    while (::read(hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }

  ready_w.reset();
  hold_r.reset();
  result<NsFdSet> out = NsFdSet{};
  int err = 0;
  if (!detail::sys::read_full(ready_r.get(), &err, sizeof(err))) {
    out = nsfun_error(errc::child_failed, "acquire")
              .on(detail::sys::TypeNames(types).view())
              .because("the child that unshares died before it reported");
  } else if (err != 0) {
    out = errno_error(err, "unshare").on(detail::sys::TypeNames(types).view());
  } else {
    for (NsType t : types) {
      auto ns = NsFd::open(pid, new_ns_link(t));
      if (!ns) {
        out = ns.assume_error().with_context("acquire ", detail::sys::TypeNames(types).view());
        break;
      }
      out.value().insert(std::move(ns).value());
    }
  }
  hold_w.reset();  // lets the child exit
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return out;
}

}  // namespace

result<NsFdSet> acquire(NsTypeSet types) noexcept {
  if (types.empty()) {
    return nsfun_error(errc::empty_namespace_type_list, "acquire");
  }
  // /proc/*/ns/pid_for_children stays unopenable until the new namespace has its init
  // (kernel: pidns_for_children_get checks child_reaper), and the namespace is dead for new
  // processes once that init exits: without a process to keep, there is nothing to hand back.
  if (types.contains(NsType::pid)) {
    return nsfun_error(errc::pid_namespace_needs_process, "acquire")
        .on(detail::sys::TypeNames(types).view());
  }
  if (types.contains(NsType::user)) {
    return acquire_in_child(types);
  }
  return acquire_on_thread(types);
}

}  // namespace nsfun

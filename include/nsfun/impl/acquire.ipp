// SPDX-License-Identifier: MIT
// nsfun – acquire(): new namespaces handed back as fds, made by a thread or a held child
// process: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <cstring>
#include <string_view>

#include <sched.h>
#include <unistd.h>

#include <nsfun/acquire.hpp>
#include <nsfun/config.hpp>
#include <nsfun/detail/come_back.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/spawn.hpp>

namespace nsfun::detail::acquire_impl {

// For time, unshare() changes only what children get: the new namespace is behind the
// time_for_children link.
inline NsLink new_ns_link(NsType t) noexcept {
  return t == NsType::time ? NsLink::time_for_children : link_of(t);
}

// unshare, then an fd for each new namespace; on whichever thread runs it.
inline result<NsFdSet> make_here(NsTypeSet types) noexcept {
  if (::unshare(types.clone_flags()) < 0) {
    error e = sys::last_error("unshare").on(sys::TypeNames(types).view());
    return sys::with_limit_note(e, types);
  }
  NsFdSet made;
  for (NsType t : types) {
    NSFUN_TRY(auto ns, NsFd::current(new_ns_link(t)));
    made.insert(std::move(ns));
  }
  return made;
}

inline result<NsFdSet> acquire_on_thread(NsTypeSet types) noexcept {
  // net and uts: on this thread, when it can come back (see come_back.hpp). On a thread of its
  // own, the thread ends after making them; the fds keep the namespaces alive.
  return here_or_on_thread(types, [&] { return make_here(types); });
}

// The kernel refuses CLONE_NEWUSER to a multithreaded process, so a user namespace is made by
// a child: spawn's Command::hold(), cloned straight into the new namespaces, which it keeps
// until its fds are open; then the Child kills and reaps it. The errors read as those of the
// thread's unshare ("unshare user,net: Operation not permitted").
inline result<NsFdSet> acquire_in_child(NsTypeSet types) noexcept {
  result<Child> holder = spawn(Command::hold().namespaces(types).die_with_parent());
  if (!holder) {
    error e = holder.assume_error();
    if (e.what == "clone3") {
      error u = errno_error(e.code.value(), "unshare").on(sys::TypeNames(types).view());
      return sys::with_limit_note(u, types);
    }
    return e.with_context("acquire ", sys::TypeNames(types).view());
  }
  NsFdSet out;
  for (NsType t : types) {
    auto ns = NsFd::open(holder.assume_value().pid(), new_ns_link(t));
    if (!ns) {
      return ns.assume_error().with_context("acquire ", sys::TypeNames(types).view());
    }
    out.insert(std::move(ns).assume_value());
  }
  return out;  // the holder is killed and reaped as its Child goes
}

}  // namespace nsfun::detail::acquire_impl

namespace nsfun {

NSFUN_INLINE result<NsFdSet> acquire(NsTypeSet types) noexcept {
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
    return detail::acquire_impl::acquire_in_child(types);
  }
  return detail::acquire_impl::acquire_on_thread(types);
}

}  // namespace nsfun

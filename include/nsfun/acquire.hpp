// SPDX-License-Identifier: MIT
// nsfun – creating namespaces without entering them: acquire() hands back fds.
#pragma once

#include <nsfun/config.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

/// Creates new namespaces of `types` and returns fds on them; the caller's threads stay where
/// they are. Entering them is a separate, visible call (enter(), run_in(), spawn).
///
/// Without user, the namespaces are made by a short-lived thread (unshare, open, exit). With
/// user, by a short-lived child process (the kernel refuses CLONE_NEWUSER to a multithreaded
/// caller); the other types are then owned by the new user namespace, which has no uid/gid map.
/// For time the result holds the namespace children would be born into (time_for_children).
/// A pid namespace cannot be acquired this way: the kernel makes it reachable only once its
/// init exists, and it dies with that init; start a process in it instead (spawn).
/// Needs: CAP_SYS_ADMIN, except together with user.
/// Errors name the types: std::errc::operation_not_permitted (`unshare net,uts: Operation not
/// permitted`), nsfun::errc::empty_namespace_type_list, nsfun::errc::pid_namespace_needs_process.
[[nodiscard]] result<NsFdSet> acquire(NsTypeSet types) noexcept;

/// Creates one new namespace of type T: `auto net = nsfun::acquire<nsfun::NsType::net>();`.
template <NsType T>
[[nodiscard]] result<TypedNsFd<T>> acquire() noexcept {
  NSFUN_TRY(auto set, acquire(NsTypeSet{T}));
  return TypedNsFd<T>::from(set.take(T));
}

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/acquire.ipp>
#endif

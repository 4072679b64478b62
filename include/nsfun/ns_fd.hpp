// SPDX-License-Identifier: MIT
// nsfun – NsFd, an owning handle on a namespace file (nsfs), and its typed forms (NetNs, …).
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <utility>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail {

/// Names a namespace as the object of an error: "net:[4026531840]" (or "empty NsFd").
[[nodiscard]] inline error on_namespace(error e, const Namespace& ns) noexcept {
  if (ns.empty()) {
    e.on("empty NsFd");
  } else {
    e.on(name(ns.type()), ":[", ns.ino(), "]");
  }
  return e;
}

}  // namespace detail

/// An open namespace: an O_CLOEXEC fd on an nsfs file whose type was checked with NS_GET_NSTYPE,
/// and its identity, read once when it was opened. Move-only; the destructor closes the fd and
/// never throws; a moved-from NsFd is empty (no fd, empty identity), as after release().
///
/// Holding an NsFd keeps the namespace alive. Opening one never enters it: see enter.hpp.
///
/// Errors name what they failed on: the /proc entry (`open /proc/4242/ns/net: No such
/// process`), the file (`stat /run/netns/web: No such file or directory`), the fd of adopt()
/// (`NS_GET_NSTYPE fd 7: Not a namespace file`) or the namespace an ioctl was made on
/// (`NS_GET_PARENT net:[4026531840]: Invalid argument`). A failed type check has the step
/// "namespace type" and gives both types: `namespace type /proc/self/ns/uts: expected net, got
/// uts`.
class NsFd {
 public:
  NsFd() noexcept = default;

  /// The namespace of type `t` of process `pid` (/proc/PID/ns/TYPE).
  /// Errors, each naming the /proc path: std::errc::no_such_process (no such pid, or a zombie),
  /// std::errc::permission_denied, nsfun::errc::proc_not_mounted,
  /// nsfun::errc::unsupported_namespace_type.
  [[nodiscard]] static result<NsFd> open(pid_t pid, NsType t) noexcept;

  /// The namespace a /proc/PID/ns entry points to, including pid_for_children and
  /// time_for_children. Errors: as open(pid, type).
  [[nodiscard]] static result<NsFd> open(pid_t pid, NsLink l) noexcept;

  /// The namespace of type `t` of the calling thread (/proc/thread-self/ns/TYPE).
  [[nodiscard]] static result<NsFd> current(NsType t) noexcept;

  /// The namespace a /proc/thread-self/ns entry of the calling thread points to.
  [[nodiscard]] static result<NsFd> current(NsLink l) noexcept;

  /// The namespace a file refers to: a /proc/PID/ns entry or a bind mount such as
  /// /run/netns/NAME. With `expected`, any other type is refused. Only a regular file is opened
  /// (nsfs files are), so a FIFO or a device is refused without being opened.
  /// Errors, each naming `path`: std::errc::no_such_file_or_directory,
  /// nsfun::errc::not_a_namespace, nsfun::errc::wrong_namespace_type.
  [[nodiscard]] static result<NsFd> open_path(const char* path,
                                              std::optional<NsType> expected = {}) noexcept;

  /// The namespace of type `t` of the process a pidfd refers to (PIDFD_GET_*_NAMESPACE, Linux
  /// 6.11+; on older kernels through /proc with a liveness check on the pidfd).
  /// Errors: std::errc::no_such_process when the process has exited (naming the pidfd, or the
  /// /proc path on older kernels).
  [[nodiscard]] static result<NsFd> open_pidfd(FdRef pidfd, NsLink l) noexcept;

  /// Takes ownership of an fd that should be a namespace, checks it, reads its identity.
  /// On error the fd is closed. Errors, naming the fd ("fd 7"): nsfun::errc::not_a_namespace,
  /// nsfun::errc::wrong_namespace_type.
  [[nodiscard]] static result<NsFd> adopt(UniqueFd fd,
                                          std::optional<NsType> expected = {}) noexcept;

  /// Takes `other`'s fd and identity; `other` is left empty (no fd, empty identity).
  NsFd(NsFd&& other) noexcept
      : fd_(std::move(other.fd_)), ns_(std::exchange(other.ns_, Namespace{})) {}

  /// Closes this handle's own fd, then takes `other`'s fd and identity, leaving `other` empty.
  /// Moving a handle onto itself changes nothing.
  NsFd& operator=(NsFd&& other) noexcept {
    if (this != &other) {
      fd_ = std::move(other.fd_);
      ns_ = std::exchange(other.ns_, Namespace{});
    }
    return *this;
  }

  NsFd(const NsFd&) = delete;
  NsFd& operator=(const NsFd&) = delete;

  /// Closes the fd, if any; never throws.
  ~NsFd() = default;

  /// A second handle on the same namespace (F_DUPFD_CLOEXEC).
  [[nodiscard]] result<NsFd> clone() const noexcept;

  [[nodiscard]] NsType type() const noexcept { return ns_.type(); }

  /// The namespace's identity (type, device, inode, and 64-bit id where the kernel has one).
  [[nodiscard]] const Namespace& identity() const noexcept { return ns_; }

  /// The parent namespace (pid and user namespaces only). Wraps: ioctl(NS_GET_PARENT).
  /// Errors: std::errc::invalid_argument (type has no hierarchy),
  /// nsfun::errc::no_parent (the initial namespace, or a parent outside the caller's view).
  [[nodiscard]] result<NsFd> parent() const noexcept;

  /// The user namespace that owns this one. Wraps: ioctl(NS_GET_USERNS).
  /// Errors: std::errc::operation_not_permitted when the owner is outside the caller's view.
  [[nodiscard]] result<NsFd> owner() const noexcept;

  /// The uid (in the caller's user namespace) of the creator of this user namespace.
  /// Wraps: ioctl(NS_GET_OWNER_UID). Errors: nsfun::errc::wrong_namespace_type for other types.
  [[nodiscard]] result<uid_t> owner_uid() const noexcept;

  /// True when this is the same namespace the calling thread is in.
  [[nodiscard]] result<bool> is_current() const noexcept;

  [[nodiscard]] int get() const noexcept { return fd_.get(); }

  // NOLINTNEXTLINE(google-explicit-constructor): an NsFd lends its fd where an FdRef is taken.
  operator FdRef() const noexcept { return fd_.ref(); }

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

  /// Gives up the fd; the NsFd is empty afterwards (no fd, empty identity).
  [[nodiscard]] UniqueFd release() noexcept {
    ns_ = {};
    return std::move(fd_);
  }

 private:
  NsFd(UniqueFd fd, Namespace ns) noexcept : fd_(std::move(fd)), ns_(ns) {}

  UniqueFd fd_;
  Namespace ns_;
};

/// An NsFd whose type is known at compile time: an API that takes a NetNs cannot be handed a
/// mount namespace. Converts to `const NsFd&` wherever any namespace is accepted. Move-only; a
/// moved-from handle is empty, as a moved-from NsFd is.
template <NsType T>
class TypedNsFd {
 public:
  static constexpr NsType type_v = T;

  TypedNsFd() noexcept = default;

  /// Checks the type of `ns` at run time.
  /// Errors: nsfun::errc::wrong_namespace_type ("namespace type net:[4026531838]: expected uts,
  /// got net"), std::errc::bad_file_descriptor for an empty `ns`.
  [[nodiscard]] static result<TypedNsFd> from(NsFd ns) noexcept {
    if (!ns) {
      return errno_error(EBADF, "namespace type")
          .because("expected ", name(T), ", got an empty NsFd");
    }
    if (ns.type() != T) {
      return detail::on_namespace(nsfun_error(errc::wrong_namespace_type, "namespace type"),
                                  ns.identity())
          .because("expected ", name(T), ", got ", name(ns.type()));
    }
    return TypedNsFd(std::move(ns));
  }

  /// The namespace of type T of process `pid`.
  [[nodiscard]] static result<TypedNsFd> open(pid_t pid) noexcept {
    NSFUN_TRY(auto ns, NsFd::open(pid, T));
    return TypedNsFd(std::move(ns));
  }

  /// The calling thread's namespace of type T.
  [[nodiscard]] static result<TypedNsFd> current() noexcept {
    NSFUN_TRY(auto ns, NsFd::current(T));
    return TypedNsFd(std::move(ns));
  }

  /// The namespace of type T that a file refers to (e.g. /run/netns/NAME).
  [[nodiscard]] static result<TypedNsFd> open_path(const char* path) noexcept {
    NSFUN_TRY(auto ns, NsFd::open_path(path, T));
    return TypedNsFd(std::move(ns));
  }

  /// The namespace of type T of the process a pidfd refers to.
  [[nodiscard]] static result<TypedNsFd> open_pidfd(FdRef pidfd) noexcept {
    NSFUN_TRY(auto ns, NsFd::open_pidfd(pidfd, link_of(T)));
    return TypedNsFd(std::move(ns));
  }

  /// The untyped namespace handle, borrowed.
  [[nodiscard]] const NsFd& ns() const& noexcept { return ns_; }

  /// Takes the untyped namespace handle out; this handle is left empty.
  [[nodiscard]] NsFd&& ns() && noexcept { return std::move(ns_); }

  // NOLINTNEXTLINE(google-explicit-constructor): a typed namespace is a namespace.
  operator const NsFd&() const noexcept { return ns_; }

  [[nodiscard]] const Namespace& identity() const noexcept { return ns_.identity(); }

  [[nodiscard]] int get() const noexcept { return ns_.get(); }

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(ns_); }

 private:
  explicit TypedNsFd(NsFd ns) noexcept : ns_(std::move(ns)) {}

  NsFd ns_;
};

using UserNs = TypedNsFd<NsType::user>;
using MntNs = TypedNsFd<NsType::mnt>;
using UtsNs = TypedNsFd<NsType::uts>;
using IpcNs = TypedNsFd<NsType::ipc>;
using PidNs = TypedNsFd<NsType::pid>;
using NetNs = TypedNsFd<NsType::net>;
using CgroupNs = TypedNsFd<NsType::cgroup>;
using TimeNs = TypedNsFd<NsType::time>;

/// At most one open namespace per type: the namespaces of a process, or a set just created.
class NsFdSet {
 public:
  NsFdSet() noexcept = default;

  /// The namespaces of `types` of process `pid` (for pid and time: the process's own, not the
  /// *_for_children ones).
  [[nodiscard]] static result<NsFdSet> open(pid_t pid, NsTypeSet types) noexcept;

  /// The namespaces of `types` of the process a pidfd refers to.
  [[nodiscard]] static result<NsFdSet> open_pidfd(FdRef pidfd, NsTypeSet types) noexcept;

  /// The calling thread's namespaces of `types`.
  [[nodiscard]] static result<NsFdSet> current(NsTypeSet types) noexcept;

  /// Adds (or replaces) the namespace of ns.type().
  void insert(NsFd ns) noexcept { fds_[index(ns.type())] = std::move(ns); }

  /// The namespace of type `t`, or nullptr when the set has none.
  [[nodiscard]] const NsFd* get(NsType t) const noexcept {
    const NsFd& ns = fds_[index(t)];
    return ns ? &ns : nullptr;
  }

  /// Takes the namespace of type `t` out of the set (empty NsFd when there was none).
  [[nodiscard]] NsFd take(NsType t) noexcept { return std::move(fds_[index(t)]); }

  /// The types present.
  [[nodiscard]] NsTypeSet types() const noexcept {
    NsTypeSet s;
    for (NsType t : all_ns_types) {
      if (fds_[index(t)]) {
        s.insert(t);
      }
    }
    return s;
  }

  [[nodiscard]] bool empty() const noexcept { return types().empty(); }

 private:
  static constexpr std::size_t index(NsType t) noexcept { return static_cast<std::size_t>(t); }

  std::array<NsFd, ns_type_count> fds_;
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/ns_fd.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun – switching namespaces: unshare, enter (setns), ScopedEnter and run_in.
//
// setns(2) and unshare(2) change the calling *thread*. The safe default is run_in(), which does
// the work on a short-lived thread so that none of the caller's threads ever changes namespace.
#pragma once

#include <array>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

/// Moves the calling thread into new namespaces of `types`.
/// Wraps: unshare(2) https://man7.org/linux/man-pages/man2/unshare.2.html
/// Affects: calling thread; for pid and time only the children it creates afterwards.
/// Needs: CAP_SYS_ADMIN, except for user (and types unshared together with user).
/// Errors: std::errc::operation_not_permitted, std::errc::invalid_argument (user from a
/// multithreaded process), nsfun::errc::empty_namespace_type_list.
[[nodiscard]] result<void> unshare(NsTypeSet types) noexcept;

/// Moves the calling thread into `ns`. For a mount namespace the thread first stops sharing its
/// filesystem attributes with the other threads (unshare(CLONE_FS)), which the kernel requires;
/// its root and working directory become the namespace's root.
/// Wraps: setns(2) https://man7.org/linux/man-pages/man2/setns.2.html
/// Affects: calling thread; for pid and time only the children it creates afterwards.
/// Needs: CAP_SYS_ADMIN in the user namespace that owns `ns` (and in the caller's for mnt).
/// Errors: std::errc::operation_not_permitted, nsfun::errc::own_user_namespace,
/// nsfun::errc::threaded_user_namespace.
[[nodiscard]] result<void> enter(const NsFd& ns) noexcept;

/// Moves the calling thread into every namespace of the set, user first.
/// Affects: calling thread. Errors: as enter(ns); on error some may have been entered.
[[nodiscard]] result<void> enter(const NsFdSet& set) noexcept;

/// Moves the calling thread into the namespaces of `types` of the process `pidfd` refers to, in
/// one atomic setns(pidfd, flags) call (Linux 5.8+): all of them or none. A user namespace equal
/// to the caller's own is left out rather than refused.
/// Affects: calling thread. Errors: as enter(ns); std::errc::no_such_process.
[[nodiscard]] result<void> enter(FdRef pidfd, NsTypeSet types) noexcept;

/// Enters namespaces and puts the calling thread back into the previous ones when it goes out of
/// scope (or on restore()). Bound to the thread that made it: neither copyable nor movable.
/// User namespaces are refused (errc::user_namespace_not_restorable): leaving one needs
/// privileges the thread no longer has once inside.
///
/// **Example**:
///
///     nsfun::ScopedEnter in_ns;
///     NSFUN_TRYV(in_ns.enter(netns));
///     // … this thread is in netns until in_ns dies …
///
/// If restoring fails in the destructor the thread would silently run in the wrong namespace,
/// so the process is aborted with a message instead; call restore() to handle the error.
class ScopedEnter {
 public:
  ScopedEnter() noexcept;
  ~ScopedEnter();
  ScopedEnter(const ScopedEnter&) = delete;
  ScopedEnter& operator=(const ScopedEnter&) = delete;
  ScopedEnter(ScopedEnter&&) = delete;
  ScopedEnter& operator=(ScopedEnter&&) = delete;

  /// Saves the thread's namespace of ns.type() (the first time that type is entered) and enters
  /// `ns`. Errors: as nsfun::enter(ns), nsfun::errc::user_namespace_not_restorable.
  [[nodiscard]] result<void> enter(const NsFd& ns) noexcept;

  /// Enters every namespace of the set (saving each first).
  [[nodiscard]] result<void> enter(const NsFdSet& set) noexcept;

  /// Enters the namespaces of `types` of a process in one setns(pidfd) (saving each first).
  [[nodiscard]] result<void> enter(FdRef pidfd, NsTypeSet types) noexcept;

  /// Returns the thread to the namespaces it was in before the first enter(), in reverse order,
  /// and to its working directory. Nothing is left to restore afterwards.
  /// Errors: std::errc::operation_not_permitted when called on another thread than the one
  /// that made the guard (nothing is restored then: setns would move the wrong thread).
  [[nodiscard]] result<void> restore() noexcept;

 private:
  [[nodiscard]] result<void> check_thread() const noexcept;

  [[nodiscard]] result<void> save(NsTypeSet types) noexcept;

  NsFdSet saved_;
  std::array<NsType, ns_type_count> order_{};
  std::size_t count_ = 0;
  UniqueFd cwd_;
  pid_t tid_;
};

namespace detail {

// Where run_in_impl may run the function.
enum class Where {
  // Always a new thread: for the user's fn, which may do anything (unshare, setns, chdir, …) to
  // the thread it runs on; that thread ends with it.
  own_thread,
  // The calling thread when the namespaces are net/uts and it can come back (come_back.hpp),
  // else a new thread: only for nsfun's own functions, whose effects on the thread are known
  // to be nothing but the namespace switch (opening a netlink socket, a /proc/sys file).
  here_if_safe,
};

// Runs `body` on a thread that first entered `ns` (unsharing CLONE_FS when mnt is among them):
// a new one it joins, or the calling thread per `where`. Errors: entering, or creating the
// thread. User namespaces are refused.
[[nodiscard]] result<void> run_on_entered_thread(const NsFd* const* ns,
                                                 std::size_t count,
                                                 Where where,
                                                 const std::function<void()>& body) noexcept;

template <class T>
struct as_result {
  using type = result<T>;
};

template <class T>
struct as_result<boost::outcome_v2::std_result<T, error>> {
  using type = result<T>;
};

template <class F>
using run_in_result_t = typename as_result<std::invoke_result_t<F&>>::type;

template <class F>
run_in_result_t<F> run_in_impl(const NsFd* const* ns, std::size_t count, Where where, F& fn) {
  using R = run_in_result_t<F>;
  using Ret = std::invoke_result_t<F&>;
  std::optional<R> out;
  std::exception_ptr thrown;
  auto entered = run_on_entered_thread(ns, count, where, [&] {
    try {
      if constexpr (std::is_void_v<Ret>) {
        std::invoke(fn);
        out.emplace(success());
      } else {
        out.emplace(std::invoke(fn));
      }
    } catch (...) {
      thrown = std::current_exception();
    }
  });
  if (!entered) {
    return std::move(entered).as_failure();
  }
  if (thrown) {
    std::rethrow_exception(thrown);
  }
  return std::move(*out);
}

// run_in for nsfun's own functions (Where::here_if_safe): may run fn on the calling thread,
// which it brings back afterwards. Never for a function the user gave.
template <class F>
[[nodiscard]] run_in_result_t<F> run_in_known(const NsFd& ns, F&& fn) {
  const NsFd* one[] = {&ns};
  return run_in_impl(one, 1, Where::here_if_safe, fn);
}

}  // namespace detail

/// Runs `fn` on a short-lived thread of its own that entered `ns`, and returns what fn returns
/// (a result returned by fn is passed through; a plain value is wrapped). None of the caller's
/// threads ever changes namespace, whatever fn does to the thread it runs on (unshare, setns,
/// chdir, throw): that thread ends with fn. An exception thrown by fn is rethrown here.
/// Costs a thread (clone, stack mapping, join: about 0.1-0.4 ms).
/// User namespaces cannot be entered this way (nsfun::errc::threaded_user_namespace): the
/// kernel refuses setns into a user namespace from a multithreaded process.
///
/// **Example**:
///
///     auto links = nsfun::run_in(netns, [] { return list_links(); });
template <class F>
[[nodiscard]] detail::run_in_result_t<F> run_in(const NsFd& ns, F&& fn) {
  const NsFd* one[] = {&ns};
  return detail::run_in_impl(one, 1, detail::Where::own_thread, fn);
}

/// Runs `fn` on a short-lived thread of its own that entered every namespace of `set`, as
/// run_in(ns, fn) does.
template <class F>
[[nodiscard]] detail::run_in_result_t<F> run_in(const NsFdSet& set, F&& fn) {
  std::array<const NsFd*, ns_type_count> ns{};
  std::size_t n = 0;
  for (NsType t : set.types()) {
    ns[n++] = set.get(t);
  }
  return detail::run_in_impl(ns.data(), n, detail::Where::own_thread, fn);
}

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/enter.ipp>
#endif

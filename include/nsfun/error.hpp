// SPDX-License-Identifier: MIT
// nsfun – errors as values: nsfun::error, nsfun::result<T>, nsfun::errc and NSFUN_TRY.
#pragma once

#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/outcome/std_result.hpp>

namespace nsfun {

/// Conditions nsfun reports that are not an errno value.
enum class errc {
  not_a_namespace = 1,            ///< the file is not an nsfs namespace file
  wrong_namespace_type,           ///< a namespace, but not of the type asked for
  unknown_namespace_type,         ///< a type name (or CLONE_NEW* flag) nsfun does not know
  empty_namespace_type_list,      ///< a type list with no type in it
  unsupported_namespace_type,     ///< the running kernel has no such namespace type
  proc_not_mounted,               ///< /proc is not mounted where nsfun needs it
  own_user_namespace,             ///< setns into the user namespace the caller is already in
  threaded_user_namespace,        ///< a user namespace cannot be entered by a multithreaded process
  user_namespace_not_restorable,  ///< a scope guard cannot leave a user namespace again
  pid_namespace_needs_process,    ///< a new pid namespace exists only once a process is in it
  invalid_id_map,  ///< a uid/gid map that does not parse or that the kernel would refuse
  invalid_name,    ///< a name that is not a safe single path component
  no_parent,       ///< the namespace has no parent visible to the caller
  child_failed,    ///< a helper child process died without reporting a result
};

/// The error category of nsfun::errc ("nsfun").
[[nodiscard]] const std::error_category& nsfun_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), nsfun_category()};
}

/// What went wrong (`code`) and the step that failed (`what`, always a string literal such as
/// "setns" or "open /proc/PID/ns"). Pids and paths are not stored: the caller knows them and adds
/// them when it reports.
struct error {
  std::error_code code;
  std::string_view what;

  /// True when the code is equivalent to the given portable condition.
  friend bool operator==(const error& e, std::errc c) noexcept { return e.code == c; }

  /// True when the code is the given nsfun condition.
  friend bool operator==(const error& e, errc c) noexcept { return e.code == make_error_code(c); }

  /// The message of the code, prefixed by the failing step: "setns: Operation not permitted".
  [[nodiscard]] std::string message() const;
};

/// ADL hook Outcome uses to see the error_code inside an nsfun::error.
[[nodiscard]] inline const std::error_code& make_error_code(const error& e) noexcept {
  return e.code;
}

/// ADL hook Outcome calls when .value() is used on a failed result: throws std::system_error
/// whose what() is "<what>: <message>".
[[noreturn]] void outcome_throw_as_system_error_with_payload(const error& e);

/// The result of every fallible nsfun call: a T, or an nsfun::error.
template <class T>
using result = boost::outcome_v2::std_result<T, error>;

/// A successful result<void>.
[[nodiscard]] inline auto success() noexcept {
  return boost::outcome_v2::success();
}

/// The failure for an errno value, named after the step that failed.
[[nodiscard]] inline auto errno_error(int err, std::string_view what) noexcept {
  return boost::outcome_v2::failure(error{std::error_code(err, std::generic_category()), what});
}

/// The failure for an nsfun condition, named after the step that failed.
[[nodiscard]] inline auto nsfun_error(errc e, std::string_view what) noexcept {
  return boost::outcome_v2::failure(error{make_error_code(e), what});
}

}  // namespace nsfun

template <>
struct std::is_error_code_enum<nsfun::errc> : std::true_type {};

#define NSFUN_CONCAT_INNER(a, b) a##b
#define NSFUN_CONCAT(a, b) NSFUN_CONCAT_INNER(a, b)
#define NSFUN_TRY_IMPL(tmp, var, ...)   \
  auto tmp = (__VA_ARGS__);             \
  if (!tmp)                             \
    return std::move(tmp).as_failure(); \
  var = std::move(tmp).assume_value()
#define NSFUN_TRYV_IMPL(tmp, ...) \
  auto tmp = (__VA_ARGS__);       \
  if (!tmp)                       \
  return std::move(tmp).as_failure()

/// Evaluates a result-returning expression; on failure returns the failure from the enclosing
/// function, otherwise binds the value: `NSFUN_TRY(auto fd, NsFd::open(pid, NsType::net));`.
/// Works on Boost 1.74 and newer (BOOST_OUTCOME_TRY(auto v, …) needs 1.76).
#define NSFUN_TRY(var, ...) NSFUN_TRY_IMPL(NSFUN_CONCAT(nsfun_try_, __COUNTER__), var, __VA_ARGS__)

/// Like NSFUN_TRY for a result whose value is not needed (result<void>).
#define NSFUN_TRYV(...) NSFUN_TRYV_IMPL(NSFUN_CONCAT(nsfun_tryv_, __COUNTER__), __VA_ARGS__)

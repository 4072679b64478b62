// SPDX-License-Identifier: MIT
// nsfun – the "nsfun" error category and the throw hook Outcome uses: the implementation (see
// <nsfun/config.hpp>).
#pragma once

#include <string>
#include <system_error>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

namespace detail {

class ErrorCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "nsfun"; }

  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_a_namespace:
        return "Not a namespace file";
      case errc::wrong_namespace_type:
        return "Wrong namespace type";
      case errc::unknown_namespace_type:
        return "Unknown namespace type";
      case errc::empty_namespace_type_list:
        return "Empty namespace type list";
      case errc::unsupported_namespace_type:
        return "Namespace type not supported by the running kernel";
      case errc::proc_not_mounted:
        return "/proc is not mounted";
      case errc::own_user_namespace:
        return "Already in this user namespace";
      case errc::threaded_user_namespace:
        return "A multithreaded process cannot enter a user namespace";
      case errc::user_namespace_not_restorable:
        return "A user namespace cannot be left again once entered";
      case errc::pid_namespace_needs_process:
        return "A new pid namespace needs a process in it (spawn one)";
      case errc::invalid_id_map:
        return "Invalid uid/gid map";
      case errc::invalid_name:
        return "Invalid name";
      case errc::no_parent:
        return "No parent namespace visible";
      case errc::child_failed:
        return "Helper process failed";
      case errc::namespace_not_new:
        return "Needs a namespace the process makes or joins";
      case errc::controller_not_available:
        return "Cgroup controller not available";
    }
    return "Unknown nsfun error";
  }

  [[nodiscard]] std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<errc>(ev)) {
      case errc::not_a_namespace:
      case errc::wrong_namespace_type:
      case errc::unknown_namespace_type:
      case errc::empty_namespace_type_list:
      case errc::invalid_name:
      case errc::invalid_id_map:
      case errc::own_user_namespace:
      case errc::threaded_user_namespace:
      case errc::user_namespace_not_restorable:
        return std::errc::invalid_argument;
      case errc::unsupported_namespace_type:
      case errc::pid_namespace_needs_process:
      case errc::controller_not_available:
        return std::errc::not_supported;
      case errc::proc_not_mounted:
      case errc::no_parent:
        return std::errc::no_such_file_or_directory;
      case errc::child_failed:
        return std::errc::io_error;
      case errc::namespace_not_new:
        return std::errc::invalid_argument;
    }
    return {ev, *this};
  }
};

}  // namespace detail

// One category object per program in both modes: in header-only mode the function is inline, so
// its static is shared by every translation unit.
NSFUN_INLINE const std::error_category& nsfun_category() noexcept {
  static const detail::ErrorCategory category;
  return category;
}

NSFUN_INLINE std::string error::subject() const {
  std::string s;
  s.reserve(what.size() + used() + 4);
  if (auto c = context(); !c.empty()) {
    s += c;
    if (!what.empty() || !object().empty()) {
      s += ": ";
    }
  }
  s += what;
  if (auto o = object(); !o.empty()) {
    if (!what.empty()) {
      s += ' ';
    }
    s += o;
  }
  return s;
}

NSFUN_INLINE std::string error::message() const {
  std::string s = subject();
  if (!s.empty()) {
    s += ": ";
  }
  if (auto r = reason(); !r.empty()) {
    s += r;
  } else {
    s += code.message();
  }
  if (auto n = note(); !n.empty()) {
    s += " (";
    s += n;
    s += ')';
  }
  return s;
}

namespace detail {

// A system_error whose what() is the error's whole message, not "<what_arg>: <code message>".
class ErrorException final : public std::system_error {
 public:
  explicit ErrorException(const error& e) : std::system_error(e.code), text_(e.message()) {}

  [[nodiscard]] const char* what() const noexcept override { return text_.c_str(); }

 private:
  std::string text_;
};

}  // namespace detail

NSFUN_INLINE void outcome_throw_as_system_error_with_payload(const error& e) {
  throw detail::ErrorException(e);
}

}  // namespace nsfun

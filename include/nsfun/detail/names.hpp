// SPDX-License-Identifier: MIT
// nsfun – private: the one rule for a name that becomes a single path component (a cgroup, a
// cgroup interface file, a pinned namespace), and how a refused name is shown in an error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include <nsfun/error.hpp>

namespace nsfun::detail {

// Why `s` is not a single file or directory name (1 to 255 bytes, no '/', no NUL, not "." or
// ".."), as an error's reason; empty when it is one.
[[nodiscard]] inline constexpr std::string_view name_problem(std::string_view s) noexcept {
  if (s.empty()) {
    return "empty";
  }
  if (s == "." || s == "..") {
    return "not a name but a directory reference";
  }
  if (s.size() > 255) {
    return "longer than 255 bytes";
  }
  if (s.find('/') != std::string_view::npos) {
    return "contains '/'";
  }
  if (s.find('\0') != std::string_view::npos) {
    return "contains a NUL byte";
  }
  return {};
}

// True when `s` is a single file or directory name (see name_problem).
[[nodiscard]] inline constexpr bool is_valid_name(std::string_view s) noexcept {
  return name_problem(s).empty();
}

// Sets `name` as the object of `e`: quoted, cut to 64 bytes and never past a NUL, so that the
// reason still fits beside it ("\"xxx…x...\"" when cut).
inline error& on_quoted_name(error& e, std::string_view name) noexcept {
  constexpr std::size_t max = 64;
  std::string_view shown = name.substr(0, std::min(max, name.find('\0')));
  return e.on('"', shown, shown.size() < name.size() ? "...\"" : "\"");
}

// The nsfun::errc::invalid_name error for `name` in step `what`, with the reason.
[[nodiscard]] inline error invalid_name_error(std::string_view what,
                                              std::string_view name) noexcept {
  error e = nsfun_error(errc::invalid_name, what);
  return on_quoted_name(e, name).because(name_problem(name));
}

}  // namespace nsfun::detail

// SPDX-License-Identifier: MIT
// nsfun – parsing and printing namespace types: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <sched.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

// The header spells the CLONE_NEW* values out (it includes no kernel header); they must be the
// kernel's. CLONE_NEWTIME is missing from older glibc, hence detail::sys::clone_newtime.
static_assert(clone_flag(NsType::user) == CLONE_NEWUSER);
static_assert(clone_flag(NsType::mnt) == CLONE_NEWNS);
static_assert(clone_flag(NsType::uts) == CLONE_NEWUTS);
static_assert(clone_flag(NsType::ipc) == CLONE_NEWIPC);
static_assert(clone_flag(NsType::pid) == CLONE_NEWPID);
static_assert(clone_flag(NsType::net) == CLONE_NEWNET);
static_assert(clone_flag(NsType::cgroup) == CLONE_NEWCGROUP);
#ifdef CLONE_NEWTIME
static_assert(clone_flag(NsType::time) == CLONE_NEWTIME);
#endif

namespace detail {

// Blanks and tabs off both ends of an item of a type list.
inline std::string_view ns_type_trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// How much of a user's text an error quotes.
inline constexpr std::size_t ns_type_max_quoted = 64;

}  // namespace detail

NSFUN_INLINE result<NsType> parse_ns_type(std::string_view s) noexcept {
  for (NsType t : all_ns_types) {
    if (s == name(t)) {
      return t;
    }
  }
  // The long names unshare(1) and nsenter(1) use.
  if (s == "mount") {
    return NsType::mnt;
  }
  if (s == "network") {
    return NsType::net;
  }
  return nsfun_error(errc::unknown_namespace_type, "namespace type")
      .on('"', s.substr(0, detail::ns_type_max_quoted),
          s.size() > detail::ns_type_max_quoted ? "...\"" : "\"")
      .because("not one of user, mnt, uts, ipc, pid, net, cgroup, time");
}

NSFUN_INLINE result<NsTypeSet> NsTypeSet::parse(std::string_view list) noexcept {
  list = detail::ns_type_trim(list);
  const std::string_view whole = list;
  if (list == "all") {
    return all();
  }
  NsTypeSet set;
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view item = detail::ns_type_trim(list.substr(0, comma));
    if (item.empty()) {
      return nsfun_error(errc::empty_namespace_type_list, "namespace type list")
          .on('"', whole.substr(0, detail::ns_type_max_quoted),
              whole.size() > detail::ns_type_max_quoted ? "...\"" : "\"")
          .because(whole.empty() ? "no type" : "an empty item");
    }
    if (item == "all") {
      return nsfun_error(errc::unknown_namespace_type, "namespace type list")
          .on('"', whole.substr(0, detail::ns_type_max_quoted),
              whole.size() > detail::ns_type_max_quoted ? "...\"" : "\"")
          .because("\"all\" stands alone, not in a list");
    }
    NSFUN_TRY(NsType t, parse_ns_type(item));
    set.insert(t);
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return set;
}

NSFUN_INLINE std::string NsTypeSet::to_string() const {
  std::string s;
  for (NsType t : *this) {
    if (!s.empty()) {
      s += ',';
    }
    s += name(t);
  }
  return s;
}

}  // namespace nsfun

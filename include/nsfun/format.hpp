// SPDX-License-Identifier: MIT
// nsfun – fmt formatters for nsfun's types, kept apart so core headers do not pull in fmt.
#pragma once

#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include <nsfun/error.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>

/// "setns: Operation not permitted".
template <>
struct fmt::formatter<nsfun::error> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const nsfun::error& e, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(e.message(), ctx);
  }
};

/// "net".
template <>
struct fmt::formatter<nsfun::NsType> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(nsfun::NsType t, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(nsfun::name(t), ctx);
  }
};

/// "pid_for_children".
template <>
struct fmt::formatter<nsfun::NsLink> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(nsfun::NsLink l, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(nsfun::name(l), ctx);
  }
};

/// "user,net".
template <>
struct fmt::formatter<nsfun::NsTypeSet> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(nsfun::NsTypeSet s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(s.to_string(), ctx);
  }
};

/// "net:[4026531833]".
template <>
struct fmt::formatter<nsfun::Namespace> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const nsfun::Namespace& ns, Ctx& ctx) const {
    // Formatted whole first, so that width and alignment apply to the whole text.
    fmt::basic_memory_buffer<char, 48> buf;
    fmt::format_to(std::back_inserter(buf), "{}:[{}]", nsfun::name(ns.type()), ns.ino());
    return fmt::formatter<std::string_view>::format(std::string_view(buf.data(), buf.size()), ctx);
  }
};

/// The identity of the open namespace: "net:[4026531833]".
template <>
struct fmt::formatter<nsfun::NsFd> : fmt::formatter<nsfun::Namespace> {
  template <class Ctx>
  auto format(const nsfun::NsFd& ns, Ctx& ctx) const {
    return fmt::formatter<nsfun::Namespace>::format(ns.identity(), ctx);
  }
};

/// The identity of a typed namespace handle.
template <nsfun::NsType T>
struct fmt::formatter<nsfun::TypedNsFd<T>> : fmt::formatter<nsfun::Namespace> {
  template <class Ctx>
  auto format(const nsfun::TypedNsFd<T>& ns, Ctx& ctx) const {
    return fmt::formatter<nsfun::Namespace>::format(ns.identity(), ctx);
  }
};

// SPDX-License-Identifier: MIT
// nsfun – Namespace, the value identity of a namespace: type, device, inode and kernel id.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <nsfun/config.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

/// Which namespace something is, as a plain value: comparable, hashable, printable as
/// `net:[4026531833]` (the text of a /proc/PID/ns link).
///
/// Inode numbers of dead namespaces are reused by the kernel; the 64-bit id (NS_GET_ID, Linux
/// 6.18+) never is. When both sides carry an id, equality also compares it, so a namespace that
/// died is never taken for a new one that got its inode number. Values without an id (older
/// kernels, or cheap identities read from /proc links) compare by type, device and inode.
/// Ordering and hashing use (type, inode) only (all nsfs files share one device), so they stay
/// consistent with equality.
class Namespace {
 public:
  constexpr Namespace() noexcept = default;

  constexpr Namespace(NsType type,
                      std::uint64_t dev,
                      std::uint64_t ino,
                      std::uint64_t id = 0) noexcept
      : type_(type), dev_(dev), ino_(ino), id_(id) {}

  [[nodiscard]] constexpr NsType type() const noexcept { return type_; }

  /// The device of the nsfs file (st_dev); 0 when unknown.
  [[nodiscard]] constexpr std::uint64_t dev() const noexcept { return dev_; }

  /// The inode number, as in `net:[4026531833]` and lsns's NS column.
  [[nodiscard]] constexpr std::uint64_t ino() const noexcept { return ino_; }

  /// The kernel's 64-bit namespace id (never reused); 0 when the kernel has none or it was not
  /// read.
  [[nodiscard]] constexpr std::uint64_t id() const noexcept { return id_; }

  /// True for a default-constructed value.
  [[nodiscard]] constexpr bool empty() const noexcept { return ino_ == 0; }

  /// `net:[4026531833]`.
  [[nodiscard]] std::string to_string() const;

  friend constexpr bool operator==(const Namespace& a, const Namespace& b) noexcept {
    return a.type_ == b.type_ && a.ino_ == b.ino_ &&
           (a.dev_ == 0 || b.dev_ == 0 || a.dev_ == b.dev_) &&
           (a.id_ == 0 || b.id_ == 0 || a.id_ == b.id_);
  }

  friend constexpr std::weak_ordering operator<=>(const Namespace& a, const Namespace& b) noexcept {
    if (auto c = a.type_ <=> b.type_; std::is_neq(c)) {
      return c;
    }
    return a.ino_ <=> b.ino_;
  }

 private:
  NsType type_ = NsType::user;
  std::uint64_t dev_ = 0;
  std::uint64_t ino_ = 0;
  std::uint64_t id_ = 0;
};

}  // namespace nsfun

template <>
struct std::hash<nsfun::Namespace> {
  std::size_t operator()(const nsfun::Namespace& ns) const noexcept {
    return std::hash<std::uint64_t>{}(ns.ino() * 8U + static_cast<std::uint64_t>(ns.type()));
  }
};

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/namespace.ipp>
#endif

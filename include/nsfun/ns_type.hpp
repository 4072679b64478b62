// SPDX-License-Identifier: MIT
// nsfun – the eight namespace types, their /proc links, CLONE_NEW* flags, and sets of types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// A namespace type. The order is the order nsfun lists and enters them in (user first, so that
/// entering a user namespace grants the capabilities the others need).
enum class NsType : std::uint8_t { user, mnt, uts, ipc, pid, net, cgroup, time };

/// Number of namespace types.
inline constexpr std::size_t ns_type_count = 8;

/// Every type, in nsfun's order.
inline constexpr std::array<NsType, ns_type_count> all_ns_types{
    NsType::user, NsType::mnt, NsType::uts,    NsType::ipc,
    NsType::pid,  NsType::net, NsType::cgroup, NsType::time};

/// An entry of /proc/PID/ns: one per type plus pid_for_children and time_for_children, which name
/// the namespace the process's future children get.
enum class NsLink : std::uint8_t {
  user,
  mnt,
  uts,
  ipc,
  pid,
  net,
  cgroup,
  time,
  pid_for_children,
  time_for_children
};

/// Number of /proc/PID/ns entries nsfun knows.
inline constexpr std::size_t ns_link_count = 10;

/// Every link, types first then the *_for_children ones.
inline constexpr std::array<NsLink, ns_link_count> all_ns_links{NsLink::user,
                                                                NsLink::mnt,
                                                                NsLink::uts,
                                                                NsLink::ipc,
                                                                NsLink::pid,
                                                                NsLink::net,
                                                                NsLink::cgroup,
                                                                NsLink::time,
                                                                NsLink::pid_for_children,
                                                                NsLink::time_for_children};

namespace detail {

struct NsTypeInfo {
  std::string_view name;  // as in /proc/PID/ns and lsns's TYPE column
  int clone_flag;         // CLONE_NEW*
};

// CLONE_NEW* values, spelled out so that this header needs no kernel header (CLONE_NEWTIME is
// missing from older glibc).
inline constexpr std::array<NsTypeInfo, ns_type_count> ns_type_table{{
    {"user", 0x10000000},
    {"mnt", 0x00020000},
    {"uts", 0x04000000},
    {"ipc", 0x08000000},
    {"pid", 0x20000000},
    {"net", 0x40000000},
    {"cgroup", 0x02000000},
    {"time", 0x00000080},
}};

}  // namespace detail

/// The name of a type as the kernel spells it in /proc/PID/ns: "net", "mnt", …
[[nodiscard]] constexpr std::string_view name(NsType t) noexcept {
  return detail::ns_type_table[static_cast<std::size_t>(t)].name;
}

/// The CLONE_NEW* flag of a type, as clone3/unshare/setns take it.
[[nodiscard]] constexpr int clone_flag(NsType t) noexcept {
  return detail::ns_type_table[static_cast<std::size_t>(t)].clone_flag;
}

/// The type whose CLONE_NEW* flag is exactly `flag`, if any.
[[nodiscard]] constexpr std::optional<NsType> ns_type_from_clone_flag(int flag) noexcept {
  for (NsType t : all_ns_types) {
    if (clone_flag(t) == flag) {
      return t;
    }
  }
  return std::nullopt;
}

/// The type named `s` ("net", "mnt", …; also "mount" and "network", as unshare(1) accepts).
/// Errors: nsfun::errc::unknown_namespace_type, naming the text:
/// `namespace type "nett": not one of user, mnt, uts, ipc, pid, net, cgroup, time`.
[[nodiscard]] result<NsType> parse_ns_type(std::string_view s) noexcept;

/// The /proc/PID/ns entry name of a link: "net", "pid_for_children", …
[[nodiscard]] constexpr std::string_view name(NsLink l) noexcept {
  switch (l) {
    case NsLink::pid_for_children:
      return "pid_for_children";
    case NsLink::time_for_children:
      return "time_for_children";
    default:
      return detail::ns_type_table[static_cast<std::size_t>(l)].name;
  }
}

/// The namespace type a link points to.
[[nodiscard]] constexpr NsType type_of(NsLink l) noexcept {
  switch (l) {
    case NsLink::pid_for_children:
      return NsType::pid;
    case NsLink::time_for_children:
      return NsType::time;
    default:
      return static_cast<NsType>(l);
  }
}

/// The link that holds a process's own namespace of type `t`.
[[nodiscard]] constexpr NsLink link_of(NsType t) noexcept {
  return static_cast<NsLink>(t);
}

/// A set of namespace types: a value type, cheap to copy, iterable in nsfun's order.
class NsTypeSet {
 public:
  constexpr NsTypeSet() noexcept = default;

  constexpr NsTypeSet(std::initializer_list<NsType> types) noexcept {
    for (NsType t : types) {
      insert(t);
    }
  }

  /// All eight types.
  [[nodiscard]] static constexpr NsTypeSet all() noexcept {
    NsTypeSet s;
    s.bits_ = (1U << ns_type_count) - 1;
    return s;
  }

  /// The types whose CLONE_NEW* flags are set in `flags`; other bits are ignored.
  [[nodiscard]] static constexpr NsTypeSet from_clone_flags(int flags) noexcept {
    NsTypeSet s;
    for (NsType t : all_ns_types) {
      if ((flags & clone_flag(t)) != 0) {
        s.insert(t);
      }
    }
    return s;
  }

  /// Parses a user's list: names separated by commas ("net,uts"), or "all".
  /// Errors: nsfun::errc::unknown_namespace_type (as parse_ns_type, naming the unknown item),
  /// nsfun::errc::empty_namespace_type_list (`namespace type list "net,,uts": an empty item`).
  [[nodiscard]] static result<NsTypeSet> parse(std::string_view list) noexcept;

  /// The CLONE_NEW* flags of the set, or-ed together.
  [[nodiscard]] constexpr int clone_flags() const noexcept {
    int flags = 0;
    for (NsType t : *this) {
      flags |= clone_flag(t);
    }
    return flags;
  }

  constexpr void insert(NsType t) noexcept { bits_ |= bit(t); }

  constexpr void erase(NsType t) noexcept { bits_ &= static_cast<std::uint8_t>(~bit(t)); }

  [[nodiscard]] constexpr bool contains(NsType t) const noexcept { return (bits_ & bit(t)) != 0; }

  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }

  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 0;
    for (unsigned b = bits_; b != 0; b &= b - 1) {
      ++n;
    }
    return n;
  }

  /// The names joined by commas, in nsfun's order: "user,net".
  [[nodiscard]] std::string to_string() const;

  friend constexpr NsTypeSet operator|(NsTypeSet a, NsTypeSet b) noexcept {
    return from_bits(a.bits_ | b.bits_);
  }

  friend constexpr NsTypeSet operator&(NsTypeSet a, NsTypeSet b) noexcept {
    return from_bits(a.bits_ & b.bits_);
  }

  friend constexpr NsTypeSet operator-(NsTypeSet a, NsTypeSet b) noexcept {
    return from_bits(a.bits_ & ~b.bits_);
  }

  friend constexpr bool operator==(NsTypeSet a, NsTypeSet b) noexcept = default;

  /// Iterates over the types in the set, in nsfun's order.
  class iterator {
   public:
    using value_type = NsType;
    using difference_type = std::ptrdiff_t;

    constexpr iterator() noexcept = default;

    constexpr NsType operator*() const noexcept { return static_cast<NsType>(pos_); }

    constexpr iterator& operator++() noexcept {
      pos_ = next(bits_, pos_ + 1);
      return *this;
    }

    constexpr iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }

    friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.pos_ == b.pos_; }

   private:
    friend class NsTypeSet;

    constexpr iterator(unsigned bits, unsigned pos) noexcept : bits_(bits), pos_(next(bits, pos)) {}

    static constexpr unsigned next(unsigned bits, unsigned pos) noexcept {
      while (pos < ns_type_count && (bits & (1U << pos)) == 0) {
        ++pos;
      }
      return pos;
    }

    unsigned bits_ = 0;
    unsigned pos_ = ns_type_count;
  };

  [[nodiscard]] constexpr iterator begin() const noexcept { return {bits_, 0}; }

  [[nodiscard]] constexpr iterator end() const noexcept { return {bits_, ns_type_count}; }

 private:
  static constexpr std::uint8_t bit(NsType t) noexcept {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(t));
  }

  static constexpr NsTypeSet from_bits(unsigned bits) noexcept {
    NsTypeSet s;
    s.bits_ = static_cast<std::uint8_t>(bits);
    return s;
  }

  std::uint8_t bits_ = 0;
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/ns_type.ipp>
#endif

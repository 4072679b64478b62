// SPDX-License-Identifier: MIT
// nsfun::net – IPv4/IPv6 addresses and prefixes, and the addresses of links (ip addr).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// An IPv4 or IPv6 address, in network byte order.
struct IpAddress {
  int family = AF_UNSPEC;  ///< AF_INET or AF_INET6; AF_UNSPEC for an empty value
  std::array<std::uint8_t, 16> bytes{};

  /// Parses "10.0.0.1" or "fd00::1". Errors: std::errc::invalid_argument, step "parse address",
  /// the quoted text as object: `parse address "10.0.0.256": not an IPv4 address`.
  [[nodiscard]] static result<IpAddress> parse(std::string_view text) noexcept;

  /// 4 for IPv4, 16 for IPv6, 0 when empty.
  [[nodiscard]] std::size_t size() const noexcept;

  /// The largest prefix length of the family: 32 or 128.
  [[nodiscard]] std::uint8_t max_prefix() const noexcept;

  /// "10.0.0.1", "fd00::1"; "" when empty.
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// An address with a prefix length: "10.0.0.1/24", "fd00::1/64".
struct IpPrefix {
  IpAddress address;
  std::uint8_t length = 0;

  /// Parses "ADDRESS/LEN"; without "/LEN" the prefix is the whole address (/32, /128), as with
  /// `ip addr add`. Errors: std::errc::invalid_argument, step "parse address" (bad address,
  /// missing or non-numeric length, length over 32 or 128, stray characters), the whole quoted
  /// text as object: `parse address "10.0.0.1/33": prefix length not in 0..32`.
  [[nodiscard]] static result<IpPrefix> parse(std::string_view text) noexcept;

  /// The same prefix with the host bits cleared: 10.0.0.1/24 → 10.0.0.0/24.
  [[nodiscard]] IpPrefix network() const noexcept;

  /// True when `a` is inside this prefix (same family).
  [[nodiscard]] bool contains(const IpAddress& a) const noexcept;

  /// "10.0.0.1/24".
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

/// One address of one link (an RTM_NEWADDR message).
struct AddressInfo {
  int index = 0;  ///< the link's index
  IpPrefix prefix;
};

/// ip addr add PREFIX dev LINK. With `nodad`, an IPv6 address is usable at once instead of
/// "tentative" for a second or so (IFA_F_NODAD).
/// Wraps: RTM_NEWADDR with NLM_F_CREATE | NLM_F_EXCL. Needs: CAP_NET_ADMIN.
/// Errors: std::errc::file_exists (already there), std::errc::no_such_device (the link is
/// gone); they name the prefix and the link, and carry the kernel's extended ack:
/// "RTM_NEWADDR 10.0.0.1/24 on nsft0: No such device (ipv4: Device not found)".
[[nodiscard]] result<void> add_address(const Link& link,
                                       const IpPrefix& prefix,
                                       bool nodad = false) noexcept;

/// ip addr del PREFIX dev LINK. Wraps: RTM_DELADDR.
/// Errors: std::errc::address_not_available (no such address on the link), named as for
/// add_address().
[[nodiscard]] result<void> remove_address(const Link& link, const IpPrefix& prefix) noexcept;

/// Every address in the namespace of `rtnl` (AF_INET, AF_INET6, or AF_UNSPEC for both).
/// Wraps: RTM_GETADDR dump. Errors name the namespace ("RTM_GETADDR dump in net:[…]: …").
[[nodiscard]] result<std::vector<AddressInfo>> list_addresses(const Rtnl& rtnl,
                                                              int family = AF_UNSPEC) noexcept;

/// The addresses of one link.
[[nodiscard]] result<std::vector<IpPrefix>> addresses(const Link& link,
                                                      int family = AF_UNSPEC) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/address.ipp>
#endif

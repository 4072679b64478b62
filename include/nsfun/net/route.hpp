// SPDX-License-Identifier: MIT
// nsfun::net – routes (ip route), including the default route via a gateway.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// The main routing table (RT_TABLE_MAIN), where `ip route` works unless told otherwise.
inline constexpr std::uint32_t main_table = 254;

/// A unicast route.
struct Route {
  std::optional<IpPrefix> destination;  ///< none: the default route (0.0.0.0/0, ::/0)
  std::optional<IpAddress> gateway;     ///< via; none for a route on the link
  int oif = 0;                          ///< output interface index (dev); 0: from the gateway
  std::uint32_t metric = 0;             ///< RTA_PRIORITY
  std::uint32_t table = main_table;
  int family = AF_UNSPEC;  ///< AF_UNSPEC on input: taken from destination or gateway

  /// The family the route is for: `family`, else the destination's, else the gateway's.
  [[nodiscard]] int resolved_family() const noexcept;
};

/// ip route add. A route without a gateway is a link route (scope link) and needs `oif`.
/// Wraps: RTM_NEWROUTE with NLM_F_CREATE | NLM_F_EXCL, protocol boot (like ip).
/// Needs: CAP_NET_ADMIN. Errors: std::errc::file_exists, std::errc::network_unreachable (the
/// gateway is not on any link), std::errc::invalid_argument (no family, no oif nor gateway:
/// refused before the kernel, with the reason). They name the route in ip-route words, with the
/// kernel's extended ack: "RTM_NEWROUTE 10.1.0.0/16 via 10.9.9.9: Network is unreachable
/// (Nexthop has invalid gateway)"; an interface by its name ("dev eth0").
[[nodiscard]] result<void> add_route(const Rtnl& rtnl, const Route& route) noexcept;

/// ip route del. Errors: std::errc::no_such_process (the kernel's "no such route"), named as
/// for add_route().
[[nodiscard]] result<void> remove_route(const Rtnl& rtnl, const Route& route) noexcept;

/// ip route add default via GATEWAY [dev LINK].
[[nodiscard]] result<void> add_default_route(const Rtnl& rtnl,
                                             const IpAddress& gateway,
                                             int oif = 0) noexcept;

/// The unicast routes of `table` (ip route show table T) for one family (AF_INET, AF_INET6).
/// Wraps: RTM_GETROUTE dump. Errors name the namespace ("RTM_GETROUTE dump in net:[…]: …").
[[nodiscard]] result<std::vector<Route>> list_routes(const Rtnl& rtnl,
                                                     int family = AF_INET,
                                                     std::uint32_t table = main_table) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/route.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun::net – routes (ip route), including the default route via a gateway, multipath routes
// (nexthop … nexthop …) and the kernel's answer to "which route does this destination take"
// (ip route get).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// The main routing table (RT_TABLE_MAIN), where `ip route` works unless told otherwise.
inline constexpr std::uint32_t main_table = 254;

/// One path of a multipath route (ip route add … nexthop via GW dev LINK weight W).
struct Nexthop {
  std::optional<IpAddress> gateway;  ///< via; none for a path on the link
  int oif = 0;                       ///< dev (interface index); 0: from the gateway
  unsigned weight = 1;               ///< 1..256: the share of flows this path gets (rtnh_hops + 1)

  friend bool operator==(const Nexthop&, const Nexthop&) = default;
};

/// A unicast route.
///
/// A multipath route has `nexthops` (two or more, RTA_MULTIPATH) and neither `gateway` nor
/// `oif`; list_routes() fills them the same way, as `ip route show` prints "nexthop" lines.
struct Route {
  std::optional<IpPrefix> destination;  ///< none: the default route (0.0.0.0/0, ::/0)
  std::optional<IpAddress> gateway;     ///< via; none for a route on the link
  int oif = 0;                          ///< output interface index (dev); 0: from the gateway
  std::uint32_t metric = 0;             ///< RTA_PRIORITY
  std::uint32_t table = main_table;
  int family = AF_UNSPEC;            ///< AF_UNSPEC on input: taken from destination or gateway
  std::optional<IpAddress> prefsrc;  ///< src: the source address preferred for it (RTA_PREFSRC)
  std::vector<Nexthop> nexthops;     ///< the paths of a multipath route (RTA_MULTIPATH)
  /// RTN_UNICAST. route_to() also answers RTN_LOCAL (an address of this namespace),
  /// RTN_BROADCAST, …; add_route() and list_routes() deal in unicast routes only.
  std::uint8_t type = RTN_UNICAST;

  /// The family the route is for: `family`, else the destination's, else the gateway's (or the
  /// first nexthop's).
  [[nodiscard]] int resolved_family() const noexcept;

  friend bool operator==(const Route&, const Route&) = default;
};

/// ip route add. A route without a gateway is a link route (scope link) and needs `oif`; a
/// multipath route needs a gateway or an oif on each nexthop.
/// Wraps: RTM_NEWROUTE with NLM_F_CREATE | NLM_F_EXCL, protocol boot (like ip).
/// Needs: CAP_NET_ADMIN. Errors: std::errc::file_exists, std::errc::network_unreachable (the
/// gateway is not on any link), std::errc::invalid_argument (no family, no oif nor gateway, a
/// nexthop without either, a weight outside 1..256, gateway or oif beside nexthops, mixed
/// families: refused before the kernel, with the reason). They name the route in ip-route words,
/// with the kernel's extended ack: "RTM_NEWROUTE 10.1.0.0/16 via 10.9.9.9: Network is unreachable
/// (Nexthop has invalid gateway)"; an interface by its name ("dev eth0").
[[nodiscard]] result<void> add_route(const Rtnl& rtnl, const Route& route) noexcept;

/// ip route del. Errors: std::errc::no_such_process (the kernel's "no such route"), named as
/// for add_route().
[[nodiscard]] result<void> remove_route(const Rtnl& rtnl, const Route& route) noexcept;

/// ip route add default via GATEWAY [dev LINK].
[[nodiscard]] result<void> add_default_route(const Rtnl& rtnl,
                                             const IpAddress& gateway,
                                             int oif = 0) noexcept;

/// The unicast routes of `table` (ip route show table T) for one family (AF_INET, AF_INET6),
/// with their preferred source and the nexthops of multipath routes.
/// Wraps: RTM_GETROUTE dump. Errors name the namespace ("RTM_GETROUTE dump in net:[…]: …").
[[nodiscard]] result<std::vector<Route>> list_routes(const Rtnl& rtnl,
                                                     int family = AF_INET,
                                                     std::uint32_t table = main_table) noexcept;

/// What route_to() asks besides the destination: as `ip route get DST from SRC oif DEV mark M`.
struct RouteQuery {
  std::optional<IpAddress> from;  ///< the source address the packet would have (RTA_SRC)
  int oif = 0;                    ///< force the output interface (RTA_OIF); 0: any
  std::uint32_t mark = 0;         ///< the packet's fwmark (RTA_MARK), as policy rules see it
  /// The route as it is in the table (ip route get fibmatch): its prefix and every nexthop of
  /// a multipath route; without it, the one path and the destination as a host route (/32,
  /// /128), as the kernel resolved it for one packet.
  bool fib_match = false;
};

/// Which route a packet to `destination` takes in the namespace of `rtnl`, after the policy
/// rules (ip route get): its destination, gateway, output interface (oif), preferred source
/// (prefsrc: the address a socket connecting there would get), metric and the table it was
/// found in (RTM_F_LOOKUP_TABLE; 0 when it looked up none, as for a forced oif). An address of
/// the namespace itself comes back with type RTN_LOCAL, oif lo, and (until the namespace has
/// policy rules of its own, which split the local table from the main one) table main where
/// `ip route get` prints "table local".
/// Wraps: RTM_GETROUTE on one address. Errors name the question in ip-route words, with the
/// kernel's extended ack: std::errc::network_unreachable ("RTM_GETROUTE 10.9.9.9: Network is
/// unreachable"), std::errc::no_route_to_host, std::errc::invalid_argument (an empty
/// destination, or `from` of another family: refused before the kernel, with the reason).
[[nodiscard]] result<Route> route_to(const Rtnl& rtnl,
                                     const IpAddress& destination,
                                     const RouteQuery& query = {}) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/route.ipp>
#endif

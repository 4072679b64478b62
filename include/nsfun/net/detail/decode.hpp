// SPDX-License-Identifier: MIT
// nsfun::net – private: decoding rtnetlink link, address, route and neighbour messages into the
// NetEvent types (for NetEvents and wait_until).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <nsfun/net/detail/link_fields.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/events.hpp>

namespace nsfun::net::detail {

// Copies an address attribute of `family` (4 or 16 bytes); nothing when the size is wrong.
inline std::optional<IpAddress> attr_ip(const nlattr* a, int family) noexcept {
  if (a == nullptr) {
    return std::nullopt;
  }
  IpAddress ip;
  ip.family = family;
  std::size_t n = ip.size();
  if (n == 0 || mnl_attr_get_payload_len(a) != n) {
    return std::nullopt;
  }
  std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), n);
  return ip;
}

// A link message (RTM_NEWLINK / RTM_DELLINK, also RTM_GETLINK's reply); nothing for AF_BRIDGE
// port messages, which repeat a link's state for the bridge.
inline std::optional<LinkEvent> decode_link(const nlmsghdr& h) {
  if (mnl_nlmsg_get_payload_len(&h) < sizeof(ifinfomsg)) {
    return std::nullopt;
  }
  auto ifi = header_of<ifinfomsg>(h);
  if (ifi.ifi_family == AF_BRIDGE) {
    return std::nullopt;
  }
  LinkEvent l;
  l.change = ifi.ifi_change;
  (void)read_link_fields(l, ifi, parse<IFLA_MAX + 1>(h, sizeof(ifinfomsg)));
  return l;
}

inline std::optional<AddressEvent> decode_address(const nlmsghdr& h) {
  if (mnl_nlmsg_get_payload_len(&h) < sizeof(ifaddrmsg)) {
    return std::nullopt;
  }
  auto ifa = header_of<ifaddrmsg>(h);
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) {
    return std::nullopt;
  }
  auto tb = parse<IFA_MAX + 1>(h, sizeof(ifaddrmsg));
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on point-to-point links.
  const nlattr* a = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  auto ip = attr_ip(a, ifa.ifa_family);
  if (!ip) {
    return std::nullopt;
  }
  AddressEvent e;
  e.index = static_cast<int>(ifa.ifa_index);
  e.prefix = IpPrefix{*ip, ifa.ifa_prefixlen};
  e.flags = tb[IFA_FLAGS] != nullptr ? attr_u32(tb[IFA_FLAGS]) : ifa.ifa_flags;
  e.scope = ifa.ifa_scope;
  return e;
}

inline std::optional<RouteEvent> decode_route(const nlmsghdr& h) {
  if (mnl_nlmsg_get_payload_len(&h) < sizeof(rtmsg)) {
    return std::nullopt;
  }
  auto rtm = header_of<rtmsg>(h);
  if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6) {
    return std::nullopt;
  }
  auto tb = parse<RTA_MAX + 1>(h, sizeof(rtmsg));
  RouteEvent r;
  r.family = rtm.rtm_family;
  if (auto dst = attr_ip(tb[RTA_DST], r.family)) {
    r.destination = IpPrefix{*dst, rtm.rtm_dst_len};
  } else if (rtm.rtm_dst_len != 0) {
    return std::nullopt;  // a prefix length without an address: not a route we can name
  }
  r.gateway = attr_ip(tb[RTA_GATEWAY], r.family);
  r.source = attr_ip(tb[RTA_PREFSRC], r.family);
  if (tb[RTA_OIF] != nullptr) {
    r.oif = static_cast<int>(attr_u32(tb[RTA_OIF]));
  }
  r.table = tb[RTA_TABLE] != nullptr ? attr_u32(tb[RTA_TABLE]) : rtm.rtm_table;
  if (tb[RTA_PRIORITY] != nullptr) {
    r.metric = attr_u32(tb[RTA_PRIORITY]);
  }
  r.type = rtm.rtm_type;
  r.protocol = rtm.rtm_protocol;
  r.scope = rtm.rtm_scope;
  return r;
}

inline std::optional<NeighbourEvent> decode_neighbour(const nlmsghdr& h) {
  if (mnl_nlmsg_get_payload_len(&h) < sizeof(ndmsg)) {
    return std::nullopt;
  }
  auto ndm = header_of<ndmsg>(h);
  if (ndm.ndm_family != AF_INET && ndm.ndm_family != AF_INET6) {
    return std::nullopt;  // AF_BRIDGE: forwarding database entries
  }
  auto tb = parse<NDA_MAX + 1>(h, sizeof(ndmsg));
  auto ip = attr_ip(tb[NDA_DST], ndm.ndm_family);
  if (!ip) {
    return std::nullopt;
  }
  NeighbourEvent n;
  n.index = ndm.ndm_ifindex;
  n.ip = *ip;
  n.mac = attr_mac(tb[NDA_LLADDR]);
  n.state = ndm.ndm_state;
  n.flags = ndm.ndm_flags;
  return n;
}

// The event for one notification; nothing for a message of another type or family.
inline std::optional<NetEvent> decode_event(const nlmsghdr& h) {
  NetEvent e;
  e.type = h.nlmsg_type;
  switch (h.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      if (auto l = decode_link(h)) {
        e.kind = EventKind::link;
        e.removed = h.nlmsg_type == RTM_DELLINK;
        e.data = std::move(*l);
        return e;
      }
      return std::nullopt;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      if (auto a = decode_address(h)) {
        e.kind = EventKind::address;
        e.removed = h.nlmsg_type == RTM_DELADDR;
        e.data = *a;
        return e;
      }
      return std::nullopt;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      if (auto r = decode_route(h)) {
        e.kind = EventKind::route;
        e.removed = h.nlmsg_type == RTM_DELROUTE;
        e.data = *r;
        return e;
      }
      return std::nullopt;
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
      if (auto n = decode_neighbour(h)) {
        e.kind = EventKind::neighbour;
        e.removed = h.nlmsg_type == RTM_DELNEIGH;
        e.data = *n;
        return e;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace nsfun::net::detail

// SPDX-License-Identifier: MIT
// nsfun::net – routes: the implementation (see <nsfun/config.hpp>). RTM_NEWROUTE /
// RTM_DELROUTE / RTM_GETROUTE (dumps, and the lookup of one destination), RTA_MULTIPATH.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/route.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

// The most nexthops a request carries: each takes up to 28 bytes of the 4 KiB request buffer.
inline constexpr std::size_t max_nexthops = 64;

// A nexthop as errors name it, in ip-route words: "nexthop via 10.0.0.2 dev nsft0 weight 2".
inline std::string describe_nexthop(const Rtnl& rtnl, const Nexthop& nh) {
  std::string text = "nexthop";
  if (nh.gateway) {
    text += " via " + nh.gateway->to_string();
  }
  if (nh.oif > 0) {
    text += " dev " + link_label(rtnl, nh.oif);
  }
  if (nh.weight != 1) {
    text += " weight " + std::to_string(nh.weight);
  }
  return text;
}

// A route as errors name it, in ip-route words: "10.0.0.0/24 via 10.0.0.1 dev nsft0 metric 5".
// The interface's name is asked of the kernel (failure paths only).
inline std::string describe_route(const Rtnl& rtnl, const Route& r) {
  std::string text = r.destination ? r.destination->to_string() : "default";
  if (r.gateway) {
    text += " via " + r.gateway->to_string();
  }
  if (r.oif > 0) {
    text += " dev " + link_label(rtnl, r.oif);
  }
  if (r.prefsrc) {
    text += " src " + r.prefsrc->to_string();
  }
  if (r.metric != 0) {
    text += " metric " + std::to_string(r.metric);
  }
  if (r.table != main_table) {
    text += " table " + std::to_string(r.table);
  }
  for (const Nexthop& nh : r.nexthops) {
    text += " " + describe_nexthop(rtnl, nh);
  }
  return text;
}

// Why a route cannot be asked for as it is, or "" when it can.
inline std::string_view route_problem(const Route& r, int family, bool adding) noexcept {
  if (family != AF_INET && family != AF_INET6) {
    return "no address family (no destination, gateway nor family)";
  }
  if ((r.destination && r.destination->address.family != family) ||
      (r.gateway && r.gateway->family != family) || (r.prefsrc && r.prefsrc->family != family)) {
    return "mixed address families";
  }
  if (r.type != RTN_UNICAST) {
    return "only unicast routes (RTN_UNICAST) are added or removed here";
  }
  if (!r.nexthops.empty()) {
    if (r.gateway || r.oif > 0) {
      return "a gateway or oif beside nexthops (put them in a nexthop)";
    }
    if (r.nexthops.size() > max_nexthops) {
      return "more than 64 nexthops";
    }
    for (const Nexthop& nh : r.nexthops) {
      if (nh.gateway && nh.gateway->family != family) {
        return "mixed address families";
      }
      if (adding && !nh.gateway && nh.oif <= 0) {
        return "a nexthop with neither a gateway nor an interface (oif)";
      }
      if (nh.weight < 1 || nh.weight > 256) {
        return "a nexthop weight outside 1..256";
      }
    }
    return {};
  }
  if (adding && !r.gateway && r.oif <= 0) {
    return "neither a gateway nor an interface (oif)";
  }
  return {};
}

// RTA_MULTIPATH: one rtnexthop per path, each followed by its own attributes (RTA_GATEWAY).
inline void put_multipath(Msg& m, const std::vector<Nexthop>& nexthops) noexcept {
  nlattr* mp = m.nest_start(RTA_MULTIPATH);
  for (const Nexthop& nh : nexthops) {
    auto& rtnh = m.extra<rtnexthop>();
    const char* start = reinterpret_cast<const char*>(&rtnh);
    rtnh.rtnh_hops = static_cast<std::uint8_t>(nh.weight - 1);
    rtnh.rtnh_ifindex = nh.oif > 0 ? nh.oif : 0;
    if (nh.gateway) {
      m.put_bytes(RTA_GATEWAY, nh.gateway->bytes.data(), nh.gateway->size());
    }
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(&m.hdr()));
    rtnh.rtnh_len = static_cast<std::uint16_t>(tail - start);
  }
  m.nest_end(mp);
}

inline result<void> route_request(const Rtnl& rtnl,
                                  const Route& r,
                                  std::uint16_t type,
                                  std::uint16_t flags,
                                  std::string_view step) noexcept {
  try {
    int family = r.resolved_family();
    if (auto why = route_problem(r, family, type == RTM_NEWROUTE); !why.empty()) {
      return errno_error(EINVAL, step).on(describe_route(rtnl, r)).because(why);
    }
    bool via = r.gateway.has_value();
    for (const Nexthop& nh : r.nexthops) {
      via = via || nh.gateway.has_value();
    }
    Msg m(type, flags);
    auto& rtm = m.extra<rtmsg>();
    rtm.rtm_family = static_cast<std::uint8_t>(family);
    rtm.rtm_dst_len = r.destination ? r.destination->length : 0;
    rtm.rtm_table = static_cast<std::uint8_t>(r.table < 256 ? r.table : 0U);  // RT_TABLE_UNSPEC
    rtm.rtm_protocol = RTPROT_BOOT;
    rtm.rtm_scope = static_cast<std::uint8_t>(via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtm.rtm_type = RTN_UNICAST;
    if (type == RTM_DELROUTE) {
      rtm.rtm_protocol = 0;
      rtm.rtm_scope = RT_SCOPE_NOWHERE;
    }
    if (r.destination && r.destination->length > 0) {
      IpPrefix net = r.destination->network();
      m.put_bytes(RTA_DST, net.address.bytes.data(), net.address.size());
    }
    if (r.gateway) {
      m.put_bytes(RTA_GATEWAY, r.gateway->bytes.data(), r.gateway->size());
    }
    if (r.oif > 0) {
      m.put_u32(RTA_OIF, static_cast<std::uint32_t>(r.oif));
    }
    if (r.prefsrc) {
      m.put_bytes(RTA_PREFSRC, r.prefsrc->bytes.data(), r.prefsrc->size());
    }
    if (r.metric != 0) {
      m.put_u32(RTA_PRIORITY, r.metric);
    }
    m.put_u32(RTA_TABLE, r.table);
    if (!r.nexthops.empty()) {
      put_multipath(m, r.nexthops);
    }
    return with_context(rtnl.request(m.hdr(), step),
                        [&](error& e) { e.on(describe_route(rtnl, r)); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step);
  }
}

inline IpAddress route_address_from(const nlattr* a, int family) noexcept {
  IpAddress ip;
  ip.family = family;
  std::size_t n = ip.size();
  if (mnl_attr_get_payload_len(a) >= n) {
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), n);
  }
  return ip;
}

// The paths in an RTA_MULTIPATH attribute.
inline std::vector<Nexthop> parse_multipath(const nlattr* a, int family) {
  std::vector<Nexthop> out;
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  std::size_t left = mnl_attr_get_payload_len(a);
  constexpr std::size_t head = (sizeof(rtnexthop) + 3U) & ~std::size_t{3};  // RTNH_ALIGN
  while (left >= sizeof(rtnexthop)) {
    rtnexthop rtnh{};
    std::memcpy(&rtnh, p, sizeof(rtnh));
    if (rtnh.rtnh_len < sizeof(rtnh) || rtnh.rtnh_len > left) {
      break;
    }
    Nexthop nh;
    nh.oif = rtnh.rtnh_ifindex;
    nh.weight = rtnh.rtnh_hops + 1U;
    if (rtnh.rtnh_len > head) {
      AttrTable<RTA_MAX + 1> tb{};
      parse_attrs(p + head, rtnh.rtnh_len - head, tb.data(), tb.size());
      if (tb[RTA_GATEWAY] != nullptr) {
        nh.gateway = route_address_from(tb[RTA_GATEWAY], family);
      }
    }
    out.push_back(nh);
    std::size_t step = (rtnh.rtnh_len + 3U) & ~std::size_t{3};
    if (step >= left) {
      break;
    }
    p += step;
    left -= step;
  }
  return out;
}

// A route message (RTM_NEWROUTE) as a Route.
inline Route parse_route(const nlmsghdr& h) {
  auto hdr = header_of<rtmsg>(h);
  auto tb = parse<RTA_MAX + 1>(h, sizeof(rtmsg));
  int family = hdr.rtm_family;
  Route r;
  r.family = family;
  r.type = hdr.rtm_type;
  r.table = tb[RTA_TABLE] != nullptr ? attr_u32(tb[RTA_TABLE]) : hdr.rtm_table;
  if (hdr.rtm_dst_len > 0 || tb[RTA_DST] != nullptr) {
    IpPrefix dst;
    dst.address.family = family;
    if (tb[RTA_DST] != nullptr) {
      dst.address = route_address_from(tb[RTA_DST], family);
    }
    dst.length = hdr.rtm_dst_len;
    r.destination = dst;
  }
  if (tb[RTA_GATEWAY] != nullptr) {
    r.gateway = route_address_from(tb[RTA_GATEWAY], family);
  }
  if (tb[RTA_OIF] != nullptr) {
    r.oif = static_cast<int>(attr_u32(tb[RTA_OIF]));
  }
  if (tb[RTA_PRIORITY] != nullptr) {
    r.metric = attr_u32(tb[RTA_PRIORITY]);
  }
  if (tb[RTA_PREFSRC] != nullptr) {
    r.prefsrc = route_address_from(tb[RTA_PREFSRC], family);
  }
  if (tb[RTA_MULTIPATH] != nullptr) {
    r.nexthops = parse_multipath(tb[RTA_MULTIPATH], family);
  }
  return r;
}

// A route_to() question as errors name it: "10.9.9.9 from 10.0.0.1 oif nsft0 mark 0x10".
inline std::string describe_query(const Rtnl& rtnl, const IpAddress& dst, const RouteQuery& q) {
  std::string text = q.fib_match ? "fibmatch " : "";
  text += dst.size() != 0 ? dst.to_string() : std::string("(no destination)");
  if (q.from) {
    text += " from " + q.from->to_string();
  }
  if (q.oif > 0) {
    text += " oif " + link_label(rtnl, q.oif);
  }
  if (q.mark != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%x", q.mark);
    text += " mark ";
    text += hex;
  }
  return text;
}

}  // namespace detail

NSFUN_INLINE int Route::resolved_family() const noexcept {
  if (family != AF_UNSPEC) {
    return family;
  }
  if (destination) {
    return destination->address.family;
  }
  if (gateway) {
    return gateway->family;
  }
  for (const Nexthop& nh : nexthops) {
    if (nh.gateway) {
      return nh.gateway->family;
    }
  }
  return AF_UNSPEC;
}

NSFUN_INLINE result<void> add_route(const Rtnl& rtnl, const Route& route) noexcept {
  return detail::route_request(rtnl, route, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
                               "RTM_NEWROUTE");
}

NSFUN_INLINE result<void> remove_route(const Rtnl& rtnl, const Route& route) noexcept {
  return detail::route_request(rtnl, route, RTM_DELROUTE, 0, "RTM_DELROUTE");
}

NSFUN_INLINE result<void> add_default_route(const Rtnl& rtnl,
                                            const IpAddress& gateway,
                                            int oif) noexcept {
  try {
    Route r;
    r.gateway = gateway;
    r.oif = oif;
    return add_route(rtnl, r);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWROUTE");
  }
}

NSFUN_INLINE result<std::vector<Route>> list_routes(const Rtnl& rtnl,
                                                    int family,
                                                    std::uint32_t table) noexcept {
  try {
    detail::Msg m(RTM_GETROUTE, 0);
    auto& rtm = m.extra<rtmsg>();
    rtm.rtm_family = static_cast<std::uint8_t>(family);
    std::vector<Route> out;
    NSFUN_TRYV(with_context(rtnl.dump(
                                m.hdr(), "RTM_GETROUTE", [&] { out.clear(); },
                                [&](const nlmsghdr& h) -> result<void> {
                                  if (h.nlmsg_type != RTM_NEWROUTE) {
                                    return success();
                                  }
                                  auto hdr = detail::header_of<rtmsg>(h);
                                  if (hdr.rtm_family != family || hdr.rtm_type != RTN_UNICAST) {
                                    return success();
                                  }
                                  Route r = detail::parse_route(h);
                                  if (r.table == table) {
                                    out.push_back(std::move(r));
                                  }
                                  return success();
                                }),
                            [&](error& e) noexcept { detail::on_dump_of(e, rtnl); }));
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETROUTE");
  }
}

NSFUN_INLINE result<Route> route_to(const Rtnl& rtnl,
                                    const IpAddress& destination,
                                    const RouteQuery& query) noexcept {
  constexpr std::string_view step = "RTM_GETROUTE";
  try {
    auto refuse = [&](std::string_view why) {
      return errno_error(EINVAL, step)
          .on(detail::describe_query(rtnl, destination, query))
          .because(why);
    };
    int family = destination.family;
    if (family != AF_INET && family != AF_INET6) {
      return refuse("no destination address (an empty IpAddress)");
    }
    if (query.from && query.from->family != family) {
      return refuse("mixed address families");
    }
    detail::Msg m(RTM_GETROUTE, 0);
    auto& rtm = m.extra<rtmsg>();
    rtm.rtm_family = static_cast<std::uint8_t>(family);
    rtm.rtm_dst_len = destination.max_prefix();
    // The table the route was found in, not RT_TABLE_MAIN whatever it was (Linux 4.4+).
    rtm.rtm_flags = RTM_F_LOOKUP_TABLE | (query.fib_match ? RTM_F_FIB_MATCH : 0U);
    m.put_bytes(RTA_DST, destination.bytes.data(), destination.size());
    if (query.from) {
      rtm.rtm_src_len = query.from->max_prefix();
      m.put_bytes(RTA_SRC, query.from->bytes.data(), query.from->size());
    }
    if (query.oif > 0) {
      m.put_u32(RTA_OIF, static_cast<std::uint32_t>(query.oif));
    }
    if (query.mark != 0) {
      m.put_u32(RTA_MARK, query.mark);
    }
    Route found;
    bool answered = false;
    auto asked = rtnl.request(m.hdr(), step, [&](const nlmsghdr& h) -> result<void> {
      if (h.nlmsg_type == RTM_NEWROUTE && !answered) {
        found = detail::parse_route(h);
        answered = true;
      }
      return success();
    });
    if (!asked) {
      error e = asked.assume_error();
      e.on(detail::describe_query(rtnl, destination, query));
      return e;
    }
    if (!answered) {
      return errno_error(EBADMSG, step)
          .on(detail::describe_query(rtnl, destination, query))
          .because("the kernel acknowledged without a route");
    }
    return found;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step);
  }
}

}  // namespace nsfun::net

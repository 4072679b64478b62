// SPDX-License-Identifier: MIT
// nsfun::net – routes: the implementation (see <nsfun/config.hpp>). RTM_NEWROUTE /
// RTM_DELROUTE / RTM_GETROUTE.
#pragma once

#include <cerrno>
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
  if (r.metric != 0) {
    text += " metric " + std::to_string(r.metric);
  }
  if (r.table != main_table) {
    text += " table " + std::to_string(r.table);
  }
  return text;
}

inline result<void> route_request(const Rtnl& rtnl,
                                  const Route& r,
                                  std::uint16_t type,
                                  std::uint16_t flags,
                                  std::string_view step) noexcept {
  try {
    auto refuse = [&](std::string_view why) {
      return errno_error(EINVAL, step).on(describe_route(rtnl, r)).because(why);
    };
    int family = r.resolved_family();
    if (family != AF_INET && family != AF_INET6) {
      return refuse("no address family (no destination, gateway nor family)");
    }
    if ((r.destination && r.destination->address.family != family) ||
        (r.gateway && r.gateway->family != family)) {
      return refuse("mixed address families");
    }
    if (type == RTM_NEWROUTE && !r.gateway && r.oif <= 0) {
      return refuse("neither a gateway nor an interface (oif)");
    }
    Msg m(type, flags);
    auto& rtm = m.extra<rtmsg>();
    rtm.rtm_family = static_cast<std::uint8_t>(family);
    rtm.rtm_dst_len = r.destination ? r.destination->length : 0;
    rtm.rtm_table = static_cast<std::uint8_t>(r.table < 256 ? r.table : 0U);  // RT_TABLE_UNSPEC
    rtm.rtm_protocol = RTPROT_BOOT;
    rtm.rtm_scope = static_cast<std::uint8_t>(r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
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
    if (r.metric != 0) {
      m.put_u32(RTA_PRIORITY, r.metric);
    }
    m.put_u32(RTA_TABLE, r.table);
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
  Route r;
  r.gateway = gateway;
  r.oif = oif;
  return add_route(rtnl, r);
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
                                  auto tb = detail::parse<RTA_MAX + 1>(h, sizeof(rtmsg));
                                  Route r;
                                  r.family = family;
                                  r.table = tb[RTA_TABLE] != nullptr
                                                ? detail::attr_u32(tb[RTA_TABLE])
                                                : hdr.rtm_table;
                                  if (r.table != table) {
                                    return success();
                                  }
                                  if (hdr.rtm_dst_len > 0 || tb[RTA_DST] != nullptr) {
                                    IpPrefix dst;
                                    dst.address.family = family;
                                    if (tb[RTA_DST] != nullptr) {
                                      dst.address = detail::route_address_from(tb[RTA_DST], family);
                                    }
                                    dst.length = hdr.rtm_dst_len;
                                    r.destination = dst;
                                  }
                                  if (tb[RTA_GATEWAY] != nullptr) {
                                    r.gateway = detail::route_address_from(tb[RTA_GATEWAY], family);
                                  }
                                  if (tb[RTA_OIF] != nullptr) {
                                    r.oif = static_cast<int>(detail::attr_u32(tb[RTA_OIF]));
                                  }
                                  if (tb[RTA_PRIORITY] != nullptr) {
                                    r.metric = detail::attr_u32(tb[RTA_PRIORITY]);
                                  }
                                  out.push_back(r);
                                  return success();
                                }),
                            [&](error& e) noexcept { detail::on_dump_of(e, rtnl); }));
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETROUTE");
  }
}

}  // namespace nsfun::net

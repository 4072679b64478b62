// SPDX-License-Identifier: MIT
// nsfun::net – RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE.

#include <cerrno>
#include <cstring>

#include <linux/rtnetlink.h>

#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/route.hpp>

namespace nsfun::net {

namespace {

// A route as errors name it, in ip-route words: "10.0.0.0/24 via 10.0.0.1 dev nsft0 metric 5".
// The interface's name is asked of the kernel (failure paths only).
std::string describe(const Rtnl& rtnl, const Route& r) {
  std::string text = r.destination ? r.destination->to_string() : "default";
  if (r.gateway) {
    text += " via " + r.gateway->to_string();
  }
  if (r.oif > 0) {
    text += " dev " + detail::link_label(rtnl, r.oif);
  }
  if (r.metric != 0) {
    text += " metric " + std::to_string(r.metric);
  }
  if (r.table != main_table) {
    text += " table " + std::to_string(r.table);
  }
  return text;
}

result<void> route_request(const Rtnl& rtnl,
                           const Route& r,
                           std::uint16_t type,
                           std::uint16_t flags,
                           std::string_view step) {
  auto refuse = [&](std::string_view why) {
    return errno_error(EINVAL, step).on(describe(rtnl, r)).because(why);
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
  detail::Msg m(type, flags);
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
  return detail::named(rtnl.request(m.hdr(), step), [&](error& e) { e.on(describe(rtnl, r)); });
}

IpAddress address_from(const nlattr* a, int family) {
  IpAddress ip;
  ip.family = family;
  std::size_t n = ip.size();
  if (mnl_attr_get_payload_len(a) >= n) {
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), n);
  }
  return ip;
}

}  // namespace

int Route::resolved_family() const noexcept {
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

result<void> add_route(const Rtnl& rtnl, const Route& route) {
  return route_request(rtnl, route, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWROUTE");
}

result<void> remove_route(const Rtnl& rtnl, const Route& route) {
  return route_request(rtnl, route, RTM_DELROUTE, 0, "RTM_DELROUTE");
}

result<void> add_default_route(const Rtnl& rtnl, const IpAddress& gateway, int oif) {
  Route r;
  r.gateway = gateway;
  r.oif = oif;
  return add_route(rtnl, r);
}

result<std::vector<Route>> list_routes(const Rtnl& rtnl, int family, std::uint32_t table) {
  detail::Msg m(RTM_GETROUTE, 0);
  auto& rtm = m.extra<rtmsg>();
  rtm.rtm_family = static_cast<std::uint8_t>(family);
  std::vector<Route> out;
  NSFUN_TRYV(detail::named(rtnl.dump(
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
                                     dst.address = address_from(tb[RTA_DST], family);
                                   }
                                   dst.length = hdr.rtm_dst_len;
                                   r.destination = dst;
                                 }
                                 if (tb[RTA_GATEWAY] != nullptr) {
                                   r.gateway = address_from(tb[RTA_GATEWAY], family);
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
                           [&](error& e) { detail::on_dump_of(e, rtnl); }));
  return out;
}

}  // namespace nsfun::net

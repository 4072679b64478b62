// SPDX-License-Identifier: MIT
// nsfun::net – bridges: the implementation (see <nsfun/config.hpp>). Create / attach / detach.
#pragma once

#include <new>
#include <string_view>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/bridge.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net::bridge {

NSFUN_INLINE result<Link> create(const Rtnl& rtnl, std::string_view name) noexcept {
  NSFUN_TRYV(check_ifname(name));
  detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  m.put_str(IFLA_IFNAME, name);
  nlattr* linkinfo = m.nest_start(IFLA_LINKINFO);
  m.put_str(IFLA_INFO_KIND, "bridge");
  m.nest_end(linkinfo);
  NSFUN_TRYV(
      with_context(rtnl.request(m.hdr(), "RTM_NEWLINK"), [&](error& e) noexcept { e.on(name); }));
  auto made = Link::by_name(rtnl, name);
  if (!made) {
    detail::delete_by_name(rtnl, name);  // nothing is left on error
  }
  return made;
}

NSFUN_INLINE result<void> attach(const Link& bridge, const Link& port) noexcept {
  return port.set_master(bridge);
}

NSFUN_INLINE result<void> detach(const Link& port) noexcept {
  return port.clear_master();
}

}  // namespace nsfun::net::bridge

// SPDX-License-Identifier: MIT
// nsfun::net – bridge create / attach / detach.

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/net/bridge.hpp>
#include <nsfun/net/detail/nl.hpp>

namespace nsfun::net::bridge {

result<Link> create(const Rtnl& rtnl, std::string_view name) {
  NSFUN_TRYV(check_ifname(name));
  detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  m.put_str(IFLA_IFNAME, name);
  nlattr* linkinfo = m.nest_start(IFLA_LINKINFO);
  m.put_str(IFLA_INFO_KIND, "bridge");
  m.nest_end(linkinfo);
  NSFUN_TRYV(detail::named(rtnl.request(m.hdr(), "RTM_NEWLINK"), [&](error& e) { e.on(name); }));
  auto made = Link::by_name(rtnl, name);
  if (!made) {
    detail::delete_by_name(rtnl, name);  // nothing is left on error
  }
  return made;
}

result<void> attach(const Link& bridge, const Link& port) {
  return port.set_master(bridge);
}

result<void> detach(const Link& port) {
  return port.clear_master();
}

}  // namespace nsfun::net::bridge

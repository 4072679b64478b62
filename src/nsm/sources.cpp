// SPDX-License-Identifier: MIT
// nsm – NETNSID for nsm list: the id each network namespace has in the caller's.

#include "sources.hpp"

#include <utility>

#include <nsfun/ns_fd.hpp>

#ifdef NSM_HAVE_NET
#  include <nsfun/net/nsid.hpp>
#  include <nsfun/net/rtnl.hpp>
#endif

namespace nsm::sources {

std::optional<std::int32_t> netnsid(const nsfun::NsSummary& s) {
#ifndef NSM_HAVE_NET
  (void)s;
  return std::nullopt;  // built without nsfun::net: no NETNSID
#else
  if (s.ns.type() != nsfun::NsType::net) {
    return std::nullopt;
  }
  // One NETLINK_ROUTE socket in the caller's network namespace for the whole listing (lsns
  // asks through one socket too); none when it cannot be had, and then no ids.
  static const nsfun::result<nsfun::net::Rtnl> rtnl = nsfun::net::Rtnl::open();
  if (!rtnl) {
    return std::nullopt;
  }
  auto ns = nsfun::open_namespace(s);
  if (!ns) {
    return std::nullopt;
  }
  auto net = nsfun::NetNs::from(std::move(ns).value());
  if (!net) {
    return std::nullopt;
  }
  auto id = nsfun::net::nsid::get(rtnl.value(), net.value());
  if (!id) {
    return std::nullopt;
  }
  return id.value();
#endif
}

}  // namespace nsm::sources

// SPDX-License-Identifier: MIT
// nsfun::net – Linux bridges (ip link add NAME type bridge; ip link set PORT master NAME).
#pragma once

#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net::bridge {

/// Creates a bridge called `name` in the namespace of `rtnl` (down, STP off) and returns it.
/// It is not owned: delete it with Link::remove(), or let its namespace die.
/// Wraps: RTM_NEWLINK, kind "bridge", NLM_F_CREATE | NLM_F_EXCL. Needs: CAP_NET_ADMIN.
/// Errors: std::errc::file_exists ("RTM_NEWLINK br0: File exists"), those of check_ifname();
/// kernel errors name the bridge and carry the kernel's extended ack. On error nothing is left.
[[nodiscard]] result<Link> create(const Rtnl& rtnl, std::string_view name) noexcept;

/// Attaches `port` to `bridge` (same namespace): ip link set PORT master BRIDGE.
/// Errors: std::errc::cross_device_link (different namespaces), std::errc::invalid_argument;
/// they name both ("RTM_NEWLINK veth0 master br0: …").
[[nodiscard]] result<void> attach(const Link& bridge, const Link& port) noexcept;

/// Detaches `port` from its bridge: ip link set PORT nomaster.
[[nodiscard]] result<void> detach(const Link& port) noexcept;

}  // namespace nsfun::net::bridge

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/bridge.ipp>
#endif

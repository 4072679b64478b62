// SPDX-License-Identifier: MIT
// nsfun::net – everything of the networking component (link with nsfun::net).
#pragma once

#include <nsfun/net/address.hpp>
#include <nsfun/net/bridge.hpp>
#include <nsfun/net/events.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/link_kinds.hpp>
#include <nsfun/net/nat.hpp>
#include <nsfun/net/neigh.hpp>
#include <nsfun/net/nsid.hpp>
#include <nsfun/net/oper_state.hpp>
#include <nsfun/net/route.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/net/rule.hpp>
#include <nsfun/net/socket.hpp>
#include <nsfun/net/sysctl.hpp>
#include <nsfun/net/tun.hpp>
#include <nsfun/net/veth.hpp>
#include <nsfun/net/wait.hpp>

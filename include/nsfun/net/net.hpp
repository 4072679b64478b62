// SPDX-License-Identifier: MIT
// nsfun::net – everything of the networking component (link with nsfun::net).
#pragma once

#include <nsfun/net/address.hpp>
#include <nsfun/net/bridge.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/nat.hpp>
#include <nsfun/net/nsid.hpp>
#include <nsfun/net/route.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/net/sysctl.hpp>
#include <nsfun/net/veth.hpp>

// SPDX-License-Identifier: MIT
// nsfun::net – private: the fields of a link message that LinkInfo (Link::info, links) and
// LinkEvent (NetEvents, wait_until) share, read in one place.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/oper_state.hpp>

namespace nsfun::net::detail {

// A 6-byte IFLA_ADDRESS; nothing for another size (tunnels without a MAC address, infiniband).
inline std::optional<MacAddress> attr_mac(const nlattr* a) noexcept {
  if (a == nullptr || mnl_attr_get_payload_len(a) != 6) {
    return std::nullopt;
  }
  MacAddress mac;
  std::memcpy(mac.bytes.data(), mnl_attr_get_payload(a), 6);
  return mac;
}

// Index, flags, name, kind, MTU, master, MAC address, operstate and carrier of an RTM_NEWLINK
// message (`ifi` its header, `tb` its attributes), into a LinkInfo or a LinkEvent: the names
// are the same. An attribute the kernel left out leaves its field as it was; an operstate this
// code does not know reads as unknown. Returns the kind's own settings (IFLA_INFO_DATA), or
// nullptr, for the caller that reads them.
template <class L>
const nlattr* read_link_fields(L& l, const ifinfomsg& ifi, const AttrTable<IFLA_MAX + 1>& tb) {
  l.index = ifi.ifi_index;
  l.flags = ifi.ifi_flags;
  if (tb[IFLA_IFNAME] != nullptr) {
    l.name = attr_str(tb[IFLA_IFNAME]);
  }
  if (tb[IFLA_MTU] != nullptr) {
    l.mtu = attr_u32(tb[IFLA_MTU]);
  }
  if (tb[IFLA_MASTER] != nullptr) {
    l.master = static_cast<int>(attr_u32(tb[IFLA_MASTER]));
  }
  l.mac = attr_mac(tb[IFLA_ADDRESS]);
  if (tb[IFLA_OPERSTATE] != nullptr) {
    l.operstate =
        oper_state_from(attr_num<std::uint8_t>(tb[IFLA_OPERSTATE])).value_or(OperState::unknown);
  }
  if (tb[IFLA_CARRIER] != nullptr) {
    l.carrier = attr_num<std::uint8_t>(tb[IFLA_CARRIER]) != 0;
  }
  if (tb[IFLA_LINKINFO] == nullptr) {
    return nullptr;
  }
  auto li = parse_nested<IFLA_INFO_MAX + 1>(tb[IFLA_LINKINFO]);
  if (li[IFLA_INFO_KIND] != nullptr) {
    l.kind = attr_str(li[IFLA_INFO_KIND]);
  }
  return li[IFLA_INFO_DATA];
}

}  // namespace nsfun::net::detail

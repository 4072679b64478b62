// SPDX-License-Identifier: MIT
// nsfun::net – Link: the implementation (see <nsfun/config.hpp>). RTM_GETLINK / RTM_NEWLINK /
// RTM_DELLINK.
#pragma once

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/link_fields.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

// An IPv4 (4 bytes) or IPv6 (16 bytes) address attribute in ip's notation; "" otherwise.
inline std::string attr_ip_text(const nlattr* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  std::size_t len = mnl_attr_get_payload_len(a);
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;
  if (family == AF_UNSPEC ||
      ::inet_ntop(family, mnl_attr_get_payload(a), buf, sizeof(buf)) == nullptr) {
    return {};
  }
  return buf;
}

// True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address attribute.
inline bool attr_is_multicast(const nlattr* a) noexcept {
  std::size_t len = mnl_attr_get_payload_len(a);
  const auto* b = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
  return (len == 4 && (b[0] & 0xf0U) == 0xe0U) || (len == 16 && b[0] == 0xffU);
}

inline VxlanDetails parse_vxlan(const nlattr* data) {
  auto tb = parse_nested<IFLA_VXLAN_MAX + 1>(data);
  VxlanDetails d;
  if (tb[IFLA_VXLAN_ID] != nullptr) {
    d.id = attr_u32(tb[IFLA_VXLAN_ID]);
  }
  for (const nlattr* peer : {tb[IFLA_VXLAN_GROUP], tb[IFLA_VXLAN_GROUP6]}) {
    if (peer != nullptr) {
      (attr_is_multicast(peer) ? d.group : d.remote) = attr_ip_text(peer);
    }
  }
  for (const nlattr* local : {tb[IFLA_VXLAN_LOCAL], tb[IFLA_VXLAN_LOCAL6]}) {
    if (local != nullptr) {
      d.local = attr_ip_text(local);
    }
  }
  if (tb[IFLA_VXLAN_PORT] != nullptr) {
    d.port = ntohs(attr_num<std::uint16_t>(tb[IFLA_VXLAN_PORT]));
  }
  if (tb[IFLA_VXLAN_LINK] != nullptr) {
    d.dev = static_cast<int>(attr_u32(tb[IFLA_VXLAN_LINK]));
  }
  return d;
}

inline TunDetails parse_tun(const nlattr* data) {
  auto tb = parse_nested<IFLA_TUN_MAX + 1>(data);
  TunDetails d;
  auto flag = [&](std::size_t type) {
    return tb[type] != nullptr && attr_num<std::uint8_t>(tb[type]) != 0;
  };
  if (tb[IFLA_TUN_TYPE] != nullptr) {
    d.type = attr_num<std::uint8_t>(tb[IFLA_TUN_TYPE]) == IFF_TAP ? TunType::tap : TunType::tun;
  }
  d.pi = flag(IFLA_TUN_PI);
  d.vnet_hdr = flag(IFLA_TUN_VNET_HDR);
  d.persist = flag(IFLA_TUN_PERSIST);
  d.multi_queue = flag(IFLA_TUN_MULTI_QUEUE);
  if (tb[IFLA_TUN_OWNER] != nullptr) {
    d.owner = attr_u32(tb[IFLA_TUN_OWNER]);
  }
  if (tb[IFLA_TUN_GROUP] != nullptr) {
    d.group = attr_u32(tb[IFLA_TUN_GROUP]);
  }
  return d;
}

// The kind's own settings, for the kinds LinkInfo has details of.
inline void parse_link_data(LinkInfo& info, const nlattr* data) {
  if (info.kind == "vlan") {
    auto tb = parse_nested<IFLA_VLAN_MAX + 1>(data);
    VlanDetails d;
    if (tb[IFLA_VLAN_ID] != nullptr) {
      d.id = attr_num<std::uint16_t>(tb[IFLA_VLAN_ID]);
    }
    if (tb[IFLA_VLAN_PROTOCOL] != nullptr &&
        ntohs(attr_num<std::uint16_t>(tb[IFLA_VLAN_PROTOCOL])) == ETH_P_8021AD) {
      d.protocol = VlanProtocol::dot1ad;
    }
    info.vlan = d;
  } else if (info.kind == "macvlan" || info.kind == "macvtap") {
    auto tb = parse_nested<IFLA_MACVLAN_MAX + 1>(data);
    MacvlanDetails d;
    if (tb[IFLA_MACVLAN_MODE] != nullptr) {
      switch (attr_u32(tb[IFLA_MACVLAN_MODE])) {
        case MACVLAN_MODE_PRIVATE:
          d.mode = MacvlanMode::private_;
          break;
        case MACVLAN_MODE_VEPA:
          d.mode = MacvlanMode::vepa;
          break;
        case MACVLAN_MODE_PASSTHRU:
          d.mode = MacvlanMode::passthru;
          break;
        case MACVLAN_MODE_SOURCE:
          d.mode = MacvlanMode::source;
          break;
        default:
          d.mode = MacvlanMode::bridge;
          break;
      }
    }
    info.macvlan = d;
  } else if (info.kind == "ipvlan") {
    auto tb = parse_nested<IFLA_IPVLAN_MAX + 1>(data);
    IpvlanDetails d;
    if (tb[IFLA_IPVLAN_MODE] != nullptr) {
      std::uint16_t mode = attr_num<std::uint16_t>(tb[IFLA_IPVLAN_MODE]);
      d.mode = mode == IPVLAN_MODE_L3    ? IpvlanMode::l3
               : mode == IPVLAN_MODE_L3S ? IpvlanMode::l3s
                                         : IpvlanMode::l2;
    }
    info.ipvlan = d;
  } else if (info.kind == "vxlan") {
    info.vxlan = parse_vxlan(data);
  } else if (info.kind == "bond") {
    auto tb = parse_nested<IFLA_BOND_MAX + 1>(data);
    BondDetails d;
    if (tb[IFLA_BOND_MODE] != nullptr && attr_num<std::uint8_t>(tb[IFLA_BOND_MODE]) <= 6) {
      d.mode = static_cast<BondMode>(attr_num<std::uint8_t>(tb[IFLA_BOND_MODE]));
    }
    info.bond = d;
  } else if (info.kind == "tun") {
    info.tun = parse_tun(data);
  }
}

inline LinkInfo parse_link(const nlmsghdr& h) {
  LinkInfo info;
  auto tb = parse<IFLA_MAX + 1>(h, sizeof(ifinfomsg));
  const nlattr* data = read_link_fields(info, header_of<ifinfomsg>(h), tb);
  if (tb[IFLA_LINK] != nullptr) {
    info.link = static_cast<int>(attr_u32(tb[IFLA_LINK]));
  }
  if (tb[IFLA_IFALIAS] != nullptr) {
    info.alias = attr_str(tb[IFLA_IFALIAS]);
  }
  if (data != nullptr) {
    parse_link_data(info, data);
  }
  return info;
}

// An RTM_NEWLINK on an existing interface, with its index set.
inline ifinfomsg& set_link_header(Msg& m, int index) noexcept {
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  return ifi;
}

// Names the link an error is about: by `name` when given, else by index.
inline void on_link(error& e, int index, std::string_view name) noexcept {
  if (!name.empty()) {
    e.on(name);
  } else {
    e.on("index ", index);
  }
}

// The link called `name`, or (name empty) the one with `index`. A failure names it as asked.
inline result<LinkInfo> get_link(const Rtnl& rtnl, int index, std::string_view name) {
  detail::Msg m(RTM_GETLINK, 0);
  detail::set_link_header(m, index);
  if (!name.empty()) {
    m.put_str(IFLA_IFNAME, name);
  }
  std::optional<LinkInfo> found;
  auto asked = rtnl.request(m.hdr(), "RTM_GETLINK", [&](const nlmsghdr& h) -> result<void> {
    if (h.nlmsg_type == RTM_NEWLINK) {
      found = parse_link(h);
    }
    return success();
  });
  if (!asked) {
    on_link(asked.assume_error(), index, name);
    return std::move(asked).as_failure();
  }
  if (!found) {
    error e = errno_error(ENODEV, "RTM_GETLINK");
    on_link(e, index, name);
    return e;
  }
  return std::move(*found);
}

// Sends a change request about `link`; a failure names the link and what was asked
// (`what...`: " mtu ", 10 makes "RTM_NEWLINK nsft0 mtu 10: …").
template <class... A>
result<void> link_request(const Link& link, Msg& m, std::string_view step, const A&... what) {
  return with_context(link.rtnl().request(m.hdr(), step),
                      [&](error& e) { e.on(link.label(), what...); });
}

inline int mac_hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace detail

NSFUN_INLINE result<void> check_ifname(std::string_view name) noexcept {
  constexpr std::string_view step = "check interface name";
  if (name.size() > max_ifname_length) {
    return errno_error(ENAMETOOLONG, step)
        .on('"', name, '"')
        .because("longer than ", max_ifname_length, " bytes");
  }
  if (name.empty() || name == "." || name == "..") {
    return errno_error(EINVAL, step).on('"', name, '"').because("not a name");
  }
  for (char c : name) {
    if (c == '/' || c == ':') {
      return errno_error(EINVAL, step).on('"', name, '"').because("contains '", c, "'");
    }
    if (c == '\0' || std::isspace(static_cast<unsigned char>(c)) != 0) {
      return errno_error(EINVAL, step).on('"', name, '"').because("contains white space or NUL");
    }
  }
  return success();
}

NSFUN_INLINE result<MacAddress> MacAddress::parse(std::string_view text) noexcept {
  auto bad = [text](std::string_view why) {
    return errno_error(EINVAL, "parse MAC address").on('"', text, '"').because(why);
  };
  MacAddress mac;
  if (text.size() != 17) {
    return bad("not six two-digit hex bytes");
  }
  char sep = text[2];
  if (sep != ':' && sep != '-') {
    return bad("bytes not separated by ':' or '-'");
  }
  for (std::size_t i = 0; i < 6; ++i) {
    int hi = detail::mac_hex_digit(text[i * 3]);
    int lo = detail::mac_hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) {
      return bad("not a hex digit");
    }
    if (i < 5 && text[i * 3 + 2] != sep) {
      return bad("bytes not separated by ':' or '-'");
    }
    mac.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return mac;
}

NSFUN_INLINE std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

NSFUN_INLINE bool LinkInfo::is_up() const noexcept {
  return (flags & IFF_UP) != 0;
}

NSFUN_INLINE bool LinkInfo::is_running() const noexcept {
  return (flags & IFF_RUNNING) != 0;
}

NSFUN_INLINE std::string_view to_string(VlanProtocol p) noexcept {
  return p == VlanProtocol::dot1ad ? "802.1ad" : "802.1Q";
}

NSFUN_INLINE std::string_view to_string(MacvlanMode m) noexcept {
  switch (m) {
    case MacvlanMode::private_:
      return "private";
    case MacvlanMode::vepa:
      return "vepa";
    case MacvlanMode::passthru:
      return "passthru";
    case MacvlanMode::source:
      return "source";
    case MacvlanMode::bridge:
      break;
  }
  return "bridge";
}

NSFUN_INLINE std::string_view to_string(IpvlanMode m) noexcept {
  return m == IpvlanMode::l3 ? "l3" : m == IpvlanMode::l3s ? "l3s" : "l2";
}

NSFUN_INLINE std::string_view to_string(BondMode m) noexcept {
  switch (m) {
    case BondMode::active_backup:
      return "active-backup";
    case BondMode::balance_xor:
      return "balance-xor";
    case BondMode::broadcast:
      return "broadcast";
    case BondMode::lacp:
      return "802.3ad";
    case BondMode::balance_tlb:
      return "balance-tlb";
    case BondMode::balance_alb:
      return "balance-alb";
    case BondMode::balance_rr:
      break;
  }
  return "balance-rr";
}

NSFUN_INLINE std::string_view to_string(TunType t) noexcept {
  return t == TunType::tap ? "tap" : "tun";
}

NSFUN_INLINE result<Link> Link::by_name(const Rtnl& rtnl, std::string_view name) noexcept {
  try {
    NSFUN_TRYV(check_ifname(name));
    NSFUN_TRY(auto info, detail::get_link(rtnl, 0, name));
    return Link(rtnl, info.index, std::move(info.name));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETLINK").on(name);
  }
}

NSFUN_INLINE result<Link> Link::by_index(const Rtnl& rtnl, int index) noexcept {
  try {
    if (index <= 0) {
      return errno_error(ENODEV, "RTM_GETLINK").on("index ", index);
    }
    NSFUN_TRY(auto info, detail::get_link(rtnl, index, {}));
    return Link(rtnl, info.index, std::move(info.name));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETLINK").on("index ", index);
  }
}

NSFUN_INLINE result<std::vector<LinkInfo>> Link::list(const Rtnl& rtnl) noexcept {
  try {
    detail::Msg m(RTM_GETLINK, 0);
    detail::set_link_header(m, 0);
    std::vector<LinkInfo> links;
    auto dumped = rtnl.dump(
        m.hdr(), "RTM_GETLINK", [&] { links.clear(); },
        [&](const nlmsghdr& h) -> result<void> {
          if (h.nlmsg_type == RTM_NEWLINK) {
            links.push_back(detail::parse_link(h));
          }
          return success();
        });
    if (!dumped) {
      detail::on_dump_of(dumped.assume_error(), rtnl);
      return std::move(dumped).as_failure();
    }
    return links;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETLINK");
  }
}

NSFUN_INLINE std::string Link::label() const {
  if (auto name = detail::link_name(rtnl_, index_)) {
    return std::move(*name);
  }
  return name_.empty() ? "index " + std::to_string(index_) : name_;
}

NSFUN_INLINE result<LinkInfo> Link::info() const noexcept {
  try {
    // A failure names the link as this handle knows it: asking the kernel again would fail alike.
    if (index_ <= 0) {
      return errno_error(ENODEV, "RTM_GETLINK").on("index ", index_);
    }
    auto info = detail::get_link(rtnl_, index_, {});
    if (!info && !name_.empty()) {
      info.assume_error().on(name_);
    }
    return info;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_up() const noexcept {
  try {
    detail::Msg m(RTM_NEWLINK, 0);
    auto& ifi = detail::set_link_header(m, index_);
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = IFF_UP;
    return detail::link_request(*this, m, "RTM_NEWLINK", " up");
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_down() const noexcept {
  try {
    detail::Msg m(RTM_NEWLINK, 0);
    auto& ifi = detail::set_link_header(m, index_);
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = 0;
    return detail::link_request(*this, m, "RTM_NEWLINK", " down");
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_mtu(std::uint32_t mtu) const noexcept {
  try {
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_u32(IFLA_MTU, mtu);
    return detail::link_request(*this, m, "RTM_NEWLINK", " mtu ", mtu);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::rename(std::string_view new_name) const noexcept {
  try {
    NSFUN_TRYV(check_ifname(new_name));
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_str(IFLA_IFNAME, new_name);
    return detail::link_request(*this, m, "RTM_NEWLINK", " name ", new_name);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_mac(const MacAddress& mac) const noexcept {
  try {
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_bytes(IFLA_ADDRESS, mac.bytes.data(), mac.bytes.size());
    return detail::link_request(*this, m, "RTM_NEWLINK", " address ", mac.to_string());
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_alias(std::string_view alias) const noexcept {
  try {
    if (alias.size() > max_alias_length) {
      return errno_error(EINVAL, "RTM_NEWLINK")
          .on(label(), " alias")
          .because("longer than ", max_alias_length, " bytes");
    }
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    // Without a NUL (the kernel counts every byte of the attribute against its 255), as ip
    // sends it; an empty attribute removes the alias.
    m.put_bytes(IFLA_IFALIAS, alias.empty() ? "" : alias.data(), alias.size());
    return detail::link_request(*this, m, "RTM_NEWLINK", " alias \"", alias, '"');
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::set_master(const Link& master) const noexcept {
  try {
    if (!(rtnl_.netns().identity() == master.rtnl_.netns().identity())) {
      return errno_error(EXDEV, "RTM_NEWLINK")
          .on(label(), " master ", master.label())
          .because("not in the same network namespace");
    }
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(master.index_));
    return with_context(rtnl_.request(m.hdr(), "RTM_NEWLINK"),
                        [&](error& e) { e.on(label(), " master ", master.label()); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::clear_master() const noexcept {
  try {
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_u32(IFLA_MASTER, 0);
    return detail::link_request(*this, m, "RTM_NEWLINK", " nomaster");
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::move_to(const NetNs& ns) const noexcept {
  try {
    if (!ns) {
      return errno_error(EBADF, "RTM_NEWLINK").on(label(), " netns").because("empty NetNs handle");
    }
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(ns.get()));
    return detail::link_request(*this, m, "RTM_NEWLINK", " netns net:[", ns.identity().ino(), "]");
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<Link> Link::move_to(const Rtnl& target) const noexcept {
  NSFUN_TRY(auto before, info());
  NSFUN_TRYV(move_to(target.netns()));
  return by_name(target, before.name);
}

NSFUN_INLINE result<void> Link::move_to_pid(pid_t pid) const noexcept {
  try {
    if (pid <= 0) {
      return errno_error(ESRCH, "RTM_NEWLINK").on(label(), " netns pid ", pid);
    }
    detail::Msg m(RTM_NEWLINK, 0);
    detail::set_link_header(m, index_);
    m.put_u32(IFLA_NET_NS_PID, static_cast<std::uint32_t>(pid));
    return detail::link_request(*this, m, "RTM_NEWLINK", " netns pid ", pid);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name_);
  }
}

NSFUN_INLINE result<void> Link::remove() const noexcept {
  try {
    detail::Msg m(RTM_DELLINK, 0);
    detail::set_link_header(m, index_);
    return detail::link_request(*this, m, "RTM_DELLINK");
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_DELLINK").on(name_);
  }
}

}  // namespace nsfun::net

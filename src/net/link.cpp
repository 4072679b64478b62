// SPDX-License-Identifier: MIT
// nsfun::net – Link over RTM_GETLINK / RTM_NEWLINK / RTM_DELLINK.

#include <cctype>
#include <cerrno>
#include <cstdio>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/net/link.hpp>

#include "nl.hpp"

namespace nsfun::net {

namespace {

using detail::Msg;

LinkInfo parse_link(const nlmsghdr& h) {
  LinkInfo info;
  auto ifi = detail::header_of<ifinfomsg>(h);
  info.index = ifi.ifi_index;
  info.flags = ifi.ifi_flags;
  auto tb = detail::parse<IFLA_MAX + 1>(h, sizeof(ifinfomsg));
  if (tb[IFLA_IFNAME] != nullptr) {
    info.name = detail::attr_str(tb[IFLA_IFNAME]);
  }
  if (tb[IFLA_MTU] != nullptr) {
    info.mtu = detail::attr_u32(tb[IFLA_MTU]);
  }
  if (tb[IFLA_MASTER] != nullptr) {
    info.master = static_cast<int>(detail::attr_u32(tb[IFLA_MASTER]));
  }
  if (tb[IFLA_ADDRESS] != nullptr && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
    MacAddress mac;
    std::memcpy(mac.bytes.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    info.mac = mac;
  }
  if (tb[IFLA_LINKINFO] != nullptr) {
    auto li = detail::parse_nested<IFLA_INFO_MAX + 1>(tb[IFLA_LINKINFO]);
    if (li[IFLA_INFO_KIND] != nullptr) {
      info.kind = detail::attr_str(li[IFLA_INFO_KIND]);
    }
  }
  return info;
}

// An RTM_NEWLINK on an existing interface, with its index set.
ifinfomsg& set_link_header(Msg& m, int index) noexcept {
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  return ifi;
}

result<LinkInfo> get_link(const Rtnl& rtnl, int index, std::string_view name) {
  Msg m(RTM_GETLINK, 0);
  set_link_header(m, index);
  if (!name.empty()) {
    m.put_str(IFLA_IFNAME, name);
  }
  std::optional<LinkInfo> found;
  NSFUN_TRYV(rtnl.request(m.hdr(), "RTM_GETLINK", [&](const nlmsghdr& h) -> result<void> {
    if (h.nlmsg_type == RTM_NEWLINK) {
      found = parse_link(h);
    }
    return success();
  }));
  if (!found) {
    return errno_error(ENODEV, "RTM_GETLINK");
  }
  return std::move(*found);
}

int hex_digit(char c) noexcept {
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

}  // namespace

result<void> check_ifname(std::string_view name) noexcept {
  constexpr std::string_view step = "check interface name";
  if (name.size() > max_ifname_length) {
    return errno_error(ENAMETOOLONG, step);
  }
  if (name.empty() || name == "." || name == "..") {
    return errno_error(EINVAL, step);
  }
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || std::isspace(static_cast<unsigned char>(c)) != 0) {
      return errno_error(EINVAL, step);
    }
  }
  return success();
}

result<MacAddress> MacAddress::parse(std::string_view text) noexcept {
  constexpr std::string_view step = "parse MAC address";
  MacAddress mac;
  if (text.size() != 17) {
    return errno_error(EINVAL, step);
  }
  char sep = text[2];
  if (sep != ':' && sep != '-') {
    return errno_error(EINVAL, step);
  }
  for (std::size_t i = 0; i < 6; ++i) {
    int hi = hex_digit(text[i * 3]);
    int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != sep)) {
      return errno_error(EINVAL, step);
    }
    mac.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return mac;
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

bool LinkInfo::is_up() const noexcept {
  return (flags & IFF_UP) != 0;
}

result<Link> Link::by_name(const Rtnl& rtnl, std::string_view name) {
  NSFUN_TRYV(check_ifname(name));
  NSFUN_TRY(auto info, get_link(rtnl, 0, name));
  return Link(rtnl, info.index);
}

result<Link> Link::by_index(const Rtnl& rtnl, int index) {
  if (index <= 0) {
    return errno_error(ENODEV, "RTM_GETLINK");
  }
  NSFUN_TRY(auto info, get_link(rtnl, index, {}));
  return Link(rtnl, info.index);
}

result<std::vector<LinkInfo>> Link::list(const Rtnl& rtnl) {
  Msg m(RTM_GETLINK, 0);
  set_link_header(m, 0);
  std::vector<LinkInfo> links;
  NSFUN_TRYV(rtnl.dump(
      m.hdr(), "RTM_GETLINK", [&] { links.clear(); },
      [&](const nlmsghdr& h) -> result<void> {
        if (h.nlmsg_type == RTM_NEWLINK) {
          links.push_back(parse_link(h));
        }
        return success();
      }));
  return links;
}

result<LinkInfo> Link::info() const {
  if (index_ <= 0) {
    return errno_error(ENODEV, "RTM_GETLINK");
  }
  return get_link(rtnl_, index_, {});
}

result<void> Link::set_up() const {
  Msg m(RTM_NEWLINK, 0);
  auto& ifi = set_link_header(m, index_);
  ifi.ifi_change = IFF_UP;
  ifi.ifi_flags = IFF_UP;
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::set_down() const {
  Msg m(RTM_NEWLINK, 0);
  auto& ifi = set_link_header(m, index_);
  ifi.ifi_change = IFF_UP;
  ifi.ifi_flags = 0;
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::set_mtu(std::uint32_t mtu) const {
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_u32(IFLA_MTU, mtu);
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::rename(std::string_view new_name) const {
  NSFUN_TRYV(check_ifname(new_name));
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_str(IFLA_IFNAME, new_name);
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::set_mac(const MacAddress& mac) const {
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_bytes(IFLA_ADDRESS, mac.bytes.data(), mac.bytes.size());
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::set_master(const Link& master) const {
  if (!(rtnl_.netns().identity() == master.rtnl_.netns().identity())) {
    return errno_error(EXDEV, "RTM_NEWLINK");
  }
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(master.index_));
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::clear_master() const {
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_u32(IFLA_MASTER, 0);
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::move_to(const NetNs& ns) const {
  if (!ns) {
    return errno_error(EBADF, "RTM_NEWLINK");
  }
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(ns.get()));
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<Link> Link::move_to(const Rtnl& target) const {
  NSFUN_TRY(auto before, info());
  NSFUN_TRYV(move_to(target.netns()));
  return by_name(target, before.name);
}

result<void> Link::move_to_pid(pid_t pid) const {
  if (pid <= 0) {
    return errno_error(ESRCH, "RTM_NEWLINK");
  }
  Msg m(RTM_NEWLINK, 0);
  set_link_header(m, index_);
  m.put_u32(IFLA_NET_NS_PID, static_cast<std::uint32_t>(pid));
  return rtnl_.request(m.hdr(), "RTM_NEWLINK");
}

result<void> Link::remove() const {
  Msg m(RTM_DELLINK, 0);
  set_link_header(m, index_);
  return rtnl_.request(m.hdr(), "RTM_DELLINK");
}

}  // namespace nsfun::net

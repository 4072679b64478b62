// SPDX-License-Identifier: MIT
// nsfun::net – Link: the implementation (see <nsfun/config.hpp>). RTM_GETLINK / RTM_NEWLINK /
// RTM_DELLINK.
#pragma once

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
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

inline LinkInfo parse_link(const nlmsghdr& h) {
  LinkInfo info;
  auto ifi = header_of<ifinfomsg>(h);
  info.index = ifi.ifi_index;
  info.flags = ifi.ifi_flags;
  auto tb = parse<IFLA_MAX + 1>(h, sizeof(ifinfomsg));
  if (tb[IFLA_IFNAME] != nullptr) {
    info.name = attr_str(tb[IFLA_IFNAME]);
  }
  if (tb[IFLA_MTU] != nullptr) {
    info.mtu = attr_u32(tb[IFLA_MTU]);
  }
  if (tb[IFLA_MASTER] != nullptr) {
    info.master = static_cast<int>(attr_u32(tb[IFLA_MASTER]));
  }
  if (tb[IFLA_ADDRESS] != nullptr && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
    MacAddress mac;
    std::memcpy(mac.bytes.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    info.mac = mac;
  }
  if (tb[IFLA_LINKINFO] != nullptr) {
    auto li = parse_nested<IFLA_INFO_MAX + 1>(tb[IFLA_LINKINFO]);
    if (li[IFLA_INFO_KIND] != nullptr) {
      info.kind = attr_str(li[IFLA_INFO_KIND]);
    }
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

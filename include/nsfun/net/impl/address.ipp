// SPDX-License-Identifier: MIT
// nsfun::net – addresses: the implementation (see <nsfun/config.hpp>). Parsing addresses, and
// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR.
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

inline constexpr std::string_view address_parse_step = "parse address";

inline result<void> address_request(const Link& link,
                                    const IpPrefix& prefix,
                                    std::uint16_t type,
                                    std::uint16_t flags,
                                    std::string_view step,
                                    bool nodad) noexcept {
  try {
    if (prefix.address.family != AF_INET && prefix.address.family != AF_INET6) {
      return errno_error(EAFNOSUPPORT, step)
          .on("on ", link.label())
          .because("no address (an empty IpPrefix)");
    }
    Msg m(type, flags);
    auto& ifa = m.extra<ifaddrmsg>();
    ifa.ifa_family = static_cast<std::uint8_t>(prefix.address.family);
    ifa.ifa_prefixlen = prefix.length;
    ifa.ifa_index = static_cast<std::uint32_t>(link.index());
    if (nodad && prefix.address.family == AF_INET6) {
      ifa.ifa_flags = IFA_F_NODAD;
    }
    m.put_bytes(IFA_LOCAL, prefix.address.bytes.data(), prefix.address.size());
    m.put_bytes(IFA_ADDRESS, prefix.address.bytes.data(), prefix.address.size());
    return with_context(link.rtnl().request(m.hdr(), step),
                        [&](error& e) { e.on(prefix.to_string(), " on ", link.label()); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step);
  }
}

// A text that is not an address or prefix: `parse address "10.0.0.1/33": …`.
inline error bad_address(std::string_view text, std::string_view why) noexcept {
  return errno_error(EINVAL, address_parse_step).on('"', text, '"').because(why);
}

}  // namespace detail

NSFUN_INLINE result<IpAddress> IpAddress::parse(std::string_view text) noexcept {
  char buf[INET6_ADDRSTRLEN + 1] = {};
  if (text.empty()) {
    return detail::bad_address(text, "empty");
  }
  if (text.size() >= sizeof(buf)) {
    return detail::bad_address(text, "too long for an address");
  }
  // inet_pton reads up to a NUL: "10.0.0.1" followed by a NUL and anything would pass.
  if (text.find('\0') != std::string_view::npos) {
    return detail::bad_address(text, "a NUL byte in it");
  }
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  if (text.find(':') != std::string_view::npos) {
    if (::inet_pton(AF_INET6, buf, a.bytes.data()) != 1) {
      return detail::bad_address(text, "not an IPv6 address");
    }
    a.family = AF_INET6;
  } else {
    if (::inet_pton(AF_INET, buf, a.bytes.data()) != 1) {
      return detail::bad_address(text, "not an IPv4 address");
    }
    a.family = AF_INET;
  }
  return a;
}

NSFUN_INLINE std::size_t IpAddress::size() const noexcept {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

NSFUN_INLINE std::uint8_t IpAddress::max_prefix() const noexcept {
  return static_cast<std::uint8_t>(size() * 8);
}

NSFUN_INLINE std::string IpAddress::to_string() const {
  if (size() == 0) {
    return {};
  }
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof(buf));
  return buf;
}

NSFUN_INLINE result<IpPrefix> IpPrefix::parse(std::string_view text) noexcept {
  auto slash = text.find('/');
  auto parsed = IpAddress::parse(text.substr(0, slash));
  if (!parsed) {
    return std::move(parsed.assume_error().on('"', text, '"'));  // the whole text, not a part
  }
  IpAddress address = parsed.assume_value();
  IpPrefix p{address, address.max_prefix()};
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
    if (len.empty() || len.size() > 3 || ec != std::errc() || end != len.data() + len.size() ||
        value > address.max_prefix()) {
      return detail::bad_address(text, address.family == AF_INET ? "prefix length not in 0..32"
                                                                 : "prefix length not in 0..128");
    }
    p.length = static_cast<std::uint8_t>(value);
  }
  return p;
}

NSFUN_INLINE IpPrefix IpPrefix::network() const noexcept {
  IpPrefix n = *this;
  for (std::size_t i = 0; i < n.address.size(); ++i) {
    std::size_t bit = i * 8;
    if (bit >= length) {
      n.address.bytes[i] = 0;
    } else if (bit + 8 > length) {
      unsigned keep = (0xFFU << (8 - (length - bit))) & 0xFFU;
      n.address.bytes[i] = static_cast<std::uint8_t>(n.address.bytes[i] & keep);
    }
  }
  return n;
}

NSFUN_INLINE bool IpPrefix::contains(const IpAddress& a) const noexcept {
  if (a.family != address.family) {
    return false;
  }
  IpPrefix other{a, length};
  return other.network() == network();
}

NSFUN_INLINE std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

NSFUN_INLINE result<void> add_address(const Link& link,
                                      const IpPrefix& prefix,
                                      bool nodad) noexcept {
  return detail::address_request(link, prefix, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                                 "RTM_NEWADDR", nodad);
}

NSFUN_INLINE result<void> remove_address(const Link& link, const IpPrefix& prefix) noexcept {
  return detail::address_request(link, prefix, RTM_DELADDR, 0, "RTM_DELADDR", false);
}

NSFUN_INLINE result<std::vector<AddressInfo>> list_addresses(const Rtnl& rtnl,
                                                             int family) noexcept {
  try {
    detail::Msg m(RTM_GETADDR, 0);
    auto& ifa = m.extra<ifaddrmsg>();
    ifa.ifa_family = static_cast<std::uint8_t>(family);
    std::vector<AddressInfo> out;
    NSFUN_TRYV(with_context(
        rtnl.dump(
            m.hdr(), "RTM_GETADDR", [&] { out.clear(); },
            [&](const nlmsghdr& h) -> result<void> {
              if (h.nlmsg_type != RTM_NEWADDR) {
                return success();
              }
              auto hdr = detail::header_of<ifaddrmsg>(h);
              if (hdr.ifa_family != AF_INET && hdr.ifa_family != AF_INET6) {
                return success();
              }
              if (family != AF_UNSPEC && hdr.ifa_family != family) {
                return success();
              }
              auto tb = detail::parse<IFA_MAX + 1>(h, sizeof(ifaddrmsg));
              const nlattr* a = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
              if (a == nullptr) {
                return success();
              }
              AddressInfo info;
              info.index = static_cast<int>(hdr.ifa_index);
              info.prefix.address.family = hdr.ifa_family;
              info.prefix.length = hdr.ifa_prefixlen;
              std::size_t n = info.prefix.address.size();
              if (mnl_attr_get_payload_len(a) < n) {
                return success();
              }
              std::memcpy(info.prefix.address.bytes.data(), mnl_attr_get_payload(a), n);
              out.push_back(info);
              return success();
            }),
        [&](error& e) noexcept { detail::on_dump_of(e, rtnl); }));
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETADDR");
  }
}

NSFUN_INLINE result<std::vector<IpPrefix>> addresses(const Link& link, int family) noexcept {
  try {
    NSFUN_TRY(auto all, list_addresses(link.rtnl(), family));
    std::vector<IpPrefix> out;
    for (const auto& a : all) {
      if (a.index == link.index()) {
        out.push_back(a.prefix);
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETADDR");
  }
}

}  // namespace nsfun::net

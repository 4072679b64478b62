// SPDX-License-Identifier: MIT
// nsfun::net – neighbours: the implementation (see <nsfun/config.hpp>). RTM_NEWNEIGH /
// RTM_DELNEIGH / RTM_GETNEIGH.
#pragma once

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/neigh.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

// An entry as errors name it, in ip-neigh words: "10.0.0.9 lladdr 02:00:00:00:00:09 on nsft0".
inline std::string describe_neigh(const Link& link,
                                  const IpAddress& address,
                                  const std::optional<MacAddress>& lladdr) {
  std::string text = address.size() != 0 ? address.to_string() : std::string("(no address)");
  if (lladdr) {
    text += " lladdr " + lladdr->to_string();
  }
  text += " on " + link.label();
  return text;
}

inline result<void> neigh_request(const Link& link,
                                  const IpAddress& address,
                                  const Neigh* entry,
                                  std::uint16_t type,
                                  std::uint16_t flags,
                                  std::string_view step) noexcept {
  try {
    static const std::optional<MacAddress> no_mac;
    const std::optional<MacAddress>& lladdr = entry != nullptr ? entry->lladdr : no_mac;
    if (address.family != AF_INET && address.family != AF_INET6) {
      return errno_error(EINVAL, step)
          .on(describe_neigh(link, address, lladdr))
          .because("no neighbour address (an empty IpAddress)");
    }
    Msg m(type, flags);
    auto& ndm = m.extra<ndmsg>();
    ndm.ndm_family = static_cast<std::uint8_t>(address.family);
    ndm.ndm_ifindex = link.index();
    if (entry != nullptr) {
      ndm.ndm_state = static_cast<std::uint16_t>(entry->state);
      ndm.ndm_flags = entry->flags;
    }
    m.put_bytes(NDA_DST, address.bytes.data(), address.size());
    if (lladdr) {
      m.put_bytes(NDA_LLADDR, lladdr->bytes.data(), lladdr->bytes.size());
    }
    return with_context(link.rtnl().request(m.hdr(), step),
                        [&](error& e) { e.on(describe_neigh(link, address, lladdr)); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step);
  }
}

// A neighbour message (RTM_NEWNEIGH), or nothing for one without an IP address.
inline std::optional<Neigh> parse_neigh(const nlmsghdr& h) noexcept {
  auto ndm = header_of<ndmsg>(h);
  if (ndm.ndm_family != AF_INET && ndm.ndm_family != AF_INET6) {
    return std::nullopt;
  }
  auto tb = parse<NDA_MAX + 1>(h, sizeof(ndmsg));
  Neigh n;
  n.address.family = ndm.ndm_family;
  std::size_t len = n.address.size();
  if (tb[NDA_DST] == nullptr || mnl_attr_get_payload_len(tb[NDA_DST]) < len) {
    return std::nullopt;
  }
  std::memcpy(n.address.bytes.data(), mnl_attr_get_payload(tb[NDA_DST]), len);
  if (tb[NDA_LLADDR] != nullptr && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
    MacAddress mac;
    std::memcpy(mac.bytes.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
    n.lladdr = mac;
  }
  n.state = static_cast<NeighState>(ndm.ndm_state);
  n.flags = ndm.ndm_flags;
  n.index = ndm.ndm_ifindex;
  return n;
}

}  // namespace detail

NSFUN_INLINE std::string_view to_string(NeighState state) noexcept {
  switch (state) {
    case NeighState::none:
      return "NONE";
    case NeighState::incomplete:
      return "INCOMPLETE";
    case NeighState::reachable:
      return "REACHABLE";
    case NeighState::stale:
      return "STALE";
    case NeighState::delay:
      return "DELAY";
    case NeighState::probe:
      return "PROBE";
    case NeighState::failed:
      return "FAILED";
    case NeighState::noarp:
      return "NOARP";
    case NeighState::permanent:
      return "PERMANENT";
  }
  return {};
}

NSFUN_INLINE result<void> add_neigh(const Link& link, const Neigh& neigh) noexcept {
  return detail::neigh_request(link, neigh.address, &neigh, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL,
                               "RTM_NEWNEIGH");
}

NSFUN_INLINE result<void> replace_neigh(const Link& link, const Neigh& neigh) noexcept {
  return detail::neigh_request(link, neigh.address, &neigh, RTM_NEWNEIGH,
                               NLM_F_CREATE | NLM_F_REPLACE, "RTM_NEWNEIGH");
}

NSFUN_INLINE result<void> remove_neigh(const Link& link, const IpAddress& address) noexcept {
  return detail::neigh_request(link, address, nullptr, RTM_DELNEIGH, 0, "RTM_DELNEIGH");
}

NSFUN_INLINE result<std::vector<Neigh>> list_neighs(const Rtnl& rtnl,
                                                    int family,
                                                    int index) noexcept {
  try {
    detail::Msg m(RTM_GETNEIGH, 0);
    auto& ndm = m.extra<ndmsg>();
    ndm.ndm_family = static_cast<std::uint8_t>(family);
    std::vector<Neigh> out;
    NSFUN_TRYV(with_context(rtnl.dump(
                                m.hdr(), "RTM_GETNEIGH", [&] { out.clear(); },
                                [&](const nlmsghdr& h) -> result<void> {
                                  if (h.nlmsg_type != RTM_NEWNEIGH) {
                                    return success();
                                  }
                                  auto n = detail::parse_neigh(h);
                                  if (n && (family == AF_UNSPEC || n->address.family == family) &&
                                      (index == 0 || n->index == index)) {
                                    out.push_back(*n);
                                  }
                                  return success();
                                }),
                            [&](error& e) noexcept { detail::on_dump_of(e, rtnl); }));
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETNEIGH");
  }
}

NSFUN_INLINE result<std::vector<Neigh>> neighs(const Link& link, int family) noexcept {
  return list_neighs(link.rtnl(), family, link.index());
}

}  // namespace nsfun::net

// SPDX-License-Identifier: MIT
// nsfun::net – LinkSpec, OwnedLink and OwnedLinks: the implementation (see <nsfun/config.hpp>).
// RTM_NEWLINK with IFLA_LINKINFO for each kind; batches for many links at once.
#pragma once

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/link_kinds.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {

inline std::uint32_t macvlan_mode_value(MacvlanMode m) noexcept {
  switch (m) {
    case MacvlanMode::private_:
      return MACVLAN_MODE_PRIVATE;
    case MacvlanMode::vepa:
      return MACVLAN_MODE_VEPA;
    case MacvlanMode::passthru:
      return MACVLAN_MODE_PASSTHRU;
    case MacvlanMode::source:
      return MACVLAN_MODE_SOURCE;
    case MacvlanMode::bridge:
      break;
  }
  return MACVLAN_MODE_BRIDGE;
}

inline std::uint16_t ipvlan_mode_value(IpvlanMode m) noexcept {
  return m == IpvlanMode::l3    ? IPVLAN_MODE_L3
         : m == IpvlanMode::l3s ? IPVLAN_MODE_L3S
                                : IPVLAN_MODE_L2;
}

// Puts an address as a vxlan attribute: the IPv4 type or its IPv6 twin.
inline void put_vxlan_address(Msg& m, std::uint16_t v4, std::uint16_t v6, const IpAddress& a) {
  m.put_bytes(a.family == AF_INET6 ? v6 : v4, a.bytes.data(), a.size());
}

inline bool same_netns(const Rtnl& a, const Rtnl& b) noexcept {
  return a.netns().identity() == b.netns().identity();
}

// An RTM_NEWLINK that sets an existing link's alias.
inline void put_alias_request(Msg& m, int index, std::string_view alias) noexcept {
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  m.put_bytes(IFLA_IFALIAS, alias.empty() ? "" : alias.data(), alias.size());
}

// An RTM_NEWADDR for `prefix` on the link with `index`, as add_address() sends it.
inline void put_address_request(Msg& m, int index, const IpPrefix& prefix) noexcept {
  auto& ifa = m.extra<ifaddrmsg>();
  ifa.ifa_family = static_cast<std::uint8_t>(prefix.address.family);
  ifa.ifa_prefixlen = prefix.length;
  ifa.ifa_index = static_cast<std::uint32_t>(index);
  m.put_bytes(IFA_LOCAL, prefix.address.bytes.data(), prefix.address.size());
  m.put_bytes(IFA_ADDRESS, prefix.address.bytes.data(), prefix.address.size());
}

inline void put_delete_request(Msg& m, int index) noexcept {
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
}

struct LinkSpecAccess {
  static const Link& parent(const LinkSpec& s) noexcept { return s.parent_; }

  static const std::optional<VxlanOptions>& vxlan(const LinkSpec& s) noexcept { return s.vxlan_; }

  static const std::optional<std::string>& alias(const LinkSpec& s) noexcept { return s.alias_; }

  static const std::vector<IpPrefix>& addresses(const LinkSpec& s) noexcept { return s.addresses_; }

  static int index(const LinkSpec& s) noexcept { return s.index_; }

  // Checks what can be checked before asking the kernel: the name, the alias's length, the
  // addresses' families, that a parent (or vxlan dev) is in the namespace of `rtnl`.
  static result<void> check(const LinkSpec& s, const Rtnl& rtnl) {
    NSFUN_TRYV(check_ifname(s.name_));
    if (s.alias_ && s.alias_->size() > max_alias_length) {
      return errno_error(EINVAL, "RTM_NEWLINK")
          .on(s.label(), " alias")
          .because("longer than ", max_alias_length, " bytes");
    }
    for (const auto& p : s.addresses_) {
      if (p.address.family != AF_INET && p.address.family != AF_INET6) {
        return errno_error(EAFNOSUPPORT, "RTM_NEWADDR")
            .on("on ", s.name_)
            .because("no address (an empty IpPrefix)");
      }
    }
    const Link* other = s.parent_.index() > 0                   ? &s.parent_
                        : s.vxlan_ && s.vxlan_->dev.index() > 0 ? &s.vxlan_->dev
                                                                : nullptr;
    if (other != nullptr && !same_netns(other->rtnl(), rtnl)) {
      return errno_error(EXDEV, "RTM_NEWLINK")
          .on(s.label(), " link ", other->label())
          .because("not in the network namespace the link is created in");
    }
    return success();
  }

  // The RTM_NEWLINK that creates the link of `s`, with `index` asked for (0: the kernel's
  // choice).
  static void put_create(Msg& m, const LinkSpec& s, int index) {
    auto& ifi = m.extra<ifinfomsg>();
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    if (s.up_) {
      ifi.ifi_flags = IFF_UP;
      ifi.ifi_change = IFF_UP;
    }
    m.put_str(IFLA_IFNAME, s.name_);
    if (s.mtu_ != 0) {
      m.put_u32(IFLA_MTU, s.mtu_);
    }
    if (s.mac_) {
      m.put_bytes(IFLA_ADDRESS, s.mac_->bytes.data(), s.mac_->bytes.size());
    }
    if (s.parent_.index() > 0) {
      m.put_u32(IFLA_LINK, static_cast<std::uint32_t>(s.parent_.index()));
    }
    nlattr* linkinfo = m.nest_start(IFLA_LINKINFO);
    m.put_str(IFLA_INFO_KIND, s.kind_);
    if (s.kind_ == "vlan") {
      nlattr* data = m.nest_start(IFLA_INFO_DATA);
      m.put_u16(IFLA_VLAN_ID, s.vlan_id_);
      m.put_u16(IFLA_VLAN_PROTOCOL,
                htons(s.vlan_protocol_ == VlanProtocol::dot1ad ? ETH_P_8021AD : ETH_P_8021Q));
      m.nest_end(data);
    } else if (s.kind_ == "macvlan" || s.kind_ == "macvtap") {
      nlattr* data = m.nest_start(IFLA_INFO_DATA);
      m.put_u32(IFLA_MACVLAN_MODE, macvlan_mode_value(s.macvlan_mode_));
      m.nest_end(data);
    } else if (s.kind_ == "ipvlan") {
      nlattr* data = m.nest_start(IFLA_INFO_DATA);
      m.put_u16(IFLA_IPVLAN_MODE, ipvlan_mode_value(s.ipvlan_mode_));
      m.nest_end(data);
    } else if (s.kind_ == "bond") {
      nlattr* data = m.nest_start(IFLA_INFO_DATA);
      m.put_u8(IFLA_BOND_MODE, static_cast<std::uint8_t>(s.bond_mode_));
      m.nest_end(data);
    } else if (s.kind_ == "vxlan" && s.vxlan_) {
      const VxlanOptions& v = *s.vxlan_;
      nlattr* data = m.nest_start(IFLA_INFO_DATA);
      m.put_u32(IFLA_VXLAN_ID, v.id);
      if (v.remote) {
        put_vxlan_address(m, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *v.remote);
      }
      if (v.group) {
        put_vxlan_address(m, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *v.group);
      }
      if (v.local) {
        put_vxlan_address(m, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *v.local);
      }
      if (v.dev.index() > 0) {
        m.put_u32(IFLA_VXLAN_LINK, static_cast<std::uint32_t>(v.dev.index()));
      }
      m.put_u16(IFLA_VXLAN_PORT, htons(v.port));
      m.nest_end(data);
    }
    m.nest_end(linkinfo);
  }
};

// Names a failed create: by the spec's label, and the parent when the kernel says it is gone.
inline void on_create(error& e, const LinkSpec& spec) {
  const Link& parent = LinkSpecAccess::parent(spec);
  if (e == std::errc::no_such_device && parent.index() > 0) {
    e.on(spec.label(), " link ", parent.label());
  } else {
    e.on(spec.label());
  }
}

// The highest interface index in use in the namespace of `rtnl` (one RTM_GETLINK dump).
inline result<int> highest_index(const Rtnl& rtnl) noexcept {
  NSFUN_TRY(auto links, Link::list(rtnl));
  int top = 0;
  for (const auto& l : links) {
    top = std::max(top, l.index);
  }
  return top;
}

}  // namespace detail

NSFUN_INLINE LinkSpec::LinkSpec(std::string_view name, std::string_view kind)
    : name_(name), kind_(kind) {}

NSFUN_INLINE LinkSpec LinkSpec::of_kind(std::string_view name, std::string_view kind) {
  return LinkSpec(name, kind);
}

NSFUN_INLINE LinkSpec LinkSpec::dummy(std::string_view name) {
  return LinkSpec(name, "dummy");
}

NSFUN_INLINE LinkSpec LinkSpec::vlan(std::string_view name,
                                     const Link& parent,
                                     std::uint16_t id,
                                     VlanProtocol protocol) {
  LinkSpec s(name, "vlan");
  s.parent_ = parent;
  s.vlan_id_ = id;
  s.vlan_protocol_ = protocol;
  return s;
}

NSFUN_INLINE LinkSpec LinkSpec::macvlan(std::string_view name,
                                        const Link& parent,
                                        MacvlanMode mode) {
  LinkSpec s(name, "macvlan");
  s.parent_ = parent;
  s.macvlan_mode_ = mode;
  return s;
}

NSFUN_INLINE LinkSpec LinkSpec::macvtap(std::string_view name,
                                        const Link& parent,
                                        MacvlanMode mode) {
  LinkSpec s(name, "macvtap");
  s.parent_ = parent;
  s.macvlan_mode_ = mode;
  return s;
}

NSFUN_INLINE LinkSpec LinkSpec::ipvlan(std::string_view name, const Link& parent, IpvlanMode mode) {
  LinkSpec s(name, "ipvlan");
  s.parent_ = parent;
  s.ipvlan_mode_ = mode;
  return s;
}

NSFUN_INLINE LinkSpec LinkSpec::vxlan(std::string_view name, const VxlanOptions& options) {
  LinkSpec s(name, "vxlan");
  s.vxlan_ = options;
  return s;
}

NSFUN_INLINE LinkSpec LinkSpec::bond(std::string_view name, BondMode mode) {
  LinkSpec s(name, "bond");
  s.bond_mode_ = mode;
  return s;
}

NSFUN_INLINE LinkSpec& LinkSpec::mtu(std::uint32_t mtu) {
  mtu_ = mtu;
  return *this;
}

NSFUN_INLINE LinkSpec& LinkSpec::mac(const MacAddress& mac) {
  mac_ = mac;
  return *this;
}

NSFUN_INLINE LinkSpec& LinkSpec::alias(std::string_view alias) {
  alias_ = std::string(alias);
  return *this;
}

NSFUN_INLINE LinkSpec& LinkSpec::index(int index) {
  index_ = index;
  return *this;
}

NSFUN_INLINE LinkSpec& LinkSpec::up() {
  up_ = true;
  return *this;
}

NSFUN_INLINE LinkSpec& LinkSpec::address(const IpPrefix& prefix) {
  addresses_.push_back(prefix);
  return *this;
}

NSFUN_INLINE std::string LinkSpec::label() const {
  std::string s = name_ + " type " + kind_;
  if (kind_ == "vlan") {
    s += " id " + std::to_string(vlan_id_);
    if (vlan_protocol_ == VlanProtocol::dot1ad) {
      s += " protocol 802.1ad";
    }
  } else if (kind_ == "macvlan" || kind_ == "macvtap") {
    s += " mode ";
    s += to_string(macvlan_mode_);
  } else if (kind_ == "ipvlan") {
    s += " mode ";
    s += to_string(ipvlan_mode_);
  } else if (kind_ == "bond") {
    s += " mode ";
    s += to_string(bond_mode_);
  } else if (kind_ == "vxlan" && vxlan_) {
    s += " id " + std::to_string(vxlan_->id);
  }
  return s;
}

NSFUN_INLINE result<OwnedLink> OwnedLink::create(const Rtnl& rtnl, const LinkSpec& spec) noexcept {
  try {
    NSFUN_TRYV(detail::LinkSpecAccess::check(spec, rtnl));
    {
      detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
      detail::LinkSpecAccess::put_create(m, spec, detail::LinkSpecAccess::index(spec));
      NSFUN_TRYV(with_context(rtnl.request(m.hdr(), "RTM_NEWLINK"),
                              [&](error& e) { detail::on_create(e, spec); }));
    }
    auto found = Link::by_name(rtnl, spec.name());
    if (!found) {
      detail::delete_by_name(rtnl, spec.name());
      return std::move(found).as_failure();
    }
    OwnedLink owned(std::move(found).assume_value());  // from here on, failures delete it
    if (const auto& alias = detail::LinkSpecAccess::alias(spec)) {
      NSFUN_TRYV(owned.link_.set_alias(*alias));
    }
    for (const auto& prefix : detail::LinkSpecAccess::addresses(spec)) {
      NSFUN_TRYV(add_address(owned.link_, prefix));
    }
    return owned;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(spec.name());
  }
}

NSFUN_INLINE OwnedLink OwnedLink::adopt(Link link) noexcept {
  return OwnedLink(std::move(link));
}

NSFUN_INLINE OwnedLink::OwnedLink(OwnedLink&& other) noexcept
    : link_(std::move(other.link_)), owned_(std::exchange(other.owned_, false)) {}

NSFUN_INLINE OwnedLink& OwnedLink::operator=(OwnedLink&& other) noexcept {
  if (this != &other) {
    destroy();
    link_ = std::move(other.link_);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE OwnedLink::~OwnedLink() {
  destroy();
}

NSFUN_INLINE void OwnedLink::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
}

NSFUN_INLINE result<void> OwnedLink::remove() noexcept {
  if (link_.index() <= 0) {
    return success();
  }
  owned_ = false;
  Link link = std::move(link_);
  return link.remove();
}

NSFUN_INLINE Link OwnedLink::release() noexcept {
  owned_ = false;
  return std::move(link_);
}

NSFUN_INLINE result<void> OwnedLink::move_to(const Rtnl& target) noexcept {
  NSFUN_TRY(auto moved, link_.move_to(target));
  link_ = std::move(moved);
  return success();
}

NSFUN_INLINE result<OwnedLinks> OwnedLinks::create(const Rtnl& rtnl,
                                                   const std::vector<LinkSpec>& specs) noexcept {
  using Access = detail::LinkSpecAccess;
  try {
    for (const auto& spec : specs) {
      NSFUN_TRYV(Access::check(spec, rtnl));
    }
    NSFUN_TRY(int next, detail::highest_index(rtnl));
    std::vector<int> indexes;
    indexes.reserve(specs.size());
    for (const auto& spec : specs) {
      indexes.push_back(Access::index(spec) > 0 ? Access::index(spec) : ++next);
    }
    RtnlBatch batch = rtnl.batch();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
      Access::put_create(m, specs[i], indexes[i]);
      NSFUN_TRYV(batch.add(m.hdr(), "RTM_NEWLINK", specs[i].label()));
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (const auto& alias = Access::alias(specs[i])) {
        detail::Msg m(RTM_NEWLINK, 0);
        detail::put_alias_request(m, indexes[i], *alias);
        NSFUN_TRYV(batch.add(m.hdr(), "RTM_NEWLINK", specs[i].name() + " alias \"" + *alias + '"'));
      }
      for (const auto& prefix : Access::addresses(specs[i])) {
        detail::Msg m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        detail::put_address_request(m, indexes[i], prefix);
        NSFUN_TRYV(
            batch.add(m.hdr(), "RTM_NEWADDR", prefix.to_string() + " on " + specs[i].name()));
      }
    }
    std::vector<Link> links;
    links.reserve(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      links.push_back(Link(rtnl, indexes[i], specs[i].name()));
    }
    auto committed = batch.commit();
    if (committed) {
      return OwnedLinks(rtnl, std::move(links));
    }
    // Delete what was made: every link whose create was acknowledged (never one whose create
    // failed: its index may be another's).
    std::vector<bool> made(specs.size(), true);
    for (const auto& f : batch.failures()) {
      if (f.position < specs.size()) {
        made[f.position] = false;
      }
    }
    std::vector<Link> undo;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (made[i]) {
        undo.push_back(std::move(links[i]));
      }
    }
    OwnedLinks cleanup(rtnl, std::move(undo));
    (void)cleanup.remove();
    return std::move(committed).as_failure();
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_NEWLINK").on(specs.size(), " links");
  }
}

NSFUN_INLINE OwnedLinks::OwnedLinks(OwnedLinks&& other) noexcept
    : rtnl_(std::move(other.rtnl_)),
      links_(std::exchange(other.links_, {})),
      owned_(std::exchange(other.owned_, false)) {}

NSFUN_INLINE OwnedLinks& OwnedLinks::operator=(OwnedLinks&& other) noexcept {
  if (this != &other) {
    destroy();
    rtnl_ = std::move(other.rtnl_);
    links_ = std::exchange(other.links_, {});
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE OwnedLinks::~OwnedLinks() {
  destroy();
}

NSFUN_INLINE void OwnedLinks::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
}

NSFUN_INLINE result<void> OwnedLinks::remove() noexcept {
  owned_ = false;
  auto links = std::exchange(links_, {});
  if (links.empty()) {
    return success();
  }
  try {
    RtnlBatch batch = rtnl_.batch();
    for (const auto& l : links) {
      detail::Msg m(RTM_DELLINK, 0);
      detail::put_delete_request(m, l.index());
      // Named as created: asking the kernel for each current name would cost a round trip each.
      NSFUN_TRYV(batch.add(m.hdr(), "RTM_DELLINK",
                           l.name_.empty() ? "index " + std::to_string(l.index()) : l.name_));
    }
    return batch.commit();
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_DELLINK");
  }
}

NSFUN_INLINE std::vector<Link> OwnedLinks::release() noexcept {
  owned_ = false;
  return std::exchange(links_, {});
}

}  // namespace nsfun::net

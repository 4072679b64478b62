// SPDX-License-Identifier: MIT
// nsfun::net – creating links of many kinds (ip link add NAME type KIND …): LinkSpec says what,
// OwnedLink (one) and OwnedLinks (many, in one batch) own what was made.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

namespace detail {
struct LinkSpecAccess;
}  // namespace detail

/// The settings of a VXLAN link (ip link add NAME type vxlan id ID …).
struct VxlanOptions {
  std::uint32_t id = 0;  ///< the VNI, 0 .. 2^24 - 1 (the kernel checks)
  /// The unicast peer (remote) or the multicast group (group) to send to; both empty: none
  /// (entries come from the FDB). Setting both is refused by the kernel.
  std::optional<IpAddress> remote;
  std::optional<IpAddress> group;
  std::optional<IpAddress> local;  ///< the source address of the tunnel's packets
  std::uint16_t port = 4789;       ///< the UDP destination port (IANA's; the kernel's is 8472)
  Link dev;                        ///< the underlying device; an empty Link for none
};

/// What to create: a name, a kind with its settings, and settings every link has (MTU, MAC,
/// alias, index, up, addresses). A builder, like Command:
///
///     auto spec = LinkSpec::vlan("nsft0.5", parent, 5).mtu(1400).alias("uplink").up();
///     NSFUN_TRY(auto vlan, OwnedLink::create(rtnl, spec));
///
/// Kinds with a parent (vlan, macvlan, macvtap, ipvlan) take it as a Link, and are created in
/// the namespace of that Link's Rtnl. Nothing is checked until the link is created, and then
/// the kernel's checks are the ones that count: a VLAN id of 5000 comes back as
/// "RTM_NEWLINK nsft0 type vlan id 5000: Numerical result out of range (8021q: Invalid VLAN id)".
class LinkSpec {
 public:
  /// A link of a kind that needs no settings: "dummy", "ifb", "bridge", "nlmon", "vrf" (no
  /// table), … (ip link add NAME type KIND).
  [[nodiscard]] static LinkSpec of_kind(std::string_view name, std::string_view kind);

  /// ip link add NAME type dummy: a link that drops everything sent to it; the usual place for
  /// addresses of a test (needs CONFIG_DUMMY).
  [[nodiscard]] static LinkSpec dummy(std::string_view name);

  /// ip link add link PARENT name NAME type vlan id ID protocol PROTO (needs CONFIG_VLAN_8021Q).
  [[nodiscard]] static LinkSpec vlan(std::string_view name,
                                     const Link& parent,
                                     std::uint16_t id,
                                     VlanProtocol protocol = VlanProtocol::dot1q);

  /// ip link add link PARENT name NAME type macvlan mode MODE.
  [[nodiscard]] static LinkSpec macvlan(std::string_view name,
                                        const Link& parent,
                                        MacvlanMode mode = MacvlanMode::bridge);

  /// ip link add link PARENT name NAME type macvtap mode MODE: a macvlan with a character
  /// device (/dev/tapN) for a VM's or test's packets.
  [[nodiscard]] static LinkSpec macvtap(std::string_view name,
                                        const Link& parent,
                                        MacvlanMode mode = MacvlanMode::bridge);

  /// ip link add link PARENT name NAME type ipvlan mode MODE (needs CONFIG_IPVLAN).
  [[nodiscard]] static LinkSpec ipvlan(std::string_view name,
                                       const Link& parent,
                                       IpvlanMode mode = IpvlanMode::l2);

  /// ip link add NAME type vxlan id ID [remote|group ADDR] [local ADDR] [dev DEV] dstport PORT.
  [[nodiscard]] static LinkSpec vxlan(std::string_view name, const VxlanOptions& options);

  /// ip link add NAME type bond mode MODE (needs CONFIG_BONDING); attach ports with
  /// Link::set_master() while they are down.
  [[nodiscard]] static LinkSpec bond(std::string_view name, BondMode mode = BondMode::balance_rr);

  /// mtu N (IFLA_MTU) at creation.
  LinkSpec& mtu(std::uint32_t mtu);

  /// address MAC (IFLA_ADDRESS) at creation.
  LinkSpec& mac(const MacAddress& mac);

  /// alias TEXT (IFLA_IFALIAS), set right after creation (the kernel ignores it in a create).
  LinkSpec& alias(std::string_view alias);

  /// index N: asks for this interface index (ip link add … index N); the kernel refuses one in
  /// use (File exists). Lets a batch add addresses to links it creates in the same send.
  LinkSpec& index(int index);

  /// Brought up at creation (IFF_UP), as `ip link add … up`.
  LinkSpec& up();

  /// An address to add once the link exists (ip addr add PREFIX dev NAME); may be repeated.
  LinkSpec& address(const IpPrefix& prefix);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }

  /// How errors name the request: "nsft0 type vlan id 5", "nsft1 type macvlan mode bridge",
  /// "nsft2 type vxlan id 42", "nsft3 type dummy".
  [[nodiscard]] std::string label() const;

 private:
  friend struct detail::LinkSpecAccess;

  LinkSpec(std::string_view name, std::string_view kind);

  std::string name_;
  std::string kind_;
  Link parent_;
  std::uint16_t vlan_id_ = 0;
  VlanProtocol vlan_protocol_ = VlanProtocol::dot1q;
  MacvlanMode macvlan_mode_ = MacvlanMode::bridge;
  IpvlanMode ipvlan_mode_ = IpvlanMode::l2;
  BondMode bond_mode_ = BondMode::balance_rr;
  std::optional<VxlanOptions> vxlan_;
  std::uint32_t mtu_ = 0;
  std::optional<MacAddress> mac_;
  std::optional<std::string> alias_;
  int index_ = 0;
  bool up_ = false;
  std::vector<IpPrefix> addresses_;
};

/// A link that nsfun created and owns: the destructor deletes it (ip link del) unless keep() or
/// release() was called. The one owning handle for every kind LinkSpec makes (Veth stays its own
/// type: it owns two ends). Move-only; a moved-from OwnedLink is empty; assigning over one first
/// deletes the link it owned. Neither the destructor nor the move-assignment throws or reports:
/// call remove() to see errors. Moving the link to another namespace goes through
/// move_to(), which keeps it owned there.
class OwnedLink {
 public:
  OwnedLink() noexcept = default;

  /// Creates the link of `spec` in the namespace of `rtnl` (for kinds with a parent: the
  /// parent's namespace, which `rtnl` must be), sets its alias and adds its addresses.
  /// Wraps: RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL, then RTM_NEWLINK (alias), RTM_NEWADDR.
  /// Needs: CAP_NET_ADMIN. Errors: those of check_ifname() (before asking the kernel);
  /// std::errc::cross_device_link (the parent is in another namespace); the kernel's, naming
  /// the request by spec.label() with the kernel's extended ack: "RTM_NEWLINK nsft0 type vlan
  /// id 5000: Numerical result out of range (8021q: Invalid VLAN id)", std::errc::file_exists,
  /// std::errc::no_such_device (the parent is gone: "… link nsftp: No such device (…)"),
  /// std::errc::operation_not_supported (a kind this kernel lacks: "Unknown device type").
  /// On error nothing is left.
  [[nodiscard]] static result<OwnedLink> create(const Rtnl& rtnl, const LinkSpec& spec) noexcept;

  /// Takes ownership of an existing link: deleted when the handle dies.
  [[nodiscard]] static OwnedLink adopt(Link link) noexcept;

  OwnedLink(OwnedLink&& other) noexcept;
  OwnedLink& operator=(OwnedLink&& other) noexcept;
  OwnedLink(const OwnedLink&) = delete;
  OwnedLink& operator=(const OwnedLink&) = delete;
  ~OwnedLink();

  /// The link (empty after release() or a move away).
  [[nodiscard]] const Link& link() const noexcept { return link_; }

  [[nodiscard]] const Link* operator->() const noexcept { return &link_; }

  /// Moves the link into the namespace of `target` (Link::move_to) and keeps owning it there.
  /// Errors: as Link::move_to().
  [[nodiscard]] result<void> move_to(const Rtnl& target) noexcept;

  /// Deletes the link now, also after keep(); the handle is empty afterwards either way.
  /// Errors: as Link::remove(). Nothing to do (success) on an empty handle.
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the link in place when the handle dies; link() stays usable.
  void keep() noexcept { owned_ = false; }

  /// Gives the link up: returns it, not owned, and leaves the handle empty.
  [[nodiscard]] Link release() noexcept;

  /// True while the handle owns the link: until keep(), release(), remove() or a move away.
  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  explicit OwnedLink(Link link) noexcept : link_(std::move(link)), owned_(true) {}

  void destroy() noexcept;

  Link link_;
  bool owned_ = false;
};

/// Links that nsfun created together, owned as a group: deleted together (one batch) when the
/// handle dies, unless keep() or release() was called. Move-only.
class OwnedLinks {
 public:
  OwnedLinks() noexcept = default;

  /// Creates every link of `specs` in the namespace of `rtnl`, with their aliases and addresses,
  /// as one RtnlBatch: the links first (each with an index asked for, one above the highest in
  /// use, so that their addresses can go in the same batch), then aliases and addresses. The
  /// kinds with a parent need their parent's namespace to be `rtnl`'s.
  /// Errors: those of check_ifname() for any name (nothing sent); std::errc::file_exists
  /// (a name, or an index another process took meanwhile); the first failed request's, as
  /// RtnlBatch::commit() reports it ("batch request 7 of 2000: RTM_NEWLINK nsft6 type dummy:
  /// File exists"). On error nothing is left: every link that was made is deleted again.
  [[nodiscard]] static result<OwnedLinks> create(const Rtnl& rtnl,
                                                 const std::vector<LinkSpec>& specs) noexcept;

  OwnedLinks(OwnedLinks&& other) noexcept;
  OwnedLinks& operator=(OwnedLinks&& other) noexcept;
  OwnedLinks(const OwnedLinks&) = delete;
  OwnedLinks& operator=(const OwnedLinks&) = delete;
  ~OwnedLinks();

  /// The links, in the order of the specs.
  [[nodiscard]] const std::vector<Link>& links() const noexcept { return links_; }

  [[nodiscard]] std::size_t size() const noexcept { return links_.size(); }

  /// Deletes every link now (one batch), also after keep(); the handle is empty afterwards.
  /// Errors: the first failure, as RtnlBatch::commit() reports it.
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the links in place when the handle dies.
  void keep() noexcept { owned_ = false; }

  /// Gives the links up, not owned, and leaves the handle empty.
  [[nodiscard]] std::vector<Link> release() noexcept;

  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  OwnedLinks(Rtnl rtnl, std::vector<Link> links) noexcept
      : rtnl_(std::move(rtnl)), links_(std::move(links)), owned_(true) {}

  void destroy() noexcept;

  Rtnl rtnl_;
  std::vector<Link> links_;
  bool owned_ = false;
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/link_kinds.ipp>
#endif

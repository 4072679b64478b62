// SPDX-License-Identifier: MIT
// nsfun::net – Link: a network interface in the namespace of an Rtnl (ip link).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/oper_state.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net {

class OwnedLinks;

/// The longest interface name the kernel accepts (IFNAMSIZ - 1).
inline constexpr std::size_t max_ifname_length = 15;

/// Checks an interface name the way the kernel does (dev_valid_name), before asking it: 1 to 15
/// bytes, not "." or "..", no '/', ':' or white space.
/// Errors: std::errc::filename_too_long (over 15 bytes), std::errc::invalid_argument; the step
/// is "check interface name", the object the quoted name, the reason what is wrong with it:
/// `check interface name "a/b": contains '/'`.
[[nodiscard]] result<void> check_ifname(std::string_view name) noexcept;

/// An Ethernet (48-bit) hardware address.
struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  /// Parses "02:00:00:aa:bb:cc" (also with '-'). Errors: std::errc::invalid_argument, step
  /// "parse MAC address", the quoted text as object and what is wrong with it as reason.
  [[nodiscard]] static result<MacAddress> parse(std::string_view text) noexcept;

  /// "02:00:00:aa:bb:cc".
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

/// The longest alias (IFLA_IFALIAS) the kernel keeps: IFALIASZ - 1 bytes.
inline constexpr std::size_t max_alias_length = 255;

/// The tag protocol of a VLAN link (IFLA_VLAN_PROTOCOL): 802.1Q (ETH_P_8021Q), or 802.1ad
/// (ETH_P_8021AD, the outer tag of "QinQ").
enum class VlanProtocol : std::uint8_t { dot1q, dot1ad };

/// How a macvlan (or macvtap) link shares its parent (IFLA_MACVLAN_MODE, MACVLAN_MODE_*).
enum class MacvlanMode : std::uint8_t {
  private_,  ///< "private": no traffic between macvlans of the same parent
  vepa,      ///< "vepa": traffic between them goes out through the parent and back
  bridge,    ///< "bridge": they talk to each other directly
  passthru,  ///< "passthru": one macvlan takes over the parent
  source     ///< "source": receives only from a list of source MACs
};

/// The mode of an ipvlan link (IFLA_IPVLAN_MODE, IPVLAN_MODE_*).
enum class IpvlanMode : std::uint8_t { l2, l3, l3s };

/// The bonding mode of a bond (IFLA_BOND_MODE, BOND_MODE_*), in the kernel's numbering.
enum class BondMode : std::uint8_t {
  balance_rr,
  active_backup,
  balance_xor,
  broadcast,
  lacp,  ///< "802.3ad"
  balance_tlb,
  balance_alb
};

/// A tun/tap device's type: layer 3 (tun, IFF_TUN) or Ethernet (tap, IFF_TAP).
enum class TunType : std::uint8_t { tun, tap };

/// The words `ip -d link` prints for them: "802.1Q"/"802.1ad"; "private", "vepa", "bridge",
/// "passthru", "source"; "l2", "l3", "l3s"; "balance-rr", "active-backup", "balance-xor",
/// "broadcast", "802.3ad", "balance-tlb", "balance-alb"; "tun", "tap".
[[nodiscard]] std::string_view to_string(VlanProtocol p) noexcept;
[[nodiscard]] std::string_view to_string(MacvlanMode m) noexcept;
[[nodiscard]] std::string_view to_string(IpvlanMode m) noexcept;
[[nodiscard]] std::string_view to_string(BondMode m) noexcept;
[[nodiscard]] std::string_view to_string(TunType t) noexcept;

/// VLAN details (kind "vlan"): `ip -d link`'s "vlan protocol 802.1Q id 5".
struct VlanDetails {
  std::uint16_t id = 0;
  VlanProtocol protocol = VlanProtocol::dot1q;
};

/// macvlan / macvtap details: "macvlan mode bridge".
struct MacvlanDetails {
  MacvlanMode mode = MacvlanMode::bridge;
};

/// ipvlan details: "ipvlan mode l3".
struct IpvlanDetails {
  IpvlanMode mode = IpvlanMode::l2;
};

/// VXLAN details: "vxlan id 42 remote 10.1.1.1 local 10.0.0.1 dev eth0 dstport 4789". The
/// addresses are in ip's notation ("10.1.1.1", "fd00::1"; IpAddress::parse reads them), empty
/// when not set; `remote` is a unicast peer, `group` a multicast one (the kernel keeps one of
/// the two).
struct VxlanDetails {
  std::uint32_t id = 0;  ///< the VNI
  std::string local;
  std::string remote;
  std::string group;
  std::uint16_t port = 0;  ///< the UDP destination port
  int dev = 0;             ///< index of the underlying device (IFLA_VXLAN_LINK); 0 for none
};

/// Bond details: "bond mode active-backup".
struct BondDetails {
  BondMode mode = BondMode::balance_rr;
};

/// tun/tap details (kind "tun", as `ip -d link` shows them).
struct TunDetails {
  TunType type = TunType::tun;
  bool persist = false;                ///< stays when its last fd closes (TUNSETPERSIST)
  bool multi_queue = false;            ///< IFF_MULTI_QUEUE
  bool pi = false;                     ///< packets carry a struct tun_pi header (no IFF_NO_PI)
  bool vnet_hdr = false;               ///< IFF_VNET_HDR
  std::optional<std::uint32_t> owner;  ///< the uid allowed to attach (TUNSETOWNER), if set
  std::optional<std::uint32_t> group;  ///< the gid allowed to attach (TUNSETGROUP), if set
};

/// What the kernel says about a link (one RTM_NEWLINK message): what `ip -d link show` prints.
struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  ///< "veth", "bridge", "vlan", … ; empty for physical and loopback devices
  std::uint32_t mtu = 0;
  unsigned flags = 0;  ///< IFF_* flags
  int master = 0;      ///< index of the bridge (or bond) it is attached to; 0 for none
  int link = 0;  ///< IFLA_LINK: the parent (vlan, macvlan, ipvlan) or the veth peer; 0 for none
  std::optional<MacAddress> mac;
  OperState operstate = OperState::unknown;  ///< IFLA_OPERSTATE: ip's "state UP"
  bool carrier = false;                      ///< IFLA_CARRIER: the lower layer is up
  std::string alias;                         ///< IFLA_IFALIAS; empty for none

  /// The kind's own settings (IFLA_INFO_DATA), for the kinds nsfun creates; one of them is set
  /// when `kind` is "vlan", "macvlan" or "macvtap", "ipvlan", "vxlan", "bond" or "tun".
  std::optional<VlanDetails> vlan;
  std::optional<MacvlanDetails> macvlan;
  std::optional<IpvlanDetails> ipvlan;
  std::optional<VxlanDetails> vxlan;
  std::optional<BondDetails> bond;
  std::optional<TunDetails> tun;

  /// IFF_UP: administratively up.
  [[nodiscard]] bool is_up() const noexcept;

  /// IFF_RUNNING: up, and able to carry packets now (operstate up, or unknown for a driver
  /// that reports no carrier, such as a dummy, lo or a tap with its fd attached); false for a
  /// veth whose peer is down ("lowerlayerdown") or a tap nobody attached ("down").
  [[nodiscard]] bool is_running() const noexcept;
};

/// A network interface, named by its index in the namespace of an Rtnl. A Link does not own the
/// interface (nothing is deleted when it dies; see Veth for that) and holds a copy of the Rtnl.
/// Copies name the same interface; a moved-from Link is empty (index 0, no Rtnl).
///
/// Indexes are per namespace: after move_to() the interface is no longer reachable through this
/// Link; use the Link that move_to(const Rtnl&) returns.
///
/// Errors name the interface and what was asked: "RTM_NEWLINK nsft0 mtu 10: Invalid argument
/// (mtu less than device minimum)" (see label()), with the kernel's extended ack as the note.
class Link {
 public:
  Link() noexcept = default;
  Link(const Link&) = default;
  Link& operator=(const Link&) = default;

  Link(Link&& other) noexcept
      : rtnl_(std::move(other.rtnl_)),
        index_(std::exchange(other.index_, 0)),
        name_(std::move(other.name_)) {
    other.name_.clear();
  }

  Link& operator=(Link&& other) noexcept {
    if (this != &other) {
      rtnl_ = std::move(other.rtnl_);
      index_ = std::exchange(other.index_, 0);
      name_ = std::move(other.name_);
      other.name_.clear();
    }
    return *this;
  }

  ~Link() = default;

  /// The interface called `name` (ip link show NAME). Wraps: RTM_GETLINK.
  /// Errors: std::errc::no_such_device ("RTM_GETLINK eth9: No such device"), and those of
  /// check_ifname().
  [[nodiscard]] static result<Link> by_name(const Rtnl& rtnl, std::string_view name) noexcept;

  /// The interface with index `index`. Errors: std::errc::no_such_device
  /// ("RTM_GETLINK index 42: No such device").
  [[nodiscard]] static result<Link> by_index(const Rtnl& rtnl, int index) noexcept;

  /// Every interface of the namespace, in the kernel's order (ip link). Wraps: RTM_GETLINK dump.
  /// Errors name the namespace ("RTM_GETLINK dump in net:[4026532301]: …").
  [[nodiscard]] static result<std::vector<LinkInfo>> list(const Rtnl& rtnl) noexcept;

  [[nodiscard]] int index() const noexcept { return index_; }

  [[nodiscard]] const Rtnl& rtnl() const noexcept { return rtnl_; }

  /// How errors name the interface: its current name (asked of the kernel: one RTM_GETLINK),
  /// else the name it had when this Link was made (it is gone, or moved away), else "index N".
  [[nodiscard]] std::string label() const;

  /// Current state: name, kind, MTU, flags, master, MAC, operstate, carrier, alias and the
  /// kind's details. Errors: std::errc::no_such_device.
  [[nodiscard]] result<LinkInfo> info() const noexcept;

  /// ip link set NAME up / down. Wraps: RTM_NEWLINK with IFF_UP in ifi_change.
  /// Affects: the interface. Needs: CAP_NET_ADMIN in the namespace's user namespace.
  [[nodiscard]] result<void> set_up() const noexcept;

  [[nodiscard]] result<void> set_down() const noexcept;

  /// ip link set NAME mtu N. Errors: std::errc::invalid_argument (outside the device's range).
  [[nodiscard]] result<void> set_mtu(std::uint32_t mtu) const noexcept;

  /// ip link set NAME name NEW. Most devices must be down first
  /// (std::errc::device_or_resource_busy). Errors: std::errc::file_exists, and those of
  /// check_ifname().
  [[nodiscard]] result<void> rename(std::string_view new_name) const noexcept;

  /// ip link set NAME address MAC. Errors: std::errc::invalid_argument (e.g. multicast MAC).
  [[nodiscard]] result<void> set_mac(const MacAddress& mac) const noexcept;

  /// ip link set NAME alias TEXT (IFLA_IFALIAS, what SNMP's ifAlias shows); an empty `alias`
  /// removes it. Errors: std::errc::invalid_argument (longer than max_alias_length bytes,
  /// checked before asking the kernel: `RTM_NEWLINK nsft0 alias: longer than 255 bytes`).
  [[nodiscard]] result<void> set_alias(std::string_view alias) const noexcept;

  /// ip link set NAME master BRIDGE: attaches the interface to a bridge (or bond) in the same
  /// namespace. Errors: std::errc::cross_device_link (the two are in different namespaces).
  [[nodiscard]] result<void> set_master(const Link& master) const noexcept;

  /// ip link set NAME nomaster.
  [[nodiscard]] result<void> clear_master() const noexcept;

  /// ip link set NAME netns NS: moves the interface into `ns` (IFLA_NET_NS_FD). This Link no
  /// longer names it afterwards.
  /// Errors: std::errc::bad_file_descriptor (empty `ns`), std::errc::file_exists (the name is
  /// taken there), std::errc::invalid_argument (a device that cannot move, such as lo).
  [[nodiscard]] result<void> move_to(const NetNs& ns) const noexcept;

  /// Moves the interface into the namespace of `target` and returns it as seen there.
  [[nodiscard]] result<Link> move_to(const Rtnl& target) const noexcept;

  /// ip link set NAME netns PID: moves the interface into the network namespace of a process
  /// (IFLA_NET_NS_PID). Errors: std::errc::no_such_process.
  [[nodiscard]] result<void> move_to_pid(pid_t pid) const noexcept;

  /// ip link delete NAME. For a veth pair both ends go. Wraps: RTM_DELLINK.
  [[nodiscard]] result<void> remove() const noexcept;

 private:
  friend class OwnedLinks;  // makes the Links of a batch it created, without asking again

  Link(Rtnl rtnl, int index, std::string name) noexcept
      : rtnl_(std::move(rtnl)), index_(index), name_(std::move(name)) {}

  Rtnl rtnl_;
  int index_ = 0;
  std::string name_;  // when the Link was made; only for errors, where the kernel no longer knows
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/link.ipp>
#endif

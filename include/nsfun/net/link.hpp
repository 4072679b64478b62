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
#include <nsfun/net/rtnl.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net {

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

/// What the kernel says about a link (one RTM_NEWLINK message).
struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  ///< "veth", "bridge", … ; empty for physical and loopback devices
  std::uint32_t mtu = 0;
  unsigned flags = 0;  ///< IFF_* flags
  int master = 0;      ///< index of the bridge (or bond) it is attached to; 0 for none
  std::optional<MacAddress> mac;

  /// IFF_UP: administratively up.
  [[nodiscard]] bool is_up() const noexcept;
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

  /// Current state: name, kind, MTU, flags, master, MAC. Errors: std::errc::no_such_device.
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

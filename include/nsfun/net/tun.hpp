// SPDX-License-Identifier: MIT
// nsfun::net – Tun, a tun or tap device made through /dev/net/tun (ip tuntap add), with its fd.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::net {

/// How to make a tun/tap device.
struct TunOptions {
  TunType type = TunType::tap;
  /// Stays after its fd closes (TUNSETPERSIST), as `ip tuntap add` makes them. Without it the
  /// kernel deletes the device when the last fd attached to it closes.
  bool persist = false;
  std::optional<std::uint32_t> owner;  ///< user allowed to attach (TUNSETOWNER)
  std::optional<std::uint32_t> group;  ///< group allowed to attach (TUNSETGROUP)
  bool multi_queue = false;            ///< IFF_MULTI_QUEUE
  bool vnet_hdr = false;               ///< IFF_VNET_HDR
  bool pi = false;                     ///< keep the 4-byte packet information header (no IFF_NO_PI)
};

/// A tun or tap device and the fd its packets go through (read(2) one packet, write(2) one).
/// Owned: when the handle dies the fd closes, which deletes a device that is not persistent;
/// a persistent one is deleted too (RTM_DELLINK) unless keep() was called. Move-only; a
/// moved-from Tun is empty.
///
///     NSFUN_TRY(auto tap, nsfun::net::Tun::create(rtnl, "nsfttap0"));
///     ::write(tap.fd().get(), frame, len);   // an Ethernet frame into the namespace
class Tun {
 public:
  Tun() noexcept = default;

  /// Opens /dev/net/tun on a thread inside the namespace of `rtnl` (so the device is born
  /// there) and attaches it to a new device called `name` (empty: the kernel picks tunN/tapN).
  /// Wraps: open("/dev/net/tun"), ioctl TUNSETIFF, TUNSETOWNER, TUNSETGROUP, TUNSETPERSIST.
  /// Needs: CAP_NET_ADMIN. Errors name the device: "TUNSETIFF nsft0: Device or resource busy"
  /// (a device of that name exists, not a tun/tap of this type), those of check_ifname(),
  /// "open /dev/net/tun: No such file or directory". On error nothing is left.
  [[nodiscard]] static result<Tun> create(const Rtnl& rtnl,
                                          std::string_view name,
                                          const TunOptions& options = {}) noexcept;

  Tun(Tun&& other) noexcept;
  Tun& operator=(Tun&& other) noexcept;
  Tun(const Tun&) = delete;
  Tun& operator=(const Tun&) = delete;
  ~Tun();

  /// The device (in the namespace it was created in, or where move_to() put it).
  [[nodiscard]] const Link& link() const noexcept { return link_; }

  /// The device's name (the kernel's choice when created with an empty name).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// The packet fd, borrowed (O_CLOEXEC); FdRef(-1) after release_fd().
  [[nodiscard]] FdRef fd() const noexcept { return fd_.ref(); }

  /// Hands the packet fd over: a device that is not persistent then lives as long as that fd.
  [[nodiscard]] UniqueFd release_fd() noexcept { return std::move(fd_); }

  /// Moves the device into the namespace of `target` and keeps track of it there; its fd
  /// still works. Errors: as Link::move_to().
  [[nodiscard]] result<void> move_to(const Rtnl& target) noexcept;

  /// Deletes the device now (RTM_DELLINK) and closes the fd; the handle is empty afterwards.
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the device in place when the handle dies: makes it persistent (TUNSETPERSIST)
  /// if it was not, so that closing the fd does not delete it. The handle stays usable.
  /// Errors: "TUNSETPERSIST nsft0: …".
  [[nodiscard]] result<void> keep() noexcept;

  /// True while the handle owns the device: until keep(), remove() or a move away.
  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  void destroy() noexcept;

  UniqueFd fd_;
  Link link_;
  std::string name_;
  bool persist_ = false;
  bool owned_ = false;
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/tun.ipp>
#endif

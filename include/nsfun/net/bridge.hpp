// SPDX-License-Identifier: MIT
// nsfun::net – Bridge, an owned Linux bridge (ip link add NAME type bridge; ip link set PORT
// master NAME).
#pragma once

#include <string>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// A bridge that nsfun created and owns: the destructor deletes it (its ports are detached, not
/// deleted) unless keep() was called. Move-only: a moved-from Bridge is empty; assigning over a
/// Bridge first deletes the one it owned. Neither the destructor nor the move-assignment throws
/// or reports: call remove() to see errors. It lends its Link (link(), or where a `const Link&`
/// is taken), so bridge::attach(br, port) and br.link().set_up() work as on any link.
///
/// **Example**:
///
///     NSFUN_TRY(auto br, nsfun::net::Bridge::create(rtnl, "br0"));
///     NSFUN_TRYV(br.link().set_up());
///     NSFUN_TRYV(br.attach(veth.first()));
class Bridge {
 public:
  Bridge() noexcept = default;

  /// Creates a bridge called `name` in the namespace of `rtnl` (down, STP off).
  /// Wraps: RTM_NEWLINK, kind "bridge", NLM_F_CREATE | NLM_F_EXCL. Needs: CAP_NET_ADMIN.
  /// Errors: std::errc::file_exists ("RTM_NEWLINK br0: File exists"), those of check_ifname();
  /// kernel errors name the bridge and carry the kernel's extended ack. On error nothing is left.
  [[nodiscard]] static result<Bridge> create(const Rtnl& rtnl, std::string_view name) noexcept;

  Bridge(Bridge&& other) noexcept;
  Bridge& operator=(Bridge&& other) noexcept;
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  /// Deletes the bridge if still owned; errors are ignored (call remove() to see them).
  ~Bridge();

  /// The bridge as a Link (in the namespace of the Rtnl it was created with).
  [[nodiscard]] const Link& link() const noexcept { return link_; }

  // NOLINTNEXTLINE(google-explicit-constructor): a Bridge lends its Link where one is taken.
  operator const Link&() const noexcept { return link_; }

  [[nodiscard]] int index() const noexcept { return link_.index(); }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// Attaches `port` (same namespace): ip link set PORT master NAME.
  /// Errors: std::errc::cross_device_link (another namespace), std::errc::invalid_argument;
  /// they name both ("RTM_NEWLINK veth0 master br0: …").
  [[nodiscard]] result<void> attach(const Link& port) const noexcept;

  /// Detaches `port`: ip link set PORT nomaster.
  [[nodiscard]] result<void> detach(const Link& port) const noexcept;

  /// Deletes the bridge now (RTM_DELLINK), also after keep(). Errors: as Link::remove()
  /// ("RTM_DELLINK br0: …"); the handle is empty afterwards either way. Nothing to do (success)
  /// on an empty handle.
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the bridge in place when the handle dies; the handle stays usable (link(), attach,
  /// remove()).
  void keep() noexcept;

  /// True while the handle owns the bridge: until keep(), remove() or a move away.
  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  Bridge(Link link, std::string name) noexcept;

  // remove() while owned: for the destructor and the move-assignment.
  void destroy() noexcept;

  Link link_;
  std::string name_;
  bool owned_ = false;
};

namespace bridge {

/// Bridge::create(rtnl, name): a bridge owned by the returned handle.
[[nodiscard]] result<Bridge> create(const Rtnl& rtnl, std::string_view name) noexcept;

/// Attaches `port` to `bridge` (same namespace): ip link set PORT master BRIDGE. `bridge` may be
/// a Bridge or any Link.
/// Errors: std::errc::cross_device_link (different namespaces), std::errc::invalid_argument;
/// they name both ("RTM_NEWLINK veth0 master br0: …").
[[nodiscard]] result<void> attach(const Link& bridge, const Link& port) noexcept;

/// Detaches `port` from its bridge: ip link set PORT nomaster.
[[nodiscard]] result<void> detach(const Link& port) noexcept;

}  // namespace bridge

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/bridge.ipp>
#endif

// SPDX-License-Identifier: MIT
// nsfun::net – Veth, an owned virtual Ethernet pair (ip link add NAME type veth peer name PEER).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// What Veth::create does once the pair exists.
struct VethOptions {
  /// Sets both ends up (ip link set … up).
  bool up = false;
  /// When above zero: sets both ends up (as `up`), then waits until both are running
  /// (wait_running()), up to this long, so that the first packets are not dropped while the
  /// carrier comes up (a TCP SYN lost then costs a 1 s retransmit). On a timeout the pair is
  /// deleted and the error names the end that was not running.
  std::chrono::milliseconds wait_running{0};
};

/// A veth pair that nsfun created and owns: the destructor deletes it (both ends go together)
/// unless keep() was called. Move-only: a moved-from Veth is empty (owns nothing, empty
/// Links and names); assigning over a Veth first deletes the pair it owned. Neither the
/// destructor nor the move-assignment throws or reports: call remove() to see errors.
///
/// **Example** (the cheatsheet's "veth between the host and a namespace"):
///
///     NSFUN_TRY(auto host, nsfun::net::Rtnl::open());
///     NSFUN_TRY(auto inner, nsfun::net::Rtnl::open(netns));
///     NSFUN_TRY(auto veth, nsfun::net::Veth::create(host, "veth0", "eth0", inner));
///     // veth.first() is in the caller's namespace, veth.peer() in netns.
class Veth {
 public:
  Veth() noexcept = default;

  /// Creates a pair with both ends in the namespace of `rtnl`.
  /// Wraps: RTM_NEWLINK, kind "veth", NLM_F_CREATE | NLM_F_EXCL.
  /// Needs: CAP_NET_ADMIN. Errors: std::errc::file_exists (a name is taken; the error names
  /// which: "RTM_NEWLINK veth0: File exists", "RTM_NEWLINK peer veth1: File exists"), those of
  /// check_ifname() (checked before anything is asked of the kernel); other kernel errors name
  /// both ("veth0 peer veth1"), with the kernel's extended ack as the note. On error nothing is
  /// left.
  [[nodiscard]] static result<Veth> create(const Rtnl& rtnl,
                                           std::string_view name,
                                           std::string_view peer_name) noexcept;

  /// Creates a pair whose peer is born directly inside the namespace of `peer_rtnl`
  /// (IFLA_NET_NS_FD on the peer): no move needed, and no name clash in between.
  [[nodiscard]] static result<Veth> create(const Rtnl& rtnl,
                                           std::string_view name,
                                           std::string_view peer_name,
                                           const Rtnl& peer_rtnl) noexcept;

  /// As create(rtnl, name, peer_name), then what `options` asks: both ends up, and waiting
  /// until both run. **Example**:
  ///
  ///     nsfun::net::VethOptions o;
  ///     o.wait_running = std::chrono::seconds(2);
  ///     NSFUN_TRY(auto veth, nsfun::net::Veth::create(a.rtnl, "veth0", "eth0", b.rtnl, o));
  ///     // both ends are up and running: a connect() across it does not stall.
  ///
  /// Errors: those of create() and Link::set_up(), and of wait_until() ("wait for eth0
  /// running: Connection timed out (after 2000 ms, state lowerlayerdown)"). On error nothing
  /// is left.
  [[nodiscard]] static result<Veth> create(const Rtnl& rtnl,
                                           std::string_view name,
                                           std::string_view peer_name,
                                           const VethOptions& options) noexcept;

  /// As create(rtnl, name, peer_name, peer_rtnl), then what `options` asks.
  [[nodiscard]] static result<Veth> create(const Rtnl& rtnl,
                                           std::string_view name,
                                           std::string_view peer_name,
                                           const Rtnl& peer_rtnl,
                                           const VethOptions& options) noexcept;

  Veth(Veth&& other) noexcept;
  Veth& operator=(Veth&& other) noexcept;
  Veth(const Veth&) = delete;
  Veth& operator=(const Veth&) = delete;

  /// Deletes the pair if still owned; errors are ignored (call remove() to see them).
  ~Veth();

  /// The first end (in the namespace of the Rtnl it was created with).
  [[nodiscard]] const Link& first() const noexcept { return first_; }

  /// The peer end (where it was created, or where move_peer() put it).
  [[nodiscard]] const Link& peer() const noexcept { return peer_; }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  [[nodiscard]] const std::string& peer_name() const noexcept { return peer_name_; }

  /// Moves the peer end into the namespace of `target` (ip link set PEER netns NS) and keeps
  /// track of it there. Errors: as Link::move_to().
  [[nodiscard]] result<void> move_peer(const Rtnl& target) noexcept;

  /// Deletes the pair now (RTM_DELLINK of the first end; of the peer when the first is gone),
  /// also after keep(). Errors: as Link::remove() ("RTM_DELLINK veth0: …"); the handle is empty
  /// afterwards either way. Nothing to do (success) on an empty handle.
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the pair in place when the handle dies (the destructor and move-assignment no longer
  /// delete it). The handle stays usable: first(), peer(), the names and remove() still work.
  void keep() noexcept;

  /// True while the handle owns the pair: until keep(), remove() or a move away.
  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  Veth(Link first, Link peer, std::string name, std::string peer_name) noexcept;
  // A Veth owning `ends`, or (out of memory) an error after deleting them.
  [[nodiscard]] static result<Veth> own(std::pair<Link, Link> ends,
                                        std::string_view name,
                                        std::string_view peer_name) noexcept;

  // remove() while owned: for the destructor and the move-assignment.
  void destroy() noexcept;

  // Applies `options` to a new pair (set up, wait).
  [[nodiscard]] result<void> apply(const VethOptions& options) const noexcept;

  Link first_;
  Link peer_;
  std::string name_;
  std::string peer_name_;
  bool owned_ = false;
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/veth.ipp>
#endif

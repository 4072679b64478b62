// SPDX-License-Identifier: MIT
// nsfun::net – Veth: the implementation (see <nsfun/config.hpp>). Creating a pair (optionally
// across namespaces) and deleting it.
#pragma once

#include <cerrno>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/net/veth.hpp>
#include <nsfun/net/wait.hpp>

namespace nsfun::net {

namespace detail {

// Names what a failed RTM_NEWLINK for a pair was about: "nsft0 peer nsft1", or for a name that
// is taken, that one ("nsft0", "peer nsft1"): the kernel says File exists without saying which.
inline void name_veth(error& e,
                      const Rtnl& rtnl,
                      std::string_view name,
                      const Rtnl& peer_side,
                      std::string_view peer_name) noexcept {
  if (e == std::errc::file_exists) {
    if (Link::by_name(rtnl, name)) {
      e.on(name);
      return;
    }
    if (Link::by_name(peer_side, peer_name)) {
      e.on("peer ", peer_name);
      return;
    }
  }
  e.on(name, " peer ", peer_name);
}

inline result<std::pair<Link, Link>> veth_create(const Rtnl& rtnl,
                                                 std::string_view name,
                                                 std::string_view peer_name,
                                                 const Rtnl* peer_rtnl) noexcept {
  NSFUN_TRYV(check_ifname(name));
  NSFUN_TRYV(check_ifname(peer_name));
  const Rtnl& peer_side = peer_rtnl != nullptr ? *peer_rtnl : rtnl;
  {
    Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    auto& ifi = m.extra<ifinfomsg>();
    ifi.ifi_family = AF_UNSPEC;
    m.put_str(IFLA_IFNAME, name);
    nlattr* linkinfo = m.nest_start(IFLA_LINKINFO);
    m.put_str(IFLA_INFO_KIND, "veth");
    nlattr* data = m.nest_start(IFLA_INFO_DATA);
    nlattr* peer = m.nest_start(VETH_INFO_PEER);
    auto& peer_ifi = m.extra<ifinfomsg>();
    peer_ifi.ifi_family = AF_UNSPEC;
    m.put_str(IFLA_IFNAME, peer_name);
    if (peer_rtnl != nullptr) {
      m.put_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_rtnl->netns().get()));
    }
    m.nest_end(peer);
    m.nest_end(data);
    m.nest_end(linkinfo);
    NSFUN_TRYV(with_context(rtnl.request(m.hdr(), "RTM_NEWLINK"), [&](error& e) noexcept {
      name_veth(e, rtnl, name, peer_side, peer_name);
    }));
  }
  auto first = Link::by_name(rtnl, name);
  if (!first) {
    delete_by_name(rtnl, name);
    return std::move(first).as_failure();
  }
  auto peer = Link::by_name(peer_side, peer_name);
  if (!peer) {
    (void)first.assume_value().remove();
    return std::move(peer).as_failure();
  }
  return std::pair<Link, Link>(std::move(first).assume_value(), std::move(peer).assume_value());
}

}  // namespace detail

NSFUN_INLINE Veth::Veth(Link first, Link peer, std::string name, std::string peer_name) noexcept
    : first_(std::move(first)),
      peer_(std::move(peer)),
      name_(std::move(name)),
      peer_name_(std::move(peer_name)),
      owned_(true) {}

NSFUN_INLINE result<Veth> Veth::own(std::pair<Link, Link> ends,
                                    std::string_view name,
                                    std::string_view peer_name) noexcept {
  std::string n;
  std::string pn;
  try {
    n = name;
    pn = peer_name;
  } catch (const std::bad_alloc&) {
    (void)ends.first.remove();  // nothing is left on error
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name, " peer ", peer_name);
  }
  return Veth(std::move(ends.first), std::move(ends.second), std::move(n), std::move(pn));
}

NSFUN_INLINE Veth::Veth(Veth&& other) noexcept
    : first_(std::move(other.first_)),
      peer_(std::move(other.peer_)),
      name_(std::exchange(other.name_, std::string())),
      peer_name_(std::exchange(other.peer_name_, std::string())),
      owned_(std::exchange(other.owned_, false)) {}

NSFUN_INLINE Veth& Veth::operator=(Veth&& other) noexcept {
  if (this != &other) {
    destroy();  // our own pair first
    first_ = std::move(other.first_);
    peer_ = std::move(other.peer_);
    name_ = std::exchange(other.name_, std::string());
    peer_name_ = std::exchange(other.peer_name_, std::string());
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE Veth::~Veth() {
  destroy();
}

NSFUN_INLINE void Veth::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
}

NSFUN_INLINE result<void> Veth::remove() noexcept {
  if (first_.index() <= 0 && peer_.index() <= 0) {
    return success();
  }
  // Empty the handle first (these moves cannot throw), so that it is empty however this ends.
  owned_ = false;
  Link first = std::move(first_);
  Link peer = std::move(peer_);
  name_.clear();
  peer_name_.clear();
  auto removed = first.remove();
  if (removed || !(removed.error() == std::errc::no_such_device)) {
    return removed;
  }
  // The first end is gone from where we knew it (moved by someone else): try the peer.
  return peer.remove();
}

NSFUN_INLINE void Veth::keep() noexcept {
  owned_ = false;
}

NSFUN_INLINE result<void> Veth::move_peer(const Rtnl& target) noexcept {
  NSFUN_TRYV(peer_.move_to(target.netns()));
  NSFUN_TRY(peer_, Link::by_name(target, peer_name_));
  return success();
}

NSFUN_INLINE result<Veth> Veth::create(const Rtnl& rtnl,
                                       std::string_view name,
                                       std::string_view peer_name) noexcept {
  NSFUN_TRY(auto ends, detail::veth_create(rtnl, name, peer_name, nullptr));
  return own(std::move(ends), name, peer_name);
}

NSFUN_INLINE result<Veth> Veth::create(const Rtnl& rtnl,
                                       std::string_view name,
                                       std::string_view peer_name,
                                       const Rtnl& peer_rtnl) noexcept {
  if (!peer_rtnl) {
    return errno_error(EBADF, "RTM_NEWLINK")
        .on(name, " peer ", peer_name)
        .because("empty Rtnl handle for the peer");
  }
  NSFUN_TRY(auto ends, detail::veth_create(rtnl, name, peer_name, &peer_rtnl));
  return own(std::move(ends), name, peer_name);
}

NSFUN_INLINE result<void> Veth::apply(const VethOptions& options) const noexcept {
  bool wait = options.wait_running.count() > 0;
  if (options.up || wait) {
    NSFUN_TRYV(first_.set_up());
    NSFUN_TRYV(peer_.set_up());
  }
  if (wait) {
    NSFUN_TRYV(wait_running(*this, options.wait_running));
  }
  return success();
}

NSFUN_INLINE result<Veth> Veth::create(const Rtnl& rtnl,
                                       std::string_view name,
                                       std::string_view peer_name,
                                       const VethOptions& options) noexcept {
  NSFUN_TRY(auto veth, create(rtnl, name, peer_name));
  NSFUN_TRYV(veth.apply(options));  // on error the pair goes with `veth`
  return veth;
}

NSFUN_INLINE result<Veth> Veth::create(const Rtnl& rtnl,
                                       std::string_view name,
                                       std::string_view peer_name,
                                       const Rtnl& peer_rtnl,
                                       const VethOptions& options) noexcept {
  NSFUN_TRY(auto veth, create(rtnl, name, peer_name, peer_rtnl));
  NSFUN_TRYV(veth.apply(options));
  return veth;
}

}  // namespace nsfun::net

// SPDX-License-Identifier: MIT
// nsfun::net – Veth: creating a pair (optionally across namespaces) and deleting it.

#include <cerrno>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <nsfun/net/veth.hpp>

#include "nl.hpp"

namespace nsfun::net {

namespace {

result<std::pair<Link, Link>> create_impl(const Rtnl& rtnl,
                                          std::string_view name,
                                          std::string_view peer_name,
                                          const Rtnl* peer_rtnl);

}  // namespace

Veth::Veth(Link first, Link peer, std::string_view name, std::string_view peer_name)
    : first_(std::move(first)),
      peer_(std::move(peer)),
      name_(name),
      peer_name_(peer_name),
      owned_(true) {}

Veth::Veth(Veth&& other) noexcept
    : first_(std::move(other.first_)),
      peer_(std::move(other.peer_)),
      name_(std::move(other.name_)),
      peer_name_(std::move(other.peer_name_)),
      owned_(std::exchange(other.owned_, false)) {}

Veth& Veth::operator=(Veth&& other) noexcept {
  if (this != &other) {
    (void)remove();
    first_ = std::move(other.first_);
    peer_ = std::move(other.peer_);
    name_ = std::move(other.name_);
    peer_name_ = std::move(other.peer_name_);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

Veth::~Veth() {
  try {
    (void)remove();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor reports nothing
  }
}

result<void> Veth::remove() {
  if (!owned_) {
    return success();
  }
  owned_ = false;
  auto first = first_.remove();
  if (first || !(first.error() == std::errc::no_such_device)) {
    return first;
  }
  // The first end is gone from where we knew it (moved by someone else): try the peer.
  return peer_.remove();
}

std::pair<Link, Link> Veth::release() noexcept {
  owned_ = false;
  return {std::move(first_), std::move(peer_)};
}

result<void> Veth::move_peer(const Rtnl& target) {
  NSFUN_TRYV(peer_.move_to(target.netns()));
  NSFUN_TRY(peer_, Link::by_name(target, peer_name_));
  return success();
}

result<Veth> Veth::create(const Rtnl& rtnl, std::string_view name, std::string_view peer_name) {
  NSFUN_TRY(auto ends, create_impl(rtnl, name, peer_name, nullptr));
  return Veth(std::move(ends.first), std::move(ends.second), name, peer_name);
}

result<Veth> Veth::create(const Rtnl& rtnl,
                          std::string_view name,
                          std::string_view peer_name,
                          const Rtnl& peer_rtnl) {
  if (!peer_rtnl) {
    return errno_error(EBADF, "RTM_NEWLINK");
  }
  NSFUN_TRY(auto ends, create_impl(rtnl, name, peer_name, &peer_rtnl));
  return Veth(std::move(ends.first), std::move(ends.second), name, peer_name);
}

namespace {

result<std::pair<Link, Link>> create_impl(const Rtnl& rtnl,
                                          std::string_view name,
                                          std::string_view peer_name,
                                          const Rtnl* peer_rtnl) {
  NSFUN_TRYV(check_ifname(name));
  NSFUN_TRYV(check_ifname(peer_name));
  const Rtnl& peer_side = peer_rtnl != nullptr ? *peer_rtnl : rtnl;
  {
    detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
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
    NSFUN_TRYV(rtnl.request(m.hdr(), "RTM_NEWLINK"));
  }
  auto first = Link::by_name(rtnl, name);
  if (!first) {
    detail::delete_by_name(rtnl, name);
    return std::move(first).as_failure();
  }
  auto peer = Link::by_name(peer_side, peer_name);
  if (!peer) {
    (void)first.value().remove();
    return std::move(peer).as_failure();
  }
  return std::pair<Link, Link>(std::move(first).value(), std::move(peer).value());
}

}  // namespace

}  // namespace nsfun::net

// SPDX-License-Identifier: MIT
// nsfun::net – Veth: creating a pair (optionally across namespaces) and deleting it.

#include <cerrno>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/veth.hpp>

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
      name_(std::exchange(other.name_, std::string())),
      peer_name_(std::exchange(other.peer_name_, std::string())),
      owned_(std::exchange(other.owned_, false)) {}

Veth& Veth::operator=(Veth&& other) noexcept {
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

Veth::~Veth() {
  destroy();
}

void Veth::destroy() noexcept {
  try {
    (void)remove();
  } catch (...) {  // NOLINT(bugprone-empty-catch): bad_alloc naming an error; nothing to report
  }
  // remove() empties the handle before anything that can throw; this is for the record.
  owned_ = false;
}

result<void> Veth::remove() {
  if (!owned_) {
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

std::pair<Link, Link> Veth::release() noexcept {
  owned_ = false;
  name_.clear();
  peer_name_.clear();
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
    return errno_error(EBADF, "RTM_NEWLINK")
        .on(name, " peer ", peer_name)
        .because("empty Rtnl handle for the peer");
  }
  NSFUN_TRY(auto ends, create_impl(rtnl, name, peer_name, &peer_rtnl));
  return Veth(std::move(ends.first), std::move(ends.second), name, peer_name);
}

namespace {

// Names what a failed RTM_NEWLINK for a pair was about: "nsft0 peer nsft1", or for a name that
// is taken, that one ("nsft0", "peer nsft1"): the kernel says File exists without saying which.
void name_veth(error& e,
               const Rtnl& rtnl,
               std::string_view name,
               const Rtnl& peer_side,
               std::string_view peer_name) {
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
    auto made = rtnl.request(m.hdr(), "RTM_NEWLINK");
    if (!made) {
      name_veth(made.assume_error(), rtnl, name, peer_side, peer_name);
      return std::move(made).as_failure();
    }
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

// SPDX-License-Identifier: MIT
// nsfun::net – bridges: the implementation (see <nsfun/config.hpp>). Create (owned) / attach /
// detach / remove.
#pragma once

#include <cerrno>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/bridge.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

NSFUN_INLINE Bridge::Bridge(Link link, std::string name) noexcept
    : link_(std::move(link)), name_(std::move(name)), owned_(true) {}

NSFUN_INLINE result<Bridge> Bridge::create(const Rtnl& rtnl, std::string_view name) noexcept {
  NSFUN_TRYV(check_ifname(name));
  detail::Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  m.put_str(IFLA_IFNAME, name);
  nlattr* linkinfo = m.nest_start(IFLA_LINKINFO);
  m.put_str(IFLA_INFO_KIND, "bridge");
  m.nest_end(linkinfo);
  NSFUN_TRYV(
      with_context(rtnl.request(m.hdr(), "RTM_NEWLINK"), [&](error& e) noexcept { e.on(name); }));
  auto made = Link::by_name(rtnl, name);
  if (!made) {
    detail::delete_by_name(rtnl, name);  // nothing is left on error
    return std::move(made).as_failure();
  }
  std::string n;
  try {
    n = name;
  } catch (const std::bad_alloc&) {
    (void)made.assume_value().remove();
    return errno_error(ENOMEM, "RTM_NEWLINK").on(name);
  }
  return Bridge(std::move(made).assume_value(), std::move(n));
}

NSFUN_INLINE Bridge::Bridge(Bridge&& other) noexcept
    : link_(std::move(other.link_)),
      name_(std::exchange(other.name_, std::string())),
      owned_(std::exchange(other.owned_, false)) {}

NSFUN_INLINE Bridge& Bridge::operator=(Bridge&& other) noexcept {
  if (this != &other) {
    destroy();  // our own bridge first
    link_ = std::move(other.link_);
    name_ = std::exchange(other.name_, std::string());
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE Bridge::~Bridge() {
  destroy();
}

NSFUN_INLINE void Bridge::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
}

NSFUN_INLINE result<void> Bridge::attach(const Link& port) const noexcept {
  return port.set_master(link_);
}

NSFUN_INLINE result<void> Bridge::detach(const Link& port) const noexcept {
  return port.clear_master();
}

NSFUN_INLINE result<void> Bridge::remove() noexcept {
  if (link_.index() <= 0) {
    return success();
  }
  // Empty the handle first (these moves cannot throw), so that it is empty however this ends.
  owned_ = false;
  Link link = std::move(link_);
  name_.clear();
  return link.remove();
}

NSFUN_INLINE void Bridge::keep() noexcept {
  owned_ = false;
}

namespace bridge {

NSFUN_INLINE result<Bridge> create(const Rtnl& rtnl, std::string_view name) noexcept {
  return Bridge::create(rtnl, name);
}

NSFUN_INLINE result<void> attach(const Link& bridge, const Link& port) noexcept {
  return port.set_master(bridge);
}

NSFUN_INLINE result<void> detach(const Link& port) noexcept {
  return port.clear_master();
}

}  // namespace bridge

}  // namespace nsfun::net

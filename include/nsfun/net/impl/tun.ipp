// SPDX-License-Identifier: MIT
// nsfun::net – Tun: the implementation (see <nsfun/config.hpp>). /dev/net/tun and its ioctls.
#pragma once

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/tun.hpp>

namespace nsfun::net {

namespace detail {

// An ioctl on the tun fd with an integer argument; a failure names the device.
inline result<void> tun_ioctl(int fd,
                              unsigned long request,
                              unsigned long arg,
                              std::string_view step,
                              std::string_view name) noexcept {
  if (::ioctl(fd, request, arg) < 0) {
    return errno_error(errno, step).on(name);
  }
  return success();
}

// The fd of a new tun/tap device, opened and attached on the calling thread (whose network
// namespace the device is born in); `name` becomes the kernel's name for it.
inline result<UniqueFd> tun_open(std::string& name, const TunOptions& o) noexcept {
  int raw = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (raw < 0) {
    return errno_error(errno, "open /dev/net/tun");
  }
  UniqueFd fd = UniqueFd::adopt(raw);  // owns: just opened
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());  // checked: at most IFNAMSIZ - 1
  unsigned flags = o.type == TunType::tap ? IFF_TAP : IFF_TUN;
  if (!o.pi) {
    flags |= IFF_NO_PI;
  }
  if (o.multi_queue) {
    flags |= IFF_MULTI_QUEUE;
  }
  if (o.vnet_hdr) {
    flags |= IFF_VNET_HDR;
  }
  ifr.ifr_flags = static_cast<short>(flags);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    return errno_error(errno, "TUNSETIFF").on(name.empty() ? std::string_view("(new)") : name);
  }
  name.assign(ifr.ifr_name, ::strnlen(ifr.ifr_name, sizeof(ifr.ifr_name)));
  if (o.owner) {
    NSFUN_TRYV(tun_ioctl(fd.get(), TUNSETOWNER, *o.owner, "TUNSETOWNER", name));
  }
  if (o.group) {
    NSFUN_TRYV(tun_ioctl(fd.get(), TUNSETGROUP, *o.group, "TUNSETGROUP", name));
  }
  if (o.persist) {
    NSFUN_TRYV(tun_ioctl(fd.get(), TUNSETPERSIST, 1, "TUNSETPERSIST", name));
  }
  return fd;
}

}  // namespace detail

NSFUN_INLINE result<Tun> Tun::create(const Rtnl& rtnl,
                                     std::string_view name,
                                     const TunOptions& options) noexcept {
  try {
    if (!name.empty()) {
      NSFUN_TRYV(check_ifname(name));
    }
    if (!rtnl) {
      return errno_error(EBADF, "TUNSETIFF").on(name).because("empty Rtnl handle");
    }
    std::string kernel_name(name);
    NSFUN_TRY(auto fd, nsfun::detail::run_in_known(
                           rtnl.netns(), [&] { return detail::tun_open(kernel_name, options); }));
    auto link = Link::by_name(rtnl, kernel_name);
    if (!link) {
      if (options.persist) {
        (void)detail::tun_ioctl(fd.get(), TUNSETPERSIST, 0, "TUNSETPERSIST", kernel_name);
      }
      return std::move(link).as_failure();  // closing fd deletes the device
    }
    Tun t;
    t.fd_ = std::move(fd);
    t.link_ = std::move(link).assume_value();
    t.name_ = std::move(kernel_name);
    t.persist_ = options.persist;
    t.owned_ = true;
    return t;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "TUNSETIFF").on(name);
  }
}

NSFUN_INLINE Tun::Tun(Tun&& other) noexcept
    : fd_(std::move(other.fd_)),
      link_(std::move(other.link_)),
      name_(std::exchange(other.name_, std::string())),
      persist_(std::exchange(other.persist_, false)),
      owned_(std::exchange(other.owned_, false)) {}

NSFUN_INLINE Tun& Tun::operator=(Tun&& other) noexcept {
  if (this != &other) {
    destroy();
    fd_ = std::move(other.fd_);
    link_ = std::move(other.link_);
    name_ = std::exchange(other.name_, std::string());
    persist_ = std::exchange(other.persist_, false);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE Tun::~Tun() {
  destroy();
}

NSFUN_INLINE void Tun::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
}

NSFUN_INLINE result<void> Tun::remove() noexcept {
  if (link_.index() <= 0 && !fd_) {
    return success();
  }
  owned_ = false;
  Link link = std::move(link_);
  UniqueFd fd = std::move(fd_);
  name_.clear();
  persist_ = false;
  auto removed = link.remove();
  // A device that is not persistent may be gone already only if someone deleted it; closing
  // the fd (when this returns) finishes it either way.
  return removed;
}

NSFUN_INLINE result<void> Tun::keep() noexcept {
  if (!persist_ && fd_) {
    NSFUN_TRYV(detail::tun_ioctl(fd_.get(), TUNSETPERSIST, 1, "TUNSETPERSIST", name_));
    persist_ = true;
  }
  owned_ = false;
  return success();
}

NSFUN_INLINE result<void> Tun::move_to(const Rtnl& target) noexcept {
  NSFUN_TRYV(link_.move_to(target.netns()));
  NSFUN_TRY(link_, Link::by_name(target, name_));
  return success();
}

}  // namespace nsfun::net

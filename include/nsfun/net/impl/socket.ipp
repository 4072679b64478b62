// SPDX-License-Identifier: MIT
// nsfun::net – sockets in a namespace and socket addresses: the implementation (see
// <nsfun/config.hpp>).
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <new>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/socket.hpp>

namespace nsfun::net {

namespace detail {

inline error bad_socket_address(std::string_view text, std::string_view why) noexcept {
  return errno_error(EINVAL, "parse socket address").on('"', text, '"').because(why);
}

// The address a socket is bound to, for errors ("" when it cannot be read).
inline std::string local_label(FdRef fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return {};
  }
  auto a = SocketAddress::from_sockaddr(ss, len);
  return a ? a.assume_value().to_string() : std::string();
}

}  // namespace detail

NSFUN_INLINE SocketAddress::SocketAddress(const IpAddress& ip,
                                          std::uint16_t port,
                                          std::uint32_t scope_id) noexcept {
  if (ip.family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, ip.bytes.data(), 4);
    std::memcpy(&storage_, &sin, sizeof(sin));
    size_ = sizeof(sin);
  } else if (ip.family == AF_INET6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_scope_id = scope_id;
    std::memcpy(&sin6.sin6_addr, ip.bytes.data(), 16);
    std::memcpy(&storage_, &sin6, sizeof(sin6));
    size_ = sizeof(sin6);
  }
}

NSFUN_INLINE result<SocketAddress> SocketAddress::from_sockaddr(const sockaddr* sa,
                                                                socklen_t len) noexcept {
  constexpr std::string_view step = "read socket address";
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) {
    return errno_error(EINVAL, step).because("no address");
  }
  sa_family_t family = 0;
  std::memcpy(&family, sa, sizeof(family));
  SocketAddress a;
  if (family == AF_INET) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) {
      return errno_error(EINVAL, step).because("too short for sockaddr_in (", len, " bytes)");
    }
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
    a.size_ = sizeof(sockaddr_in);
    return a;
  }
  if (family == AF_INET6) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in6))) {
      return errno_error(EINVAL, step).because("too short for sockaddr_in6 (", len, " bytes)");
    }
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
    a.size_ = sizeof(sockaddr_in6);
    return a;
  }
  return errno_error(EAFNOSUPPORT, step).on("family ", family);
}

NSFUN_INLINE result<SocketAddress> SocketAddress::from_sockaddr(const sockaddr_storage& ss,
                                                                socklen_t len) noexcept {
  return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

NSFUN_INLINE result<SocketAddress> SocketAddress::parse(std::string_view text) noexcept {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return detail::bad_socket_address(text, "no ']' after the IPv6 address");
    }
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return detail::bad_socket_address(text, "no ':PORT' after ']'");
    }
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return detail::bad_socket_address(text, "no ':PORT'");
    }
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return detail::bad_socket_address(text, "an IPv6 address needs brackets: [ADDRESS]:PORT");
    }
    port = text.substr(colon + 1);
  }
  std::uint32_t scope = 0;
  auto percent = host.find('%');
  if (percent != std::string_view::npos) {
    std::string_view s = host.substr(percent + 1);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), scope);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      return detail::bad_socket_address(text, "the scope after '%' is not an interface index");
    }
    host = host.substr(0, percent);
  }
  auto ip = IpAddress::parse(host);
  if (!ip) {
    return detail::bad_socket_address(text, ip.error().reason());
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return detail::bad_socket_address(text, "port not in 0..65535");
  }
  return SocketAddress(ip.assume_value(), static_cast<std::uint16_t>(value), scope);
}

NSFUN_INLINE int SocketAddress::family() const noexcept {
  return size_ == 0 ? AF_UNSPEC : storage_.ss_family;
}

NSFUN_INLINE IpAddress SocketAddress::ip() const noexcept {
  IpAddress ip;
  if (family() == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage_, sizeof(sin));
    ip.family = AF_INET;
    std::memcpy(ip.bytes.data(), &sin.sin_addr, 4);
  } else if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof(sin6));
    ip.family = AF_INET6;
    std::memcpy(ip.bytes.data(), &sin6.sin6_addr, 16);
  }
  return ip;
}

NSFUN_INLINE std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage_, sizeof(sin));
    return ntohs(sin.sin_port);
  }
  if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof(sin6));
    return ntohs(sin6.sin6_port);
  }
  return 0;
}

NSFUN_INLINE std::uint32_t SocketAddress::scope_id() const noexcept {
  if (family() != AF_INET6) {
    return 0;
  }
  sockaddr_in6 sin6{};
  std::memcpy(&sin6, &storage_, sizeof(sin6));
  return sin6.sin6_scope_id;
}

NSFUN_INLINE std::string SocketAddress::to_string() const {
  if (family() == AF_INET) {
    return ip().to_string() + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    std::string s = "[" + ip().to_string();
    if (scope_id() != 0) {
      s += "%" + std::to_string(scope_id());
    }
    return s + "]:" + std::to_string(port());
  }
  return {};
}

NSFUN_INLINE bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

NSFUN_INLINE result<UniqueFd> socket_in(const NetNs& ns,
                                        int domain,
                                        int type,
                                        int protocol) noexcept {
  if (!ns) {
    return errno_error(EBADF, "socket").because("empty NetNs handle");
  }
  try {
    auto fd = nsfun::detail::run_in_known(ns, [=]() -> result<UniqueFd> {
      int raw = ::socket(domain, type | SOCK_CLOEXEC, protocol);
      if (raw < 0) {
        return errno_error(errno, "socket");
      }
      return UniqueFd::adopt(raw);  // owns: just created
    });
    if (!fd && fd.error().object().empty()) {
      fd.assume_error().on("in net:[", ns.identity().ino(), "]");
    }
    return fd;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "socket");
  }
}

NSFUN_INLINE result<void> bind(FdRef fd, const SocketAddress& address) noexcept {
  if (!address) {
    return errno_error(EINVAL, "bind").because("an empty SocketAddress");
  }
  if (::bind(fd.get(), address.data(), address.size()) < 0) {
    try {
      return errno_error(errno, "bind").on(address.to_string());
    } catch (const std::bad_alloc&) {
      return errno_error(errno, "bind");
    }
  }
  return success();
}

NSFUN_INLINE result<void> connect(FdRef fd, const SocketAddress& address) noexcept {
  if (!address) {
    return errno_error(EINVAL, "connect").because("an empty SocketAddress");
  }
  int r;
  do {
    r = ::connect(fd.get(), address.data(), address.size());
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    try {
      return errno_error(err, "connect").on(address.to_string());
    } catch (const std::bad_alloc&) {
      return errno_error(err, "connect");
    }
  }
  return success();
}

NSFUN_INLINE result<void> connect(FdRef fd,
                                  const SocketAddress& address,
                                  std::chrono::milliseconds timeout) noexcept {
  if (!address) {
    return errno_error(EINVAL, "connect").because("an empty SocketAddress");
  }
  auto fail = [&](int err) noexcept -> error {
    try {
      return errno_error(err, "connect").on(address.to_string());
    } catch (const std::bad_alloc&) {
      return errno_error(err, "connect");
    }
  };
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0) {
    return fail(errno);
  }
  bool was_blocking = (flags & O_NONBLOCK) == 0;
  if (was_blocking && ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return fail(errno);
  }
  auto restore = [&]() noexcept {
    if (was_blocking) {
      (void)::fcntl(fd.get(), F_SETFL, flags);
    }
  };
  auto start = std::chrono::steady_clock::now();
  int r = ::connect(fd.get(), address.data(), address.size());
  if (r == 0) {
    restore();
    return success();
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    int err = errno;
    restore();
    return fail(err);
  }
  for (;;) {
    int ms = -1;
    if (timeout.count() >= 0) {
      auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start);
      ms = left.count() < 0 ? 0 : static_cast<int>(left.count());
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int ready = ::poll(&p, 1, ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      int err = errno;
      restore();
      return fail(err);
    }
    if (ready == 0) {
      restore();
      return fail(ETIMEDOUT).with_note("after ", timeout.count(), " ms");
    }
    break;
  }
  int so_error = 0;
  socklen_t len = sizeof(so_error);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) {
    so_error = errno;
  }
  restore();
  if (so_error != 0) {
    return fail(so_error);
  }
  return success();
}

NSFUN_INLINE result<void> listen(FdRef fd, int backlog) noexcept {
  if (::listen(fd.get(), backlog) < 0) {
    int err = errno;
    try {
      return errno_error(err, "listen").on(detail::local_label(fd));
    } catch (const std::bad_alloc&) {
      return errno_error(err, "listen");
    }
  }
  return success();
}

NSFUN_INLINE result<Accepted> accept(FdRef listener) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int raw;
  do {
    raw = ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) {
    int err = errno;
    try {
      return errno_error(err, "accept").on("on ", detail::local_label(listener));
    } catch (const std::bad_alloc&) {
      return errno_error(err, "accept");
    }
  }
  Accepted a;
  a.fd = UniqueFd::adopt(raw);  // owns: accept4 made it
  auto peer = SocketAddress::from_sockaddr(ss, len);
  if (peer) {
    a.peer = peer.assume_value();
  }
  return a;
}

NSFUN_INLINE result<SocketAddress> local_address(FdRef fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return errno_error(errno, "getsockname").on("fd ", fd.get());
  }
  return SocketAddress::from_sockaddr(ss, len);
}

NSFUN_INLINE result<SocketAddress> peer_address(FdRef fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return errno_error(errno, "getpeername").on("fd ", fd.get());
  }
  return SocketAddress::from_sockaddr(ss, len);
}

NSFUN_INLINE result<UniqueFd> listen_in(const NetNs& ns,
                                        const SocketAddress& address,
                                        int type,
                                        int backlog) noexcept {
  NSFUN_TRY(auto fd, socket_in(ns, address.family(), type));
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  NSFUN_TRYV(bind(fd, address));
  if ((type & 0xf) == SOCK_STREAM) {
    NSFUN_TRYV(listen(fd, backlog));
  }
  return fd;
}

NSFUN_INLINE result<UniqueFd> connect_in(const NetNs& ns,
                                         const SocketAddress& address,
                                         std::chrono::milliseconds timeout) noexcept {
  NSFUN_TRY(auto fd, socket_in(ns, address.family(), SOCK_STREAM));
  NSFUN_TRYV(connect(fd, address, timeout));
  return fd;
}

}  // namespace nsfun::net

// SPDX-License-Identifier: MIT
// nsfun::net – sockets made inside a network namespace, socket addresses (IP and port), and
// bind / connect / listen / accept that name the address in their errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::net {

/// An IPv4 or IPv6 socket address: an IpAddress, a port and (IPv6) a scope id; the bytes of a
/// sockaddr_in or sockaddr_in6 inside, for the socket calls (data(), size()).
class SocketAddress {
 public:
  /// An empty address (AF_UNSPEC, size() 0).
  SocketAddress() noexcept = default;

  /// `ip`:`port` (host byte order); `scope_id` is the interface index of an IPv6 link-local
  /// address (fe80::1%eth0), ignored for IPv4. An empty `ip` gives an empty address.
  SocketAddress(const IpAddress& ip, std::uint16_t port, std::uint32_t scope_id = 0) noexcept;

  /// The address in a sockaddr (what accept(2), getsockname(2) or recvfrom(2) filled in).
  /// Errors: std::errc::address_family_not_supported (not AF_INET / AF_INET6),
  /// std::errc::invalid_argument (`len` too short for the family).
  [[nodiscard]] static result<SocketAddress> from_sockaddr(const sockaddr* sa,
                                                           socklen_t len) noexcept;

  [[nodiscard]] static result<SocketAddress> from_sockaddr(const sockaddr_storage& ss,
                                                           socklen_t len) noexcept;

  /// Parses "10.0.0.1:80" or "[fd00::1]:80" (as to_string() prints them). Errors:
  /// std::errc::invalid_argument, step "parse socket address", the quoted text as object and
  /// what is wrong as reason.
  [[nodiscard]] static result<SocketAddress> parse(std::string_view text) noexcept;

  /// AF_INET, AF_INET6, or AF_UNSPEC when empty.
  [[nodiscard]] int family() const noexcept;

  [[nodiscard]] IpAddress ip() const noexcept;

  /// In host byte order.
  [[nodiscard]] std::uint16_t port() const noexcept;

  [[nodiscard]] std::uint32_t scope_id() const noexcept;

  /// The sockaddr for bind(2), connect(2), sendto(2); size() bytes of it are set.
  [[nodiscard]] const sockaddr* data() const noexcept {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }

  /// sizeof(sockaddr_in), sizeof(sockaddr_in6), or 0 when empty.
  [[nodiscard]] socklen_t size() const noexcept { return size_; }

  /// A copy of the whole storage.
  [[nodiscard]] const sockaddr_storage& storage() const noexcept { return storage_; }

  /// "10.0.0.1:80", "[fd00::1]:80", "[fe80::1%2]:80" (the scope as an index); "" when empty.
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] explicit operator bool() const noexcept { return size_ != 0; }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

/// A socket (SOCK_CLOEXEC always added) that belongs to the network namespace `ns`, made from
/// any thread: it is created on a thread that entered `ns` (as Rtnl::open(ns)); none of the
/// caller's threads is left in another namespace. The socket stays in `ns` for good, whatever
/// thread uses it: bind, connect and listen then act there.
/// Wraps: socket(2). Needs: CAP_SYS_ADMIN over `ns` (setns).
/// Errors: std::errc::bad_file_descriptor (empty `ns`), those of setns(2) and socket(2), naming
/// the namespace: "socket in net:[4026532301]: Address family not supported by protocol".
[[nodiscard]] result<UniqueFd> socket_in(const NetNs& ns,
                                         int domain,
                                         int type,
                                         int protocol = 0) noexcept;

/// bind(2). Errors name the address: "bind 10.0.0.1:80: Address already in use".
[[nodiscard]] result<void> bind(FdRef fd, const SocketAddress& address) noexcept;

/// connect(2), as the socket is (a non-blocking one fails with
/// std::errc::operation_in_progress). Errors name the address: "connect 10.0.0.2:5000:
/// Connection refused".
[[nodiscard]] result<void> connect(FdRef fd, const SocketAddress& address) noexcept;

/// connect(2) with a time limit, on a blocking or non-blocking socket (left as it was).
/// Errors: std::errc::timed_out ("connect 10.0.0.2:5000: Connection timed out (after 500
/// ms)"), and the connection's own (SO_ERROR), naming the address.
[[nodiscard]] result<void> connect(FdRef fd,
                                   const SocketAddress& address,
                                   std::chrono::milliseconds timeout) noexcept;

/// listen(2). Errors name the socket's address: "listen 10.0.0.1:80: …".
[[nodiscard]] result<void> listen(FdRef fd, int backlog = SOMAXCONN) noexcept;

/// A connection accept() took: its socket (SOCK_CLOEXEC) and the peer's address.
struct Accepted {
  UniqueFd fd;
  SocketAddress peer;
};

/// accept4(2) with SOCK_CLOEXEC. Errors name the listening address ("accept on 10.0.0.1:80:
/// Resource temporarily unavailable" on a non-blocking socket with none waiting).
[[nodiscard]] result<Accepted> accept(FdRef listener) noexcept;

/// getsockname(2) / getpeername(2) as a SocketAddress.
[[nodiscard]] result<SocketAddress> local_address(FdRef fd) noexcept;

[[nodiscard]] result<SocketAddress> peer_address(FdRef fd) noexcept;

/// A listening TCP socket (or a bound UDP one, `type` SOCK_DGRAM) in `ns` on `address`, with
/// SO_REUSEADDR: socket_in + bind + listen. Errors: those of the three.
[[nodiscard]] result<UniqueFd> listen_in(const NetNs& ns,
                                         const SocketAddress& address,
                                         int type = SOCK_STREAM,
                                         int backlog = SOMAXCONN) noexcept;

/// A TCP socket in `ns` connected to `address` within `timeout`: socket_in + connect.
[[nodiscard]] result<UniqueFd> connect_in(const NetNs& ns,
                                          const SocketAddress& address,
                                          std::chrono::milliseconds timeout) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/socket.ipp>
#endif

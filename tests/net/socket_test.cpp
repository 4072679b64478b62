// SPDX-License-Identifier: MIT
// nsfun::net tests – SocketAddress conversions, socket_in (the socket's namespace checked with
// SIOCGSKNS, the caller's thread unmoved), bind / connect / listen / accept across namespaces,
// errors that name the address, fd hygiene. Privileged cases run in a forked child, in
// namespaces they acquired.

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <string>

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
#include <nsfun/net/net.hpp>
#include <nsfun/net/socket.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::SocketAddress;
using nsfun::net::Veth;
using std::chrono::milliseconds;

std::string text(const nsfun::error& e) {
  return fmt::format("{}", e);
}

// The inode of the network namespace a socket belongs to (SIOCGSKNS), or 0.
std::uint64_t socket_netns_ino(int fd) {
  int ns = ::ioctl(fd, SIOCGSKNS);
  if (ns < 0) {
    return 0;
  }

  struct stat st {};

  std::uint64_t ino = ::fstat(ns, &st) == 0 ? st.st_ino : 0;
  ::close(ns);
  return ino;
}

}  // namespace

TEST_SUITE("socket") {
  TEST_CASE("SocketAddress: from an IpAddress and port, to sockaddr_in / sockaddr_in6 and back") {
    auto v4 = SocketAddress(IpAddress::parse("10.0.0.1").value(), 80);
    CHECK(v4.family() == AF_INET);
    CHECK(v4.size() == sizeof(sockaddr_in));
    CHECK(v4.to_string() == "10.0.0.1:80");
    sockaddr_in sin{};
    std::memcpy(&sin, v4.data(), sizeof(sin));
    CHECK(sin.sin_family == AF_INET);
    CHECK(sin.sin_port == htons(80));
    CHECK(sin.sin_addr.s_addr == inet_addr("10.0.0.1"));

    auto v6 = SocketAddress(IpAddress::parse("fe80::1").value(), 80);
    CHECK(v6.size() == sizeof(sockaddr_in6));
    CHECK(v6.to_string() == "[fe80::1]:80");
    auto scoped = SocketAddress(IpAddress::parse("fe80::1").value(), 443, 2);
    CHECK(scoped.scope_id() == 2);
    CHECK(scoped.to_string() == "[fe80::1%2]:443");
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, scoped.data(), sizeof(sin6));
    CHECK(sin6.sin6_port == htons(443));
    CHECK(sin6.sin6_scope_id == 2);

    // Back from a sockaddr_storage, as accept or getsockname fill it in.
    sockaddr_storage ss{};
    std::memcpy(&ss, v6.data(), v6.size());
    auto back = SocketAddress::from_sockaddr(ss, static_cast<socklen_t>(sizeof(sockaddr_in6)));
    REQUIRE(back);
    CHECK(back.value() == v6);
    CHECK(back.value().ip() == IpAddress::parse("fe80::1").value());
    CHECK(back.value().port() == 80);
    CHECK(SocketAddress::from_sockaddr(ss, 8).error() == std::errc::invalid_argument);
    sockaddr_storage unix_addr{};
    unix_addr.ss_family = AF_UNIX;
    CHECK(SocketAddress::from_sockaddr(unix_addr, sizeof(unix_addr)).error() ==
          std::errc::address_family_not_supported);

    // Parsed, as printed.
    for (const char* s : {"10.0.0.1:80", "[fd00::1]:5000", "[fe80::1%3]:22", "0.0.0.0:0",
                          "255.255.255.255:65535"}) {
      auto p = SocketAddress::parse(s);
      REQUIRE_MESSAGE(p, s);
      CHECK(p.value().to_string() == s);
    }
    CHECK(SocketAddress::parse("10.0.0.1:80").value() == v4);
    CHECK(text(SocketAddress::parse("10.0.0.1").error()) ==
          "parse socket address \"10.0.0.1\": no ':PORT'");
    CHECK(text(SocketAddress::parse("10.0.0.1:65536").error()) ==
          "parse socket address \"10.0.0.1:65536\": port not in 0..65535");
    CHECK(text(SocketAddress::parse("fd00::1:80").error()) ==
          "parse socket address \"fd00::1:80\": an IPv6 address needs brackets: [ADDRESS]:PORT");
    CHECK(text(SocketAddress::parse("[fd00::1]").error()) ==
          "parse socket address \"[fd00::1]\": no ':PORT' after ']'");
    CHECK(text(SocketAddress::parse("10.0.0.256:1").error()) ==
          "parse socket address \"10.0.0.256:1\": not an IPv4 address");
    CHECK(SocketAddress::parse("[fe80::1%x]:1").error() == std::errc::invalid_argument);
    CHECK(SocketAddress::parse("10.0.0.1:").error() == std::errc::invalid_argument);
    CHECK(SocketAddress::parse("").error() == std::errc::invalid_argument);

    SocketAddress empty;
    CHECK(!empty);
    CHECK(empty.family() == AF_UNSPEC);
    CHECK(empty.to_string().empty());
    CHECK(SocketAddress(IpAddress{}, 80).size() == 0);
  }

  TEST_CASE("socket_in: the socket is in the namespace, the calling thread never moved") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      const std::uint64_t here = t::link_ino("/proc/thread-self", "net");
      const std::size_t fds = t::open_fd_count();
      {
        NET_TRY(auto fd, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM, 0));
        NSFUN_EXPECT(socket_netns_ino(fd.get()) == a.ns.identity().ino());
        NSFUN_EXPECT(socket_netns_ino(fd.get()) != here);
        NSFUN_EXPECT((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);  // forced
        NET_TRY(auto udp6, nsfun::net::socket_in(a.ns, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK));
        NSFUN_EXPECT((::fcntl(udp6.get(), F_GETFL) & O_NONBLOCK) != 0);
        NSFUN_EXPECT(socket_netns_ino(udp6.get()) == a.ns.identity().ino());
        // An address only that namespace has can be bound there.
        NSFUN_EXPECT_OK(nsfun::net::add_address(nsfun::net::Link::by_name(a.rtnl, "lo").value(),
                                                IpPrefix::parse("10.200.90.1/32").value()));
        NSFUN_EXPECT_OK(nsfun::net::bind(fd, SocketAddress::parse("10.200.90.1:7000").value()));
        NET_TRY(auto local, nsfun::net::local_address(fd));
        NSFUN_EXPECT(local.to_string() == "10.200.90.1:7000");
      }
      NSFUN_EXPECT(t::link_ino("/proc/thread-self", "net") == here);
      NSFUN_EXPECT(t::open_fd_count() == fds);
      auto bad = nsfun::net::socket_in(a.ns, 12345, SOCK_STREAM, 0);
      NSFUN_EXPECT(bad.error() == std::errc::address_family_not_supported);
      NSFUN_EXPECT(nt::text_is(bad.error(), "socket in net:[" +
                                                std::to_string(a.ns.identity().ino()) +
                                                "]: Address family not supported by protocol"));
      NSFUN_EXPECT(nsfun::net::socket_in(nsfun::NetNs(), AF_INET, SOCK_STREAM).error() ==
                   std::errc::bad_file_descriptor);
      return 0;
    });
  }

  TEST_CASE("listen in one namespace, connect from another, over a veth: peers as expected") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto client, nt::make_ns());
      NET_TRY(auto server, nt::make_ns());
      nsfun::net::VethOptions o;
      o.wait_running = milliseconds(2000);
      NET_TRY(auto v, Veth::create(client.rtnl, "nsftsk0", "nsftsk1", server.rtnl, o));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.91.1/24").value()));
      NSFUN_EXPECT_OK(nsfun::net::add_address(v.peer(), IpPrefix::parse("10.200.91.2/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.first(), IpPrefix::parse("fd00:91::1/64").value(), true));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.peer(), IpPrefix::parse("fd00:91::2/64").value(), true));
      for (const char* where : {"10.200.91.2:5001", "[fd00:91::2]:5002"}) {
        auto to = SocketAddress::parse(where).value();
        NET_TRY(auto listener, nsfun::net::listen_in(server.ns, to));
        NET_TRY(auto conn, nsfun::net::connect_in(client.ns, to, milliseconds(2000)));
        NET_TRY(auto accepted, nsfun::net::accept(listener));
        NET_TRY(auto peer, nsfun::net::peer_address(conn));
        NSFUN_EXPECT(peer == to);
        NET_TRY(auto local, nsfun::net::local_address(conn));
        NSFUN_EXPECT(accepted.peer == local);
        NSFUN_EXPECT(accepted.peer.ip().to_string() ==
                     (to.family() == AF_INET ? "10.200.91.1" : "fd00:91::1"));
        NSFUN_EXPECT((::fcntl(accepted.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
        NSFUN_EXPECT(socket_netns_ino(accepted.fd.get()) == server.ns.identity().ino());
      }
      // The plain forms, on a blocking socket made by socket_in.
      auto to = SocketAddress::parse("10.200.91.2:5003").value();
      NET_TRY(auto srv, nsfun::net::socket_in(server.ns, AF_INET, SOCK_STREAM));
      NSFUN_EXPECT_OK(nsfun::net::bind(srv, to));
      NSFUN_EXPECT_OK(nsfun::net::listen(srv, 4));
      NET_TRY(auto cli, nsfun::net::socket_in(client.ns, AF_INET, SOCK_STREAM));
      NSFUN_EXPECT_OK(nsfun::net::connect(cli, to));
      NSFUN_EXPECT_OK(nsfun::net::accept(srv));
      // UDP with listen_in: bound, no listen.
      NET_TRY(auto udp, nsfun::net::listen_in(server.ns, to, SOCK_DGRAM));
      NSFUN_EXPECT(nsfun::net::local_address(udp).value() == to);
      return 0;
    });
  }

  TEST_CASE("errors name the address: refused, timed out, not available, in use") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      auto nobody = SocketAddress::parse("127.0.0.1:5000").value();
      auto refused = nsfun::net::connect_in(a.ns, nobody, milliseconds(1000));
      NSFUN_EXPECT(refused.error() == std::errc::connection_refused);
      NSFUN_EXPECT(nt::text_is(refused.error(), "connect 127.0.0.1:5000: Connection refused"));
      NET_TRY(auto fd, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM));
      NSFUN_EXPECT(nt::text_is(nsfun::net::connect(fd, nobody).error(),
                               "connect 127.0.0.1:5000: Connection refused"));

      // Nobody answers ARP for .99: the connection stays in progress until the time is up.
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftse0", "nsftse1", b.rtnl));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.92.1/24").value()));
      NSFUN_EXPECT_OK(v.first().set_up());
      NSFUN_EXPECT_OK(v.peer().set_up());
      auto silent = SocketAddress::parse("10.200.92.99:5000").value();
      auto t0 = std::chrono::steady_clock::now();
      auto late = nsfun::net::connect_in(a.ns, silent, milliseconds(200));
      auto waited = std::chrono::steady_clock::now() - t0;
      NSFUN_EXPECT(late.error() == std::errc::timed_out);
      NSFUN_EXPECT(nt::text_is(late.error(),
                               "connect 10.200.92.99:5000: Connection timed out (after 200 ms)"));
      NSFUN_EXPECT(waited < std::chrono::milliseconds(600));
      // The socket is left as it was: blocking.
      NET_TRY(auto blocking, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM));
      NSFUN_EXPECT(!nsfun::net::connect(blocking, silent, milliseconds(50)));
      NSFUN_EXPECT((::fcntl(blocking.get(), F_GETFL) & O_NONBLOCK) == 0);

      auto foreign = SocketAddress::parse("10.9.9.9:80").value();
      NET_TRY(auto s, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM));
      auto unbound = nsfun::net::bind(s, foreign);
      NSFUN_EXPECT(unbound.error() == std::errc::address_not_available);
      NSFUN_EXPECT(
          nt::text_is(unbound.error(), "bind 10.9.9.9:80: Cannot assign requested address"));
      auto lo = SocketAddress::parse("127.0.0.1:6000").value();
      NET_TRY(auto first, nsfun::net::listen_in(a.ns, lo));
      NET_TRY(auto second, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM));
      NSFUN_EXPECT(nt::text_is(nsfun::net::bind(second, lo).error(),
                               "bind 127.0.0.1:6000: Address already in use"));
      // accept on a non-blocking listener with none waiting names the listening address.
      NET_TRY(auto nb, nsfun::net::socket_in(a.ns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
      NSFUN_EXPECT_OK(nsfun::net::bind(nb, SocketAddress::parse("127.0.0.1:6001").value()));
      NSFUN_EXPECT_OK(nsfun::net::listen(nb));
      NSFUN_EXPECT(nt::text_is(nsfun::net::accept(nb).error(),
                               "accept on 127.0.0.1:6001: Resource temporarily unavailable"));
      NSFUN_EXPECT(nsfun::net::connect(fd, SocketAddress()).error() == std::errc::invalid_argument);
      return 0;
    });
  }
}

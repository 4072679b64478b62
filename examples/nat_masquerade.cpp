// SPDX-License-Identifier: MIT
// Recipe 9: NAT a namespace to "the world" —
//
//   sysctl -w net.ipv4.ip_forward=1
//   iptables -t nat -A POSTROUTING -s 10.200.9.0/24 -o nsftworld-r -j MASQUERADE
//   ip -n box route add default via 10.200.9.1
//
// Three namespaces of its own, so nothing leaves the host and the host's forwarding, rules and
// routes are never touched: `box` (10.200.9.2) behind `router`, and `world` (203.0.113.2), which
// has no route back to 10.200.9.0/24. A TCP connection from box to world works only because the
// router rewrites its source: world sees the router's address, not box's.
#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <string>

#include <sys/socket.h>
#include <sys/time.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/net/net.hpp>

#include "example_util.hpp"

namespace net = nsfun::net;

namespace {

// A TCP socket of namespace `ns` (the namespace of the thread that creates it).
nsfun::UniqueFd tcp_socket_in(const nsfun::NetNs& ns) {
  auto fd = nsfun::run_in(ns.ns(), [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  nsfun::UniqueFd sock = nsfun::UniqueFd::adopt(fd ? fd.value() : -1);  // owns: just made
  const timeval patience{.tv_sec = 5, .tv_usec = 0};  // connect, send and recv give up then
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof(patience));
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
  return sock;
}

// A veth pair from `a` to `b` with an address on each end, both up.
nsfun::result<net::Veth> cable(const net::Rtnl& a,
                               const char* a_name,
                               const char* a_addr,
                               const net::Rtnl& b,
                               const char* b_name,
                               const char* b_addr) {
  NSFUN_TRY(net::Veth veth, net::Veth::create(a, a_name, b_name, b));
  NSFUN_TRY(auto pa, net::IpPrefix::parse(a_addr));
  NSFUN_TRY(auto pb, net::IpPrefix::parse(b_addr));
  NSFUN_TRYV(net::add_address(veth.first(), pa));
  NSFUN_TRYV(net::add_address(veth.peer(), pb));
  NSFUN_TRYV(veth.first().set_up());
  NSFUN_TRYV(veth.peer().set_up());
  return veth;
}

nsfun::result<int> demo() {
  NSFUN_TRY(nsfun::NetNs box, nsfun::acquire<nsfun::NsType::net>());
  NSFUN_TRY(nsfun::NetNs router, nsfun::acquire<nsfun::NsType::net>());
  NSFUN_TRY(nsfun::NetNs world, nsfun::acquire<nsfun::NsType::net>());
  NSFUN_TRY(auto rbox, net::Rtnl::open(box));
  NSFUN_TRY(auto rrouter, net::Rtnl::open(router));
  NSFUN_TRY(auto rworld, net::Rtnl::open(world));
  NSFUN_TRY(auto inside,
            cable(rbox, "nsftbox", "10.200.9.2/24", rrouter, "nsftbox-r", "10.200.9.1/24"));
  NSFUN_TRY(auto outside,
            cable(rrouter, "nsftworld-r", "203.0.113.1/24", rworld, "nsftworld", "203.0.113.2/24"));
  NSFUN_TRYV(net::sysctl::write(router, "net.ipv4.ip_forward", "1"));
  NSFUN_TRY(auto subnet, net::IpPrefix::parse("10.200.9.0/24"));
  NSFUN_TRY(auto masq, net::Masquerade::create(router, subnet, "nsftworld-r"));
  NSFUN_TRY(auto gateway, net::IpAddress::parse("10.200.9.1"));
  NSFUN_TRYV(net::add_default_route(rbox, gateway));
  std::printf(
      "box 10.200.9.2 -> router 10.200.9.1 | 203.0.113.1 (masquerade, table %s) -> world "
      "203.0.113.2\n",
      masq.table().c_str());

  // world listens; box connects to it through the router; world asks who called.
  nsfun::UniqueFd server = tcp_socket_in(world);
  nsfun::UniqueFd client = tcp_socket_in(box);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(7009);
  ::inet_pton(AF_INET, "203.0.113.2", &sa.sin_addr);
  auto* addr = reinterpret_cast<sockaddr*>(&sa);  // NOLINT: the sockets API
  if (::bind(server.get(), addr, sizeof(sa)) < 0 || ::listen(server.get(), 1) < 0 ||
      ::connect(client.get(), addr, sizeof(sa)) < 0) {
    return nsfun::errno_error(errno, "connect from box to world 203.0.113.2:7009");
  }
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  nsfun::UniqueFd conn = nsfun::UniqueFd::adopt(
      ::accept4(server.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));  // NOLINT
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
  NSFUN_TRY(auto router_side, net::addresses(outside.first(), AF_INET));  // ip -n router addr
  const std::string router_address = router_side.empty() ? "?" : router_side[0].address.to_string();
  std::printf("router's address towards the world: %s\n", router_address.c_str());
  std::printf("world sees the connection coming from: %s\n", text);
  return conn.get() >= 0 && router_address == text ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("nat_masquerade", r.error());
}

// SPDX-License-Identifier: MIT
// Recipe 8: a virtual cable between two network namespaces —
//
//   ip netns add a; ip netns add b
//   ip link add nsftveth-a netns a type veth peer name nsftveth-b netns b
//   ip -n a addr add 10.200.8.1/24 dev nsftveth-a; ip -n b addr add 10.200.8.2/24 dev nsftveth-b
//   ip -n a link set nsftveth-a up; ip -n b link set nsftveth-b up
//   ip netns exec b nc -l 10.200.8.2 7007 & ip netns exec a nc 10.200.8.2 7007
//
// Both namespaces are held by fds only (no /run/netns entry): they, and the pair, are gone when
// the program ends. A socket belongs to the namespace of the thread that creates it, so each is
// made with run_in on a thread inside its namespace; the round trip then runs from here.
#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <string_view>

#include <sys/socket.h>
#include <sys/time.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/veth.hpp>

#include "example_util.hpp"

namespace net = nsfun::net;

namespace {

// A TCP socket of namespace `ns`.
nsfun::UniqueFd tcp_socket_in(const nsfun::NetNs& ns) {
  auto fd = nsfun::run_in(ns.ns(), [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  nsfun::UniqueFd sock = nsfun::UniqueFd::adopt(fd ? fd.value() : -1);  // owns: just made
  const timeval patience{.tv_sec = 5, .tv_usec = 0};  // connect, send and recv give up then
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof(patience));
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
  return sock;
}

nsfun::result<int> demo() {
  NSFUN_TRY(nsfun::NetNs a, nsfun::acquire<nsfun::NsType::net>());
  NSFUN_TRY(nsfun::NetNs b, nsfun::acquire<nsfun::NsType::net>());
  NSFUN_TRY(auto ra, net::Rtnl::open(a));
  NSFUN_TRY(auto rb, net::Rtnl::open(b));
  NSFUN_TRY(auto veth, net::Veth::create(ra, "nsftveth-a", "nsftveth-b", rb));
  NSFUN_TRY(auto pa, net::IpPrefix::parse("10.200.8.1/24"));
  NSFUN_TRY(auto pb, net::IpPrefix::parse("10.200.8.2/24"));
  NSFUN_TRYV(net::add_address(veth.first(), pa));
  NSFUN_TRYV(net::add_address(veth.peer(), pb));
  NSFUN_TRYV(veth.first().set_up());
  NSFUN_TRYV(veth.peer().set_up());
  std::printf("nsftveth-a 10.200.8.1/24 in %s <-> nsftveth-b 10.200.8.2/24 in %s\n",
              a.identity().to_string().c_str(), b.identity().to_string().c_str());

  // b listens, a connects: the handshake crosses the pair; then one message there and back.
  nsfun::UniqueFd server = tcp_socket_in(b);
  nsfun::UniqueFd client = tcp_socket_in(a);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(7007);
  ::inet_pton(AF_INET, "10.200.8.2", &sa.sin_addr);
  auto* addr = reinterpret_cast<sockaddr*>(&sa);  // NOLINT: the sockets API
  if (::bind(server.get(), addr, sizeof(sa)) < 0 || ::listen(server.get(), 1) < 0 ||
      ::connect(client.get(), addr, sizeof(sa)) < 0) {
    return nsfun::errno_error(errno, "connect from a to b 10.200.8.2:7007");
  }
  nsfun::UniqueFd conn =
      nsfun::UniqueFd::adopt(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  const std::string_view ping = "hello across the veth pair";
  char got[64] = {};
  char back[64] = {};
  ssize_t n = ::send(client.get(), ping.data(), ping.size(), 0);
  n = n > 0 ? ::recv(conn.get(), got, sizeof(got) - 1, 0) : -1;
  n = n > 0 ? ::send(conn.get(), got, static_cast<std::size_t>(n), 0) : -1;
  n = n > 0 ? ::recv(client.get(), back, sizeof(back) - 1, 0) : -1;
  if (n <= 0) {
    return nsfun::errno_error(errno, "round trip over the veth pair");
  }
  std::printf("server in b got: %s\nclient in a got back: %s\n", got, back);
  return ping == back ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("veth_pair", r.error());
}

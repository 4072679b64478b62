// SPDX-License-Identifier: MIT
// Recipe 3, a blank network stack:
//
//   unshare --net ip link
//
// A new network namespace has nothing but a loopback interface, and even that one is down: no
// address, no route, no way out until something is moved or created in there (see the veth
// example). The namespace is made without entering it, and its interfaces are listed through a
// netlink socket opened inside it; no thread of ours changes namespace.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iostream>

#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char**) {
  if (!example::no_arguments("blank_network", argc)) {
    return 2;
  }
  // A new network namespace, held by the fd in `net` (it goes away with it).
  auto net = nsfun::acquire<nsfun::NsType::net>();
  if (!net) {
    return example::fail("blank_network", net.error());  // 77: not allowed here
  }
  auto ours = nsfun::NetNs::current();
  if (!ours) {
    return example::fail_after("blank_network", ours.error());
  }
  std::cout << "our network namespace: " << ours.value().identity().to_string() << "\n"
            << "the new one:           " << net.value().identity().to_string() << "\n";

  // `ip link` in there: a rtnetlink socket bound to the new namespace, and a dump of its links.
  auto rtnl = nsfun::net::Rtnl::open(net.value());
  if (!rtnl) {
    return example::fail_after("blank_network", rtnl.error());
  }
  auto links = nsfun::net::Link::list(rtnl.value());
  if (!links) {
    return example::fail_after("blank_network", links.error());
  }
  std::cout << "its interfaces:\n";
  for (const nsfun::net::LinkInfo& link : links.value()) {
    std::cout << link.index << ": " << link.name << " mtu " << link.mtu << " "
              << (link.is_up() ? "UP" : "DOWN") << "\n";
  }
  return 0;
}

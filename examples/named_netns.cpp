// SPDX-License-Identifier: MIT
// Recipe 7, named network namespaces, as iproute2 keeps them:
//
//   ip netns add NAME; ip netns list; ip netns exec NAME ip -br link; ip netns del NAME
//
// nsfun keeps a named network namespace exactly where `ip netns` does (a bind mount on
// /run/netns/NAME), so each tool sees what the other made: here `ip netns list` lists the
// namespace nsfun added. The name is nsfun-example-<our pid>, and it is deleted again at the
// end, also when a step fails.
//
// Needs root (CAP_SYS_ADMIN); exits 77 when the kernel refuses.

#include <iostream>
#include <string>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

// NOLINTNEXTLINE(bugprone-exception-escape): every result is checked before its value()
int main(int argc, char**) {
  if (!example::no_arguments("named_netns", argc)) {
    return 2;
  }
  const std::string name = "nsfun-example-" + std::to_string(::getpid());

  // ip netns add NAME: a new network namespace, pinned as /run/netns/NAME.
  auto added = nsfun::netns::add(name);
  if (!added) {
    return example::fail("named_netns", added.error());  // 77: not allowed here
  }
  // The pin as an owned handle: it is removed (ip netns del) when `pin` goes.
  auto pin = nsfun::Pin::adopt(std::string(nsfun::netns::run_dir) + "/" + name);
  if (!pin) {
    return example::fail_after("named_netns", pin.error());
  }
  std::cout << "added " << name << ": " << added.value().identity().to_string() << "\n";

  // ip netns list, read by nsfun and by iproute2 itself.
  auto names = nsfun::netns::list();
  auto ip_list = example::output_of(nsfun::Command("ip").args({"netns", "list"}));
  if (!names || !ip_list) {
    return example::fail_after("named_netns", !names ? names.error() : ip_list.error());
  }
  std::cout << "nsfun::netns::list():";
  for (const std::string& n : names.value()) {
    std::cout << " " << n;
  }
  std::cout << "\n`ip netns list`:\n" << ip_list.value() << "\n";

  // ip netns exec NAME ip -br link: the network namespace, and its own /sys (and /etc/netns/NAME).
  auto inside = example::output_of(nsfun::Command("ip").args({"-br", "link"}).netns(name));
  if (!inside) {
    return example::fail_after("named_netns", inside.error());
  }
  std::cout << "ip netns exec " << name << " ip -br link:\n" << inside.value() << "\n";

  // ip netns del NAME (nsfun::netns::remove(name) does the same, without a handle).
  if (auto del = pin.value().unpin(); !del) {
    return example::fail_after("named_netns", del.error());
  }
  auto after = example::output_of(nsfun::Command("ip").args({"netns", "list"}));
  if (!after) {
    return example::fail_after("named_netns", after.error());
  }
  std::cout << "deleted; `ip netns list` now:\n"
            << (after.value().empty() ? "(none)" : after.value()) << "\n";
  return 0;
}

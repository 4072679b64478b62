// SPDX-License-Identifier: MIT
// net_cheatsheet – the cheatsheet's network namespace recipe, as nsfun calls:
//
//   ip netns add NS
//   ip link add veth0 type veth peer name veth1
//   ip link set veth1 netns NS
//   ip addr add 10.200.0.1/24 dev veth0;  ip -n NS addr add 10.200.0.2/24 dev veth1
//   ip link set veth0 up;  ip -n NS link set veth1 up;  ip -n NS link set lo up
//   … and the teardown: ip netns del NS (the veth pair goes with the namespace that holds one end)
//
// usage: net_cheatsheet [--in-place] [--quiet] [--keep] [--move] [--delete-link]
//   By default the program first moves itself into a private mount namespace (with its own
//   /run) and a new network namespace, so nothing it does reaches the host. --in-place skips
//   that (the caller isolates it, e.g. under unshare(1)); --keep stops before the teardown.
//   The peer is created directly inside NS (the same end state, without the kernel's
//   synchronize_net of a move); --move creates it beside veth0 and moves it, as the recipe does.
//   The teardown unpins NS and lets the kernel destroy the namespace, and the pair with it, as
//   `ip netns del` does; --delete-link first deletes the pair and waits for the kernel to finish
//   (`ip link del veth0`: about 15 ms of the kernel's RCU waits on a small VM).
// Exit status 77: not allowed to make namespaces here.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <sched.h>
#include <sys/mount.h>

#include <nsfun/net/net.hpp>
#include <nsfun/persist.hpp>

namespace {

namespace net = nsfun::net;

bool quiet = false;

void say(const char* text) {
  if (!quiet) {
    std::printf("%s\n", text);
  }
}

// The error names what failed and carries the kernel's extended ack:
// "net_cheatsheet: ip link add: RTM_NEWLINK veth0: File exists".
int fail(const char* what, const nsfun::error& e) {
  std::fprintf(stderr, "net_cheatsheet: %s: %s\n", what, e.message().c_str());
  return 1;
}

// A private mount namespace with a fresh /run, and a new network namespace for the "host" side.
int isolate() {
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
    int err = errno;
    std::fprintf(stderr, "net_cheatsheet: unshare: %s\n", std::strerror(err));
    return err == EPERM || err == EACCES ? 77 : 1;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
      ::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
    std::fprintf(stderr, "net_cheatsheet: private /run: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}

int cheatsheet(bool keep, bool move, bool delete_link) {
  constexpr const char* name = "nsfun-demo";
  auto ns = nsfun::netns::add(name);  // ip netns add
  if (!ns) {
    return fail("ip netns add", ns.error());
  }
  auto host = net::Rtnl::open();
  if (!host) {
    return fail("rtnetlink", host.error());
  }
  auto inner = net::Rtnl::open(ns.value());
  if (!inner) {
    return fail("rtnetlink in the namespace", inner.error());
  }
  auto veth = move ? net::Veth::create(host.value(), "veth0", "veth1")  // ip link add … veth
                   : net::Veth::create(host.value(), "veth0", "veth1", inner.value());
  if (!veth) {
    return fail("ip link add", veth.error());
  }
  if (move) {
    if (auto r = veth.value().move_peer(inner.value()); !r) {  // ip link set veth1 netns NS
      return fail("ip link set netns", r.error());
    }
  }
  auto lo = net::Link::by_name(inner.value(), "lo");
  if (!lo) {
    return fail("lo", lo.error());
  }
  const auto& v = veth.value();
  auto here = net::IpPrefix::parse("10.200.0.1/24");
  auto there = net::IpPrefix::parse("10.200.0.2/24");
  for (auto r :
       {net::add_address(v.first(), here.value()), net::add_address(v.peer(), there.value()),
        v.first().set_up(), v.peer().set_up(), lo.value().set_up()}) {
    if (!r) {
      return fail("ip addr / ip link set up", r.error());
    }
  }
  say("veth0 10.200.0.1/24 <-> veth1 10.200.0.2/24 in netns nsfun-demo, all up");
  if (keep) {
    veth.value().keep();
    return 0;
  }
  if (delete_link) {
    if (auto r = veth.value().remove(); !r) {  // ip link del veth0
      return fail("ip link del", r.error());
    }
  } else {
    veth.value().keep();  // destroyed with the namespace, once nothing holds it
  }
  if (auto r = nsfun::netns::remove(name); !r) {  // ip netns del
    return fail("ip netns del", r.error());
  }
  say("torn down");
  return 0;
}

}  // namespace

// Exceptions (the NOLINT): the results are checked before value(); what is left is a failed
// allocation or write, which ends the program with terminate's message.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  bool in_place = false;
  bool keep = false;
  bool move = false;
  bool delete_link = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--in-place") {
      in_place = true;
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--keep") {
      keep = true;
    } else if (arg == "--move") {
      move = true;
    } else if (arg == "--delete-link") {
      delete_link = true;
    } else {
      std::fprintf(stderr,
                   "usage: net_cheatsheet [--in-place] [--quiet] [--keep] [--move] "
                   "[--delete-link]\n");
      return 2;
    }
  }
  if (!in_place) {
    if (int rc = isolate(); rc != 0) {
      return rc;
    }
  }
  return cheatsheet(keep, move, delete_link);
}

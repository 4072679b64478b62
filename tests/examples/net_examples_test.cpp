// SPDX-License-Identifier: MIT
// Tests of the examples of recipes 8 and 9 and of net_cheatsheet: each runs the built program and
// checks what it printed against what the test sees itself, and that it left nothing behind (no
// process, no nsft* link, no /run/netns entry, no mount, the host's ip_forward untouched).
#include <string>
#include <string_view>

#include <sys/prctl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "example_tests.hpp"
#include "test_support.hpp"

namespace {

using nsfun::test::examples::after;
using nsfun::test::examples::run_example;

// What an example could leave behind in the test's own namespaces.
struct Traces {
  std::size_t mounts = nsfun::test::mount_count();
  std::string links = nsfun::test::run("ip -o link show | grep -o 'nsft[^:@ ]*'").out;
  std::string netns = nsfun::test::run("ls /run/netns 2>/dev/null").out;
  std::string ip_forward = nsfun::test::read_text("/proc/sys/net/ipv4/ip_forward");
};

// Checks that the example left the test's namespaces as they were, and no process.
void check_nothing_left(const Traces& before) {
  const Traces now;
  CHECK(now.mounts == before.mounts);
  CHECK(now.links == before.links);
  CHECK(now.netns == before.netns);
  CHECK(now.ip_forward == before.ip_forward);
  CHECK(nsfun::test::no_children());
}

bool can_run_net_examples() {
  return nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::net}) &&
         nsfun::test::have_program("ip");
}

}  // namespace

TEST_CASE("veth_pair: the payload crosses the pair and comes back, nothing is left") {
  NSFUN_REQUIRE(can_run_net_examples(), "cannot unshare a network namespace here (or no ip)");
  const Traces before;
  auto r = run_example("veth_pair");
  if (r.status == 77) {
    nsfun::test::skip("veth_pair: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  CHECK(after(r.out, "server in b got: ") == "hello across the veth pair");
  CHECK(after(r.out, "client in a got back: ") == "hello across the veth pair");
  // The two ends lived in two namespaces of their own, neither of them the test's.
  const std::string pair = after(r.out, "nsftveth-a 10.200.8.1/24 in ");
  const auto words = nsfun::test::split_words(pair);
  REQUIRE(words.size() == 6);
  const std::string own = nsfun::test::ns_link_text("/proc/self", "net");
  CHECK(words[0] != words[5]);
  CHECK(words[0] != own);
  CHECK(words[5] != own);
  check_nothing_left(before);
}

TEST_CASE("nat_masquerade: the outside sees the router's address as the source") {
  NSFUN_REQUIRE(can_run_net_examples(), "cannot unshare a network namespace here (or no ip)");
  const Traces before;
  auto r = run_example("nat_masquerade");
  if (r.status == 77) {
    nsfun::test::skip("nat_masquerade: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  const std::string router = after(r.out, "router's address towards the world: ");
  const std::string seen = after(r.out, "world sees the connection coming from: ");
  CHECK(router == "203.0.113.1");
  CHECK(seen == router);
  CHECK(seen != "10.200.9.2");  // box's own address: rewritten on the way
  CHECK(r.out.find("(masquerade, table nsfun_nat_") != std::string::npos);
  check_nothing_left(before);  // the host's ip_forward among them
}

TEST_CASE("net_cheatsheet: the cheatsheet's sequence, isolated, torn down") {
  NSFUN_REQUIRE(can_run_net_examples(), "cannot unshare a network namespace here (or no ip)");
  const Traces before;
  const bool had_veth0 = nsfun::test::run("ip link show veth0 >/dev/null 2>&1").status == 0;
  auto r = run_example("net_cheatsheet");
  if (r.status == 77) {
    nsfun::test::skip("net_cheatsheet: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  CHECK(r.out ==
        "veth0 10.200.0.1/24 <-> veth1 10.200.0.2/24 in netns nsfun-demo, all up\ntorn down\n");
  CHECK((nsfun::test::run("ip link show veth0 >/dev/null 2>&1").status == 0) == had_veth0);
  check_nothing_left(before);  // no /run/netns/nsfun-demo among them
}

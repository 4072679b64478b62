// SPDX-License-Identifier: MIT
// nsfun::net tests – namespace ids (nsid::get / nsid::set) against `ip netns set` / `list-id`.
//
// Every case runs in a forked child and works only in network namespaces it acquired itself;
// `ip` runs inside them through nsenter --net=/proc/PID/fd/N, and names under /run/netns live in
// a private /run.

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include <sched.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>
#include <nsfun/net/nsid.hpp>
#include <nsfun/persist.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::ip_in;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
namespace nsid = nsfun::net::nsid;
using nsfun::NsType;

// The id `ip netns list-id` shows for `id` in the namespace `ns`: "nsid 7 " lines.
bool listed(const nsfun::NetNs& ns, std::int32_t id) {
  auto out = ip_in(ns, "ip netns list-id");
  return out.status == 0 && out.out.find("nsid " + std::to_string(id) + " ") != std::string::npos;
}

std::string ino_text(const nsfun::NetNs& ns) {
  return "net:[" + std::to_string(ns.identity().ino()) + "]";
}

}  // namespace

TEST_SUITE("nsid") {
  TEST_CASE("set and get agree with ip netns set and ip netns list-id, both ways") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::can_private_run(), "needs a private /run");
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto c, nt::make_ns());

      // Fresh namespaces know no ids of each other.
      NET_TRY(std::int32_t none, nsid::get(a.rtnl, b.ns));
      NSFUN_EXPECT(none == nsid::unassigned);
      NSFUN_EXPECT(!listed(a.ns, 7));

      // nsfun sets, ip reads.
      NET_TRY(std::int32_t seven, nsid::set(a.rtnl, b.ns, 7));
      NSFUN_EXPECT(seven == 7);
      NET_TRY(std::int32_t back, nsid::get(a.rtnl, b.ns));
      NSFUN_EXPECT(back == 7);
      NSFUN_EXPECT(listed(a.ns, 7));
      // The id is a's name for b, not b's for a.
      NET_TRY(std::int32_t other_way, nsid::get(b.rtnl, a.ns));
      NSFUN_EXPECT(other_way == nsid::unassigned);

      // ip sets (ip netns set NAME ID, run in a), nsfun reads.
      const std::string name = t::unique_name();
      const std::string path = "/run/netns/" + name;
      NSFUN_EXPECT(t::run("mkdir -p /run/netns").status == 0);
      NSFUN_EXPECT_OK(nsfun::pin(c.ns, path.c_str()));
      auto set = ip_in(a.ns, "ip netns set " + name + " 12");
      if (set.status != 0) {
        std::fprintf(stderr, "ip netns set: %s\n", set.out.c_str());
      }
      NSFUN_EXPECT(set.status == 0);
      NET_TRY(std::int32_t twelve, nsid::get(a.rtnl, c.ns));
      NSFUN_EXPECT(twelve == 12);
      NSFUN_EXPECT_OK(nsfun::unpin(path.c_str()));
      return 0;
    });
  }

  TEST_CASE("automatic: the kernel picks the id, as ip netns set NAME auto") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(std::int32_t picked, nsid::set(a.rtnl, b.ns, nsid::automatic));
      NSFUN_EXPECT(picked >= 0);
      NET_TRY(std::int32_t read, nsid::get(a.rtnl, b.ns));
      NSFUN_EXPECT(read == picked);
      return 0;
    });
  }

  TEST_CASE("get by pid, and a veth across namespaces assigns the id ip link shows") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      // A process in b.
      t::PausedChild in_b([&] { return ::setns(b.ns.get(), CLONE_NEWNET) == 0; });
      NSFUN_EXPECT(in_b);
      NET_TRY(std::int32_t before, nsid::get(a.rtnl, in_b.pid()));
      NSFUN_EXPECT(before == nsid::unassigned);

      // The kernel gives b an id in a when a link in a has its peer in b (link-netnsid).
      NET_TRY(auto veth, nsfun::net::Veth::create(a.rtnl, "nsftid0", "nsftid1", b.rtnl));
      NET_TRY(std::int32_t by_fd, nsid::get(a.rtnl, b.ns));
      NET_TRY(std::int32_t by_pid, nsid::get(a.rtnl, in_b.pid()));
      NSFUN_EXPECT(by_fd >= 0);
      NSFUN_EXPECT(by_pid == by_fd);
      auto shown = ip_in(a.ns, "ip -o link show dev nsftid0");
      NSFUN_EXPECT(shown.out.find("link-netnsid " + std::to_string(by_fd)) != std::string::npos);
      NSFUN_EXPECT(listed(a.ns, by_fd));
      NSFUN_EXPECT_OK(veth.remove());
      return 0;
    });
  }

  TEST_CASE("errors name the namespace and keep the kernel's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto c, nt::make_ns());
      NSFUN_EXPECT_OK(nsid::set(a.rtnl, b.ns, 5));

      // b already has an id in a.
      auto again = nsid::set(a.rtnl, b.ns, 6);
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(again.error() == std::errc::file_exists);
      NSFUN_EXPECT(nt::text_is_with_note(again.error(),
                                         "RTM_NEWNSID 6 for " + ino_text(b.ns) + ": File exists"));
      NSFUN_EXPECT(again.error().note() == "Peer netns already has a nsid assigned");

      // 5 is taken.
      auto taken = nsid::set(a.rtnl, c.ns, 5);
      NSFUN_EXPECT(!taken);
      NSFUN_EXPECT(taken.error() == std::errc::file_exists);
      NSFUN_EXPECT(taken.error().note() == "The specified nsid is already used");

      // Refused before the kernel is asked.
      auto negative = nsid::set(a.rtnl, c.ns, -5);
      NSFUN_EXPECT(!negative);
      NSFUN_EXPECT(negative.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(
          nt::text_is(negative.error(), "RTM_NEWNSID of " + ino_text(c.ns) +
                                            ": a namespace id is 0 or more (or nsid::automatic)"));
      nsfun::NetNs empty;
      auto no_ns = nsid::get(a.rtnl, empty);
      NSFUN_EXPECT(!no_ns);
      NSFUN_EXPECT(no_ns.error() == std::errc::bad_file_descriptor);

      // A pid that does not exist.
      t::PausedChild gone([] { return true; });
      const pid_t pid = gone.pid();
      gone.stop();
      auto no_pid = nsid::get(a.rtnl, pid);
      NSFUN_EXPECT(!no_pid);
      NSFUN_EXPECT(no_pid.error() == std::errc::no_such_process);
      NSFUN_EXPECT(nt::text_is_with_note(
          no_pid.error(), "RTM_GETNSID of pid " + std::to_string(pid) + ": No such process"));
      return 0;
    });
  }
}

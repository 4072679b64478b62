// SPDX-License-Identifier: MIT
// nsfun::net tests – Veth: pairs across namespaces, traffic, RAII and failure paths.
//
// Every case runs in a forked child and works only in network namespaces it acquired itself;
// the initial namespace is never touched.

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>
#include <nsfun/persist.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::Veth;

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

}  // namespace

TEST_SUITE("veth") {
  TEST_CASE("a veth between two namespaces carries TCP and UDP") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftva", "nsftvb", b.rtnl));
      NSFUN_EXPECT(veth.first().rtnl() == a.rtnl);
      NSFUN_EXPECT(veth.peer().rtnl() == b.rtnl);
      NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftva"));
      NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftvb"));
      NSFUN_EXPECT(has(nt::link_names(b.rtnl), "nsftvb"));

      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.first(), IpPrefix::parse("10.200.1.1/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.peer(), IpPrefix::parse("10.200.1.2/24").value()));
      NSFUN_EXPECT_OK(veth.first().set_up());
      NSFUN_EXPECT_OK(veth.peer().set_up());

      auto tcp = nt::tcp_trip(a.ns, b.ns, "10.200.1.2", 7001);
      if (!tcp.ok) {
        std::fprintf(stderr, "tcp: %s\n", tcp.why.c_str());
      }
      NSFUN_EXPECT(tcp.ok);
      NSFUN_EXPECT(tcp.peer == "10.200.1.1");
      auto back = nt::tcp_trip(b.ns, a.ns, "10.200.1.1", 7002);
      NSFUN_EXPECT(back.ok);
      NSFUN_EXPECT(back.peer == "10.200.1.2");

      auto udp = nt::udp_trip(a.ns, b.ns, "10.200.1.2", 7003);
      if (!udp.ok) {
        std::fprintf(stderr, "udp: %s\n", udp.why.c_str());
      }
      NSFUN_EXPECT(udp.ok);
      NSFUN_EXPECT(udp.peer == "10.200.1.1");

      // Not reachable from a third namespace that has no link to them.
      NET_TRY(auto c, nt::make_ns());
      NSFUN_EXPECT(!nt::tcp_trip(c.ns, b.ns, "10.200.1.2", 7004, 300).ok);

      NSFUN_EXPECT_OK(veth.remove());
      NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftva"));
      NSFUN_EXPECT(!has(nt::link_names(b.rtnl), "nsftvb"));
      return 0;
    });
  }

  TEST_CASE("a veth made in one namespace, its peer moved like the cheatsheet does") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto host, nt::make_ns());
      NET_TRY(auto inner, nt::make_ns());
      NET_TRY(auto veth, Veth::create(host.rtnl, "nsftm0", "nsftm1"));
      NSFUN_EXPECT(has(nt::link_names(host.rtnl), "nsftm0"));
      NSFUN_EXPECT(has(nt::link_names(host.rtnl), "nsftm1"));
      NET_TRY(auto info, veth.first().info());
      NSFUN_EXPECT(info.kind == "veth");
      NSFUN_EXPECT(info.name == "nsftm0");

      NSFUN_EXPECT_OK(veth.move_peer(inner.rtnl));
      NSFUN_EXPECT(!has(nt::link_names(host.rtnl), "nsftm1"));
      NSFUN_EXPECT(has(nt::link_names(inner.rtnl), "nsftm1"));
      NSFUN_EXPECT(veth.peer().rtnl() == inner.rtnl);
      NET_TRY(auto peer_info, veth.peer().info());
      NSFUN_EXPECT(peer_info.name == "nsftm1");

      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.first(), IpPrefix::parse("10.200.2.1/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.peer(), IpPrefix::parse("10.200.2.2/24").value()));
      NSFUN_EXPECT_OK(veth.first().set_up());
      NSFUN_EXPECT_OK(veth.peer().set_up());
      NSFUN_EXPECT(nt::tcp_trip(host.ns, inner.ns, "10.200.2.2", 7010).ok);
      return 0;  // the Veth deletes the pair on the way out
    });
  }

  TEST_CASE("a Veth deletes its pair when it dies, also on an exception path") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      const auto before_a = nt::link_names(a.rtnl);
      const auto before_b = nt::link_names(b.rtnl);
      {
        NET_TRY(auto veth, Veth::create(a.rtnl, "nsftr0", "nsftr1", b.rtnl));
        NSFUN_EXPECT(nt::link_names(a.rtnl) != before_a);
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);
      NSFUN_EXPECT(nt::link_names(b.rtnl) == before_b);

      bool caught = false;
      try {
        auto veth = Veth::create(a.rtnl, "nsftr2", "nsftr3", b.rtnl).value();
        NSFUN_EXPECT(has(nt::link_names(b.rtnl), "nsftr3"));
        throw std::runtime_error("setup failed half-way");
      } catch (const std::runtime_error&) {
        caught = true;
      }
      NSFUN_EXPECT(caught);
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);
      NSFUN_EXPECT(nt::link_names(b.rtnl) == before_b);

      // Moving transfers ownership: only the last owner deletes.
      {
        NET_TRY(auto first, Veth::create(a.rtnl, "nsftr4", "nsftr5"));
        Veth second = std::move(first);
        NSFUN_EXPECT(!first);  // NOLINT(bugprone-use-after-move): moved-from state is specified
        NSFUN_EXPECT(second);
        NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftr4"));
        Veth third;
        third = std::move(second);
        NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftr4"));
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);

      // Assigning over an owning Veth deletes the pair it held.
      {
        NET_TRY(auto x, Veth::create(a.rtnl, "nsftr6", "nsftr7"));
        NET_TRY(auto y, Veth::create(a.rtnl, "nsftr8", "nsftr9"));
        x = std::move(y);
        NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftr6"));
        NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftr8"));
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);
      return 0;
    });
  }

  TEST_CASE("a kept Veth stays, and deleting one end removes both") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      const auto before = nt::link_names(a.rtnl);
      std::pair<Link, Link> ends;
      {
        NET_TRY(auto veth, Veth::create(a.rtnl, "nsftk0", "nsftk1"));
        veth.keep();
        NSFUN_EXPECT(!veth);
        // The handle stays usable after keep(): it still names both ends.
        NSFUN_EXPECT(veth.name() == "nsftk0");
        NSFUN_EXPECT(veth.peer_name() == "nsftk1");
        NSFUN_EXPECT(veth.first().index() > 0);
        ends = {veth.first(), veth.peer()};
      }
      NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftk0"));
      NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftk1"));
      NSFUN_EXPECT_OK(ends.second.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before);
      return 0;
    });
  }

  TEST_CASE("veth failure paths: duplicate name, long name, missing namespace") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftd0", "nsftd1", b.rtnl));
      const auto before_a = nt::link_names(a.rtnl);
      const auto before_b = nt::link_names(b.rtnl);

      // Duplicate first name: the kernel refuses, and the peer is not made either.
      auto dup = Veth::create(a.rtnl, "nsftd0", "nsftd2", b.rtnl);
      NSFUN_EXPECT(!dup);
      NSFUN_EXPECT(dup.error() == std::errc::file_exists);
      NSFUN_EXPECT(dup.error().message() == "RTM_NEWLINK nsftd0: File exists");
      // Duplicate peer name in the peer's namespace.
      auto dup_peer = Veth::create(a.rtnl, "nsftd3", "nsftd1", b.rtnl);
      NSFUN_EXPECT(!dup_peer);
      NSFUN_EXPECT(dup_peer.error() == std::errc::file_exists);
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);
      NSFUN_EXPECT(nt::link_names(b.rtnl) == before_b);

      // Names longer than IFNAMSIZ - 1 are refused before the kernel is asked.
      auto long_name = Veth::create(a.rtnl, "nsft-much-too-long0", "nsftd4");
      NSFUN_EXPECT(!long_name);
      NSFUN_EXPECT(long_name.error() == std::errc::filename_too_long);
      NSFUN_EXPECT(long_name.error().what == "check interface name");
      auto long_peer = Veth::create(a.rtnl, "nsftd5", "nsft0123456789ab");
      NSFUN_EXPECT(!long_peer);
      NSFUN_EXPECT(long_peer.error() == std::errc::filename_too_long);
      auto bad_char = Veth::create(a.rtnl, "nsft/0", "nsftd6");
      NSFUN_EXPECT(!bad_char);
      NSFUN_EXPECT(bad_char.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(Veth::create(a.rtnl, "nsft0123456789a", "nsftd7"));  // exactly 15: fine
      NSFUN_EXPECT(nt::link_names(a.rtnl).size() == before_a.size());   // and already gone

      // A missing namespace: empty handles, and a name nobody added.
      auto none = Veth::create(a.rtnl, "nsftd8", "nsftd9", nsfun::net::Rtnl());
      NSFUN_EXPECT(!none);
      NSFUN_EXPECT(none.error() == std::errc::bad_file_descriptor);
      auto closed = nsfun::net::Rtnl::open(nsfun::NetNs());
      NSFUN_EXPECT(!closed);
      NSFUN_EXPECT(closed.error() == std::errc::bad_file_descriptor);
      auto missing = nsfun::NetNs::open_path("/run/netns/nsfun-test-surely-missing");
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(missing.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(!veth.first().move_to(nsfun::NetNs()));
      NSFUN_EXPECT(nt::link_names(a.rtnl) == before_a);
      NSFUN_EXPECT(nt::link_names(b.rtnl) == before_b);
      return 0;
    });
  }
}

TEST_SUITE("named netns") {
  TEST_CASE("a veth end in a named netns is visible to ip netns exec, and nothing stays") {
    NSFUN_REQUIRE(t::can_private_run(), "needs CAP_SYS_ADMIN for a private mount namespace");
    NSFUN_REQUIRE(t::have_program("ip"), "needs ip(8)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);  // /run (and /run/netns) private to this child
      NET_TRY(auto host, nt::make_ns());
      const std::string name = t::unique_name();
      NET_TRY(auto before, nsfun::netns::list());
      {
        NET_TRY(auto ns, nsfun::netns::add(name));
        NET_TRY(auto inner, nsfun::net::Rtnl::open(ns));
        NET_TRY(auto veth, Veth::create(host.rtnl, "nsftn0", "nsftn1", inner));
        auto shown = t::run("ip netns exec " + name + " ip -o link show nsftn1");
        NSFUN_EXPECT(shown.status == 0);
        NSFUN_EXPECT(shown.out.find("nsftn1") != std::string::npos);
        // And the other way: a namespace made by ip opens here.
        const std::string by_ip = t::unique_name();
        NSFUN_EXPECT(t::run("ip netns add " + by_ip).status == 0);
        NET_TRY(auto opened, nsfun::netns::open(by_ip));
        NET_TRY(auto other, nsfun::net::Rtnl::open(opened));
        NSFUN_EXPECT(nt::link_names(other) == std::vector<std::string>{"lo"});
        NSFUN_EXPECT_OK(nsfun::netns::remove(by_ip));
        NSFUN_EXPECT_OK(nsfun::netns::remove(name));
        auto gone = nsfun::netns::open(name);  // a missing namespace: a clear error
        NSFUN_EXPECT(!gone);
        NSFUN_EXPECT(gone.error() == std::errc::no_such_file_or_directory);
      }
      NET_TRY(auto after, nsfun::netns::list());
      NSFUN_EXPECT(after == before);
      NSFUN_EXPECT(nt::link_names(host.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }

  TEST_CASE("a kept pair goes with the namespace that holds its peer, as after ip netns del") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      {
        NET_TRY(auto b, nt::make_ns());
        NET_TRY(auto veth, Veth::create(a.rtnl, "nsftgo", "nsftgopeer", b.rtnl));
        NSFUN_EXPECT_OK(veth.first().set_up());
        veth.keep();
        NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftgo"));
      }  // the last handle on b is gone: the kernel destroys it, and the pair with it
      // The kernel does that on a workqueue, after this thread let go: wait for it (bounded).
      bool gone = false;
      for (int i = 0; i < 200 && !gone; ++i) {
        gone = !has(nt::link_names(a.rtnl), "nsftgo");
        if (!gone) {
          ::usleep(10000);
        }
      }
      NSFUN_EXPECT(gone);
      return 0;
    });
  }
}

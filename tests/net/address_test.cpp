// SPDX-License-Identifier: MIT
// nsfun::net tests – address parsing, addresses on links, routes (incl. the default route).

#include <algorithm>
#include <string>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Route;
using nsfun::net::Veth;

}  // namespace

TEST_SUITE("address") {
  TEST_CASE("prefixes parse and print") {
    auto v4 = IpPrefix::parse("10.0.0.1/24");
    REQUIRE(v4);
    CHECK(v4.value().address.family == AF_INET);
    CHECK(v4.value().length == 24);
    CHECK(v4.value().to_string() == "10.0.0.1/24");
    CHECK(v4.value().network().to_string() == "10.0.0.0/24");
    CHECK(v4.value().contains(IpAddress::parse("10.0.0.200").value()));
    CHECK(!v4.value().contains(IpAddress::parse("10.0.1.1").value()));
    CHECK(IpPrefix::parse("10.1.2.3/20").value().network().to_string() == "10.1.0.0/20");

    auto v6 = IpPrefix::parse("fd00::1/64");
    REQUIRE(v6);
    CHECK(v6.value().address.family == AF_INET6);
    CHECK(v6.value().length == 64);
    CHECK(v6.value().to_string() == "fd00::1/64");
    CHECK(IpPrefix::parse("fd00:1:2:3:4::1/50").value().network().to_string() == "fd00:1:2::/50");

    CHECK(IpPrefix::parse("10.0.0.1").value().length == 32);
    CHECK(IpPrefix::parse("::1").value().length == 128);
    CHECK(IpPrefix::parse("0.0.0.0/0").value().length == 0);
  }

  TEST_CASE("malformed addresses are refused with a clear error") {
    for (const char* bad :
         {"", "/24", "10.0.0.1/", "10.0.0.1/33", "10.0.0.256/24", "10.0.0/24", "10.0.0.1/24x",
          "10.0.0.1/-1", " 10.0.0.1/24", "10.0.0.1/ 24", "fd00::1/129", "fd00:::1/64", "abc",
          "10.0.0.1/0024", "fd00::1%eth0/64", "10.0.0.1/24/1"}) {
      auto r = IpPrefix::parse(bad);
      CHECK_MESSAGE(!r, bad);
      if (!r) {
        CHECK(r.error() == std::errc::invalid_argument);
        CHECK(r.error().what == "parse address");
        CHECK(r.error().object() == "\"" + std::string(bad) + "\"");
      }
    }
    CHECK(!IpAddress::parse("10.0.0.1/24"));
    CHECK(!IpAddress::parse("1.2.3.4.5"));
  }

  TEST_CASE("addresses are added listed and removed, IPv4 and IPv6") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsfta0", "nsfta1"));
      NET_TRY(auto v4, IpPrefix::parse("10.200.4.1/24"));
      NET_TRY(auto v6, IpPrefix::parse("fd00:200::1/64"));
      NSFUN_EXPECT_OK(nsfun::net::add_address(veth.first(), v4));
      NSFUN_EXPECT_OK(nsfun::net::add_address(veth.first(), v6, true));
      auto dup = nsfun::net::add_address(veth.first(), v4);
      NSFUN_EXPECT(!dup);
      NSFUN_EXPECT(dup.error() == std::errc::file_exists);
      NSFUN_EXPECT(
          dup.error().message().rfind("RTM_NEWADDR 10.200.4.1/24 on nsfta0: File exists", 0) == 0);

      NET_TRY(auto mine, nsfun::net::addresses(veth.first()));
      NSFUN_EXPECT(std::find(mine.begin(), mine.end(), v4) != mine.end());
      NSFUN_EXPECT(std::find(mine.begin(), mine.end(), v6) != mine.end());
      NET_TRY(auto only4, nsfun::net::addresses(veth.first(), AF_INET));
      NSFUN_EXPECT(only4.size() == 1);
      NSFUN_EXPECT(only4[0] == v4);
      NET_TRY(auto peer, nsfun::net::addresses(veth.peer()));
      NSFUN_EXPECT(peer.empty());
      NET_TRY(auto all, nsfun::net::list_addresses(a.rtnl, AF_INET));
      NSFUN_EXPECT(all.size() == 2);  // 127.0.0.1 on lo, and ours

      NSFUN_EXPECT_OK(nsfun::net::remove_address(veth.first(), v4));
      NET_TRY(auto after, nsfun::net::addresses(veth.first(), AF_INET));
      NSFUN_EXPECT(after.empty());
      auto gone = nsfun::net::remove_address(veth.first(), v4);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error().what == "RTM_DELADDR");
      return 0;
    });
  }

  TEST_CASE("routes: a subnet via a gateway, the default route, removal") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftr0", "nsftr1", b.rtnl));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.first(), IpPrefix::parse("10.200.5.1/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.peer(), IpPrefix::parse("10.200.5.2/24").value()));
      // b also owns 10.200.6.2 on its lo: reachable from a only through a route.
      NET_TRY(auto b_lo, nsfun::net::Link::by_name(b.rtnl, "lo"));
      NSFUN_EXPECT_OK(nsfun::net::add_address(b_lo, IpPrefix::parse("10.200.6.2/32").value()));
      NSFUN_EXPECT_OK(veth.first().set_up());
      NSFUN_EXPECT_OK(veth.peer().set_up());
      NSFUN_EXPECT(!nt::tcp_trip(a.ns, b.ns, "10.200.6.2", 7020, 300).ok);

      NET_TRY(auto gw, IpAddress::parse("10.200.5.2"));
      Route r;
      r.destination = IpPrefix::parse("10.200.6.0/24").value();
      r.gateway = gw;
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, r));
      NSFUN_EXPECT(nsfun::net::add_route(a.rtnl, r).error() == std::errc::file_exists);
      NET_TRY(auto routes, nsfun::net::list_routes(a.rtnl));
      bool found = false;
      for (const auto& x : routes) {
        if (x.destination && x.destination->to_string() == "10.200.6.0/24") {
          found = x.gateway && *x.gateway == gw && x.oif == veth.first().index();
        }
      }
      NSFUN_EXPECT(found);
      NSFUN_EXPECT(nt::tcp_trip(a.ns, b.ns, "10.200.6.2", 7021).ok);
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, r));
      NSFUN_EXPECT(!nt::tcp_trip(a.ns, b.ns, "10.200.6.2", 7022, 300).ok);

      // The default route does the same job.
      NSFUN_EXPECT_OK(nsfun::net::add_default_route(a.rtnl, gw));
      NET_TRY(auto with_default, nsfun::net::list_routes(a.rtnl));
      NSFUN_EXPECT(std::any_of(with_default.begin(), with_default.end(), [&](const Route& x) {
        return !x.destination && x.gateway && *x.gateway == gw;
      }));
      NSFUN_EXPECT(nt::tcp_trip(a.ns, b.ns, "10.200.6.2", 7023).ok);

      // A gateway on no link: the kernel's error.
      Route far;
      far.destination = IpPrefix::parse("10.200.7.0/24").value();
      far.gateway = IpAddress::parse("10.99.99.99").value();
      auto unreachable = nsfun::net::add_route(a.rtnl, far);
      NSFUN_EXPECT(!unreachable);
      NSFUN_EXPECT(unreachable.error().what == "RTM_NEWROUTE");
      // Neither gateway nor interface: refused before the kernel.
      Route nothing;
      nothing.destination = IpPrefix::parse("10.200.8.0/24").value();
      NSFUN_EXPECT(nsfun::net::add_route(a.rtnl, nothing).error() == std::errc::invalid_argument);
      // IPv6 default route.
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.first(), IpPrefix::parse("fd00:5::1/64").value(), true));
      NSFUN_EXPECT_OK(nsfun::net::add_default_route(a.rtnl, IpAddress::parse("fd00:5::2").value()));
      NET_TRY(auto v6, nsfun::net::list_routes(a.rtnl, AF_INET6));
      NSFUN_EXPECT(
          std::any_of(v6.begin(), v6.end(), [](const Route& x) { return !x.destination; }));
      return 0;
    });
  }
}

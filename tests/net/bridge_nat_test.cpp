// SPDX-License-Identifier: MIT
// nsfun::net tests – a bridge joining three namespaces; sysctl and masquerade in a router
// namespace. All of it in namespaces the case acquired.

#include <algorithm>
#include <cstdio>
#include <string>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::Bridge;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::Masquerade;
using nsfun::net::Veth;

}  // namespace

TEST_SUITE("bridge") {
  TEST_CASE("a bridge with three namespaces attached: all pairs reach each other") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto hub, nt::make_ns());
      NET_TRY(auto br, nsfun::net::bridge::create(hub.rtnl, "nsftbr0"));
      NET_TRY(auto br_info, br.link().info());
      NSFUN_EXPECT(br_info.kind == "bridge");
      NSFUN_EXPECT(nsfun::net::bridge::create(hub.rtnl, "nsftbr0").error() ==
                   std::errc::file_exists);
      NSFUN_EXPECT_OK(br.link().set_up());

      std::vector<nt::Ns> members;
      std::vector<Veth> veths;
      for (int i = 0; i < 3; ++i) {
        NET_TRY(auto m, nt::make_ns());
        std::string port = "nsftbp" + std::to_string(i);
        NET_TRY(auto v, Veth::create(hub.rtnl, port, "nsfteth0", m.rtnl));
        NSFUN_EXPECT_OK(nsfun::net::bridge::attach(br, v.first()));
        NET_TRY(auto port_info, v.first().info());
        NSFUN_EXPECT(port_info.master == br.index());
        NSFUN_EXPECT_OK(v.first().set_up());
        auto addr = IpPrefix::parse("10.200.3." + std::to_string(i + 1) + "/24").value();
        NSFUN_EXPECT_OK(nsfun::net::add_address(v.peer(), addr));
        NSFUN_EXPECT_OK(v.peer().set_up());
        members.push_back(std::move(m));
        veths.push_back(std::move(v));
      }
      std::uint16_t port = 7100;
      for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
          if (i == j) {
            continue;
          }
          std::string to = "10.200.3." + std::to_string(j + 1);
          auto trip = nt::tcp_trip(members[i].ns, members[j].ns, to, port++);
          if (!trip.ok) {
            std::fprintf(stderr, "%zu -> %zu: %s\n", i, j, trip.why.c_str());
          }
          NSFUN_EXPECT(trip.ok);
          NSFUN_EXPECT(trip.peer == "10.200.3." + std::to_string(i + 1));
        }
      }
      // Detached, the third namespace is cut off.
      NSFUN_EXPECT_OK(nsfun::net::bridge::detach(veths[2].first()));
      NET_TRY(auto detached, veths[2].first().info());
      NSFUN_EXPECT(detached.master == 0);
      NSFUN_EXPECT(!nt::tcp_trip(members[0].ns, members[2].ns, "10.200.3.3", port++, 300).ok);
      NSFUN_EXPECT(nt::tcp_trip(members[0].ns, members[1].ns, "10.200.3.2", port++).ok);

      // A port in another namespace cannot be attached.
      NSFUN_EXPECT(nsfun::net::bridge::attach(br, veths[0].peer()).error() ==
                   std::errc::cross_device_link);
      veths.clear();
      NSFUN_EXPECT_OK(br.remove());
      NSFUN_EXPECT(!br);
      NSFUN_EXPECT_OK(br.remove());  // nothing left to do
      NSFUN_EXPECT(nt::link_names(hub.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }

  TEST_CASE("Bridge owns its bridge: gone with the handle, kept by keep(), moved with a move") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto hub, nt::make_ns());
      const std::vector<std::string> only_lo{"lo"};
      {
        NET_TRY(auto br, Bridge::create(hub.rtnl, "nsftbr1"));
        NSFUN_EXPECT(br);
        NSFUN_EXPECT(br.name() == "nsftbr1");
        NSFUN_EXPECT(br.index() > 0);
        NSFUN_EXPECT(br.index() == br.link().index());
        // A port attached through the member, then the handle dies: the port stays, detached.
        NET_TRY(auto v, Veth::create(hub.rtnl, "nsftbp5", "nsftbp6"));
        NSFUN_EXPECT_OK(br.attach(v.first()));
        NSFUN_EXPECT(v.first().info().value().master == br.index());
        NSFUN_EXPECT_OK(br.detach(v.first()));
        NSFUN_EXPECT(v.first().info().value().master == 0);
        NSFUN_EXPECT_OK(br.attach(v.first()));
        v.keep();
      }
      NSFUN_EXPECT(
          (nt::link_names(hub.rtnl) == std::vector<std::string>{"lo", "nsftbp5", "nsftbp6"}));
      NET_TRY(auto port, Link::by_name(hub.rtnl, "nsftbp5"));
      NSFUN_EXPECT(port.info().value().master == 0);
      NSFUN_EXPECT_OK(port.remove());

      // Moved: the new handle owns it, the old one is empty and deletes nothing.
      {
        Bridge outer;
        {
          NET_TRY(auto br, nsfun::net::bridge::create(hub.rtnl, "nsftbr2"));
          outer = std::move(br);
          NSFUN_EXPECT(!br);  // NOLINT(bugprone-use-after-move): the moved-from state is the test
        }
        NSFUN_EXPECT((nt::link_names(hub.rtnl) == std::vector<std::string>{"lo", "nsftbr2"}));
        // Assigning over an owning handle deletes what it owned.
        NET_TRY(auto other, Bridge::create(hub.rtnl, "nsftbr3"));
        outer = std::move(other);
        NSFUN_EXPECT((nt::link_names(hub.rtnl) == std::vector<std::string>{"lo", "nsftbr3"}));
      }
      NSFUN_EXPECT(nt::link_names(hub.rtnl) == only_lo);

      // Kept: stays when the handle dies, and the handle can still remove it.
      {
        NET_TRY(auto br, Bridge::create(hub.rtnl, "nsftbr4"));
        br.keep();
        NSFUN_EXPECT(!br);
        NSFUN_EXPECT(br.link().index() > 0);
      }
      NSFUN_EXPECT((nt::link_names(hub.rtnl) == std::vector<std::string>{"lo", "nsftbr4"}));
      NET_TRY(auto kept, Link::by_name(hub.rtnl, "nsftbr4"));
      NSFUN_EXPECT_OK(kept.remove());

      // Refused before the kernel, nothing made.
      NSFUN_EXPECT(Bridge::create(hub.rtnl, "nsft-much-too-long").error() ==
                   std::errc::filename_too_long);
      NSFUN_EXPECT(nt::link_names(hub.rtnl) == only_lo);
      return 0;
    });
  }
}

TEST_SUITE("nat") {
  TEST_CASE("sysctl reads and writes per namespace") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NSFUN_EXPECT(nsfun::net::sysctl::read(a.ns, "net.ipv4.ip_forward").value() == "0");
      NSFUN_EXPECT_OK(nsfun::net::sysctl::write(a.ns, "net.ipv4.ip_forward", "1"));
      NSFUN_EXPECT(nsfun::net::sysctl::read(a.ns, "net.ipv4.ip_forward").value() == "1");
      NSFUN_EXPECT(nsfun::net::sysctl::read(b.ns, "net/ipv4/ip_forward").value() == "0");
      NSFUN_EXPECT(nsfun::net::sysctl::read(a.ns, "net.ipv4.nsft_none").error() ==
                   std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(nsfun::net::sysctl::read(a.ns, "net/../../etc").error() ==
                   std::errc::invalid_argument);
      NSFUN_EXPECT(nsfun::net::sysctl::write(a.ns, "", "1").error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nsfun::net::sysctl::write(nsfun::NetNs(), "net.ipv4.ip_forward", "1").error() ==
                   std::errc::bad_file_descriptor);
      return 0;
    });
  }

  TEST_CASE("client router outside: masquerade shows the router's address, gone with the handle") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto client, nt::make_ns());
      NET_TRY(auto router, nt::make_ns());
      NET_TRY(auto outside, nt::make_ns());
      NET_TRY(auto inner, Veth::create(router.rtnl, "nsftin0", "nsftc0", client.rtnl));
      NET_TRY(auto outer, Veth::create(router.rtnl, "nsftout0", "nsfto0", outside.rtnl));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(inner.first(), IpPrefix::parse("10.200.10.1/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(inner.peer(), IpPrefix::parse("10.200.10.2/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(outer.first(), IpPrefix::parse("10.200.20.1/24").value()));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(outer.peer(), IpPrefix::parse("10.200.20.2/24").value()));
      for (const Veth* v : {&inner, &outer}) {
        NSFUN_EXPECT_OK(v->first().set_up());
        NSFUN_EXPECT_OK(v->peer().set_up());
      }
      NSFUN_EXPECT_OK(
          nsfun::net::add_default_route(client.rtnl, IpAddress::parse("10.200.10.1").value()));
      // The outside can answer the client's own address too (so that, without NAT, the client's
      // address is what it sees).
      nsfun::net::Route back;
      back.destination = IpPrefix::parse("10.200.10.0/24").value();
      back.gateway = IpAddress::parse("10.200.20.1").value();
      NSFUN_EXPECT_OK(nsfun::net::add_route(outside.rtnl, back));
      NSFUN_EXPECT_OK(nsfun::net::sysctl::write(router.ns, "net.ipv4.ip_forward", "1"));

      auto plain = nt::tcp_trip(client.ns, outside.ns, "10.200.20.2", 7200);
      NSFUN_EXPECT(plain.ok);
      NSFUN_EXPECT(plain.peer == "10.200.10.2");
      {
        auto nat =
            Masquerade::create(router.ns, IpPrefix::parse("10.200.10.0/24").value(), "nsftout0");
        NSFUN_EXPECT_OK(nat);
        NSFUN_EXPECT(nat.value().table().rfind("nsfun_nat_", 0) == 0);
        NET_TRY(auto rules, nsfun::net::nft_run(router.ns, "list ruleset"));
        NSFUN_EXPECT(rules.find(nat.value().table()) != std::string::npos);
        NSFUN_EXPECT(rules.find("masquerade") != std::string::npos);
        // Other namespaces have no nftables rules at all.
        NSFUN_EXPECT(nsfun::net::nft_run(outside.ns, "list ruleset").value().empty());

        auto masked = nt::tcp_trip(client.ns, outside.ns, "10.200.20.2", 7201);
        if (!masked.ok) {
          std::fprintf(stderr, "masked: %s\n", masked.why.c_str());
        }
        NSFUN_EXPECT(masked.ok);
        NSFUN_EXPECT(masked.peer == "10.200.20.1");
        auto udp = nt::udp_trip(client.ns, outside.ns, "10.200.20.2", 7202);
        NSFUN_EXPECT(udp.ok);
        NSFUN_EXPECT(udp.peer == "10.200.20.1");
      }
      // The handle died: its table is gone, and the outside sees the client again.
      NET_TRY(auto after, nsfun::net::nft_run(router.ns, "list ruleset"));
      NSFUN_EXPECT(after.find("nsfun_nat_") == std::string::npos);
      auto unmasked = nt::tcp_trip(client.ns, outside.ns, "10.200.20.2", 7203);
      NSFUN_EXPECT(unmasked.ok);
      NSFUN_EXPECT(unmasked.peer == "10.200.10.2");
      return 0;
    });
  }

  TEST_CASE("masquerade leaves foreign rules alone and reports nftables errors") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto router, nt::make_ns());
      NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "add table inet nsft_foreign\n"));
      auto subnet = IpPrefix::parse("10.200.30.0/24").value();
      {
        NET_TRY(auto one, Masquerade::create(router.ns, subnet));
        NET_TRY(auto two, Masquerade::create(router.ns, IpPrefix::parse("fd00:30::/64").value()));
        NSFUN_EXPECT(one.table() != two.table());
        NSFUN_EXPECT(std::string(two.family()) == "ip6");
        NSFUN_EXPECT_OK(one.remove());
        NSFUN_EXPECT(!one);
        NSFUN_EXPECT_OK(one.remove());  // nothing left to do
      }
      NET_TRY(auto rules, nsfun::net::nft_run(router.ns, "list tables"));
      NSFUN_EXPECT(rules.find("nsft_foreign") != std::string::npos);
      NSFUN_EXPECT(rules.find("nsfun_nat_") == std::string::npos);

      // Kept: stays until deleted by name; the handle still names it.
      std::string kept;
      {
        NET_TRY(auto m, Masquerade::create(router.ns, subnet));
        m.keep();
        NSFUN_EXPECT(!m);
        kept = m.table();
        NSFUN_EXPECT(kept.find("nsfun_nat_") == 0);
      }
      NET_TRY(auto still, nsfun::net::nft_run(router.ns, "list tables"));
      NSFUN_EXPECT(still.find(kept) != std::string::npos);
      NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "delete table ip " + kept + "\n"));

      auto bad = nsfun::net::nft_run(router.ns, "add rule ip nsft_nowhere c drop\n");
      NSFUN_EXPECT(!bad);
      NSFUN_EXPECT(!bad.error().note().empty());
      NSFUN_EXPECT(Masquerade::create(router.ns, subnet, "nsft\"bad").error() ==
                   std::errc::invalid_argument);
      NSFUN_EXPECT(Masquerade::create(router.ns, subnet, "nsft-much-too-long").error() ==
                   std::errc::filename_too_long);
      NSFUN_EXPECT(Masquerade::create(nsfun::NetNs(), subnet).error() ==
                   std::errc::bad_file_descriptor);
      NET_TRY(auto end, nsfun::net::nft_run(router.ns, "list tables"));
      NSFUN_EXPECT(end.find("nsfun_nat_") == std::string::npos);
      return 0;
    });
  }
}

// SPDX-License-Identifier: MIT
// nsfun::net tests – issue #12: every error family of nsfun::net names what it failed on, and
// keeps the kernel's (or nft's) own words. Each case checks the rendered text
// (fmt::format("{}", e)), so dropping the object or the extended ack again fails it.
//
// Every privileged case runs in a forked child, in namespaces it acquired.

#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <nsfun/format.hpp>
#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::MacAddress;
using nsfun::net::Masquerade;
using nsfun::net::Route;
using nsfun::net::Rtnl;
using nsfun::net::Veth;

std::string text(const nsfun::error& e) {
  return fmt::format("{}", e);
}

}  // namespace

TEST_SUITE("error text") {
  TEST_CASE("issue #12: parse errors quote the text and say what is wrong") {
    auto v4 = IpPrefix::parse("10.0.0.1/33");
    REQUIRE(!v4);
    CHECK(text(v4.error()) == "parse address \"10.0.0.1/33\": prefix length not in 0..32");
    auto addr = IpPrefix::parse("10.0.0.256/24");
    REQUIRE(!addr);
    CHECK(text(addr.error()) == "parse address \"10.0.0.256/24\": not an IPv4 address");
    CHECK(addr.error() == std::errc::invalid_argument);
    auto mac = MacAddress::parse("02:00:5e:aa:bb:0g");
    REQUIRE(!mac);
    CHECK(text(mac.error()) == "parse MAC address \"02:00:5e:aa:bb:0g\": not a hex digit");
    auto name = nsfun::net::check_ifname("nsft/0");
    REQUIRE(!name);
    CHECK(text(name.error()) == "check interface name \"nsft/0\": contains '/'");
    auto long_name = nsfun::net::check_ifname("nsft0123456789ab");
    REQUIRE(!long_name);
    CHECK(text(long_name.error()) ==
          "check interface name \"nsft0123456789ab\": longer than 15 bytes");
    CHECK(long_name.error() == std::errc::filename_too_long);
  }

  TEST_CASE("issue #12: RTM_NEWLINK names the link, what was asked, and the kernel's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsfte0", "nsfte1", b.rtnl));

      // The issue's own example: the name that is taken.
      auto dup = Veth::create(a.rtnl, "nsfte0", "nsfte2", b.rtnl);
      NSFUN_EXPECT(!dup);
      NSFUN_EXPECT(nt::text_is(dup.error(), "RTM_NEWLINK nsfte0: File exists"));
      auto dup_peer = Veth::create(a.rtnl, "nsfte3", "nsfte1", b.rtnl);
      NSFUN_EXPECT(!dup_peer);
      NSFUN_EXPECT(nt::text_is(dup_peer.error(), "RTM_NEWLINK peer nsfte1: File exists"));

      // A setting the device refuses: the kernel's extended ack is the note.
      auto tiny = veth.first().set_mtu(10);
      NSFUN_EXPECT(!tiny);
      NSFUN_EXPECT(tiny.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(
          nt::text_is_with_note(tiny.error(), "RTM_NEWLINK nsfte0 mtu 10: Invalid argument"));

      // A rename onto a taken name names both.
      NET_TRY(auto other, Veth::create(a.rtnl, "nsfte4", "nsfte5"));
      auto taken = veth.first().rename("nsfte4");
      NSFUN_EXPECT(!taken);
      NSFUN_EXPECT(nt::text_is(taken.error(), "RTM_NEWLINK nsfte0 name nsfte4: File exists"));

      // Refused before the kernel: the Link and the empty handle.
      auto nowhere = veth.first().move_to(nsfun::NetNs());
      NSFUN_EXPECT(!nowhere);
      NSFUN_EXPECT(nt::text_is(nowhere.error(), "RTM_NEWLINK nsfte0 netns: empty NetNs handle"));
      auto no_peer_ns = Veth::create(a.rtnl, "nsfte6", "nsfte7", Rtnl());
      NSFUN_EXPECT(!no_peer_ns);
      NSFUN_EXPECT(nt::text_is(no_peer_ns.error(),
                               "RTM_NEWLINK nsfte6 peer nsfte7: empty Rtnl handle for the peer"));
      return 0;
    });
  }

  TEST_CASE("issue #12: RTM_GETLINK and RTM_DELLINK name the link, also once it is gone") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      auto missing = Link::by_name(a.rtnl, "nsftnone");
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(nt::text_is(missing.error(), "RTM_GETLINK nsftnone: No such device"));
      auto by_index = Link::by_index(a.rtnl, 999999);
      NSFUN_EXPECT(!by_index);
      NSFUN_EXPECT(nt::text_is(by_index.error(), "RTM_GETLINK index 999999: No such device"));
      auto empty = Link::list(Rtnl());
      NSFUN_EXPECT(!empty);
      NSFUN_EXPECT(nt::text_is(empty.error(), "RTM_GETLINK: empty Rtnl handle"));

      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftg0", "nsftg1"));
      veth.keep();
      std::pair<Link, Link> ends{veth.first(), veth.peer()};
      NSFUN_EXPECT_OK(ends.first.remove());
      // The kernel no longer knows index or name: the Link's own name for it is used.
      auto again = ends.first.remove();
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(nt::text_is(again.error(), "RTM_DELLINK nsftg0: No such device"));
      auto info = ends.second.info();
      NSFUN_EXPECT(!info);
      NSFUN_EXPECT(nt::text_is(info.error(), "RTM_GETLINK nsftg1: No such device"));
      return 0;
    });
  }

  TEST_CASE("issue #12: RTM_NEWADDR / RTM_DELADDR name the prefix and the link") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto prefix, IpPrefix::parse("10.200.40.1/24"));
      Link stale;
      {
        NET_TRY(auto veth, Veth::create(a.rtnl, "nsftad0", "nsftad1"));
        NSFUN_EXPECT_OK(nsfun::net::add_address(veth.first(), prefix));
        auto dup = nsfun::net::add_address(veth.first(), prefix);
        NSFUN_EXPECT(!dup);
        NSFUN_EXPECT(nt::text_is_with_note(dup.error(),
                                           "RTM_NEWADDR 10.200.40.1/24 on nsftad0: File exists"));
        auto absent =
            nsfun::net::remove_address(veth.first(), IpPrefix::parse("10.200.41.1/24").value());
        NSFUN_EXPECT(!absent);
        NSFUN_EXPECT(absent.error().message().rfind("RTM_DELADDR 10.200.41.1/24 on nsftad0: ", 0) ==
                     0);
        stale = veth.first();
      }  // the pair is gone; `stale` still names its first end
      // The issue's own example: the device is gone, and the kernel says so in its own words.
      auto gone = nsfun::net::add_address(stale, prefix);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_device);
      NSFUN_EXPECT(nt::text_is_with_note(gone.error(),
                                         "RTM_NEWADDR 10.200.40.1/24 on nsftad0: No such device"));
      std::fprintf(stderr, "%s\n", text(gone.error()).c_str());
      return 0;
    });
  }

  TEST_CASE("issue #12: RTM_NEWROUTE / RTM_DELROUTE name the route in ip-route words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftrt0", "nsftrt1"));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(veth.first(), IpPrefix::parse("10.200.50.1/24").value()));
      NSFUN_EXPECT_OK(veth.first().set_up());
      NSFUN_EXPECT_OK(veth.peer().set_up());

      // A gateway on no link: the kernel's errno and its words.
      Route far;
      far.destination = IpPrefix::parse("10.200.51.0/24").value();
      far.gateway = IpAddress::parse("10.99.99.99").value();
      auto unreachable = nsfun::net::add_route(a.rtnl, far);
      NSFUN_EXPECT(!unreachable);
      NSFUN_EXPECT(nt::text_is_with_note(
          unreachable.error(),
          "RTM_NEWROUTE 10.200.51.0/24 via 10.99.99.99: Network is unreachable"));

      // A route on the link, twice: the interface by name.
      Route on_link;
      on_link.destination = IpPrefix::parse("10.200.52.0/24").value();
      on_link.oif = veth.first().index();
      on_link.metric = 7;
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, on_link));
      auto dup = nsfun::net::add_route(a.rtnl, on_link);
      NSFUN_EXPECT(!dup);
      NSFUN_EXPECT(nt::text_is(dup.error(),
                               "RTM_NEWROUTE 10.200.52.0/24 dev nsftrt0 metric 7: File exists"));

      // A default route that is not there.
      Route none;
      none.gateway = IpAddress::parse("10.200.50.9").value();
      auto absent = nsfun::net::remove_route(a.rtnl, none);
      NSFUN_EXPECT(!absent);
      NSFUN_EXPECT(absent.error().message().rfind("RTM_DELROUTE default via 10.200.50.9: ", 0) ==
                   0);

      // Refused before the kernel, with the reason.
      Route nothing;
      nothing.destination = IpPrefix::parse("10.200.53.0/24").value();
      auto refused = nsfun::net::add_route(a.rtnl, nothing);
      NSFUN_EXPECT(!refused);
      NSFUN_EXPECT(nt::text_is(refused.error(),
                               "RTM_NEWROUTE 10.200.53.0/24: neither a gateway nor an interface "
                               "(oif)"));
      return 0;
    });
  }

  TEST_CASE("issue #12: bridge errors name the bridge and the port") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto hub, nt::make_ns());
      NET_TRY(auto other, nt::make_ns());
      NET_TRY(auto br, nsfun::net::bridge::create(hub.rtnl, "nsftebr0"));
      auto dup = nsfun::net::bridge::create(hub.rtnl, "nsftebr0");
      NSFUN_EXPECT(!dup);
      NSFUN_EXPECT(nt::text_is(dup.error(), "RTM_NEWLINK nsftebr0: File exists"));

      NET_TRY(auto veth, Veth::create(hub.rtnl, "nsftebp0", "nsftebp1", other.rtnl));
      auto across = nsfun::net::bridge::attach(br, veth.peer());
      NSFUN_EXPECT(!across);
      NSFUN_EXPECT(across.error() == std::errc::cross_device_link);
      NSFUN_EXPECT(nt::text_is(across.error(),
                               "RTM_NEWLINK nsftebp1 master nsftebr0: not in the same network "
                               "namespace"));
      // A veth end is no master: the kernel refuses, in its words.
      NET_TRY(auto pair, Veth::create(hub.rtnl, "nsftebq0", "nsftebq1"));
      auto not_master = nsfun::net::bridge::attach(pair.first(), pair.peer());
      NSFUN_EXPECT(!not_master);
      std::fprintf(stderr, "%s\n", text(not_master.error()).c_str());
      NSFUN_EXPECT(text(not_master.error()).rfind("RTM_NEWLINK nsftebq1 master nsftebq0: ", 0) ==
                   0);
      return 0;
    });
  }

  TEST_CASE("issue #12: sysctl errors name the file, the key or the value") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      auto missing = nsfun::net::sysctl::read(a.ns, "net.ipv4.nsft_none");
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(nt::text_is(missing.error(),
                               "open /proc/sys/net/ipv4/nsft_none: No such file or directory"));
      auto bad_value = nsfun::net::sysctl::write(a.ns, "net.ipv4.ip_forward", "nsft");
      NSFUN_EXPECT(!bad_value);
      NSFUN_EXPECT(nt::text_is(
          bad_value.error(), "write \"nsft\" to /proc/sys/net/ipv4/ip_forward: Invalid argument"));
      auto escape = nsfun::net::sysctl::read(a.ns, "net/../../etc");
      NSFUN_EXPECT(!escape);
      NSFUN_EXPECT(nt::text_is(escape.error(), "sysctl key \"net/../../etc\": contains \"..\""));
      auto no_ns = nsfun::net::sysctl::write(nsfun::NetNs(), "net.ipv4.ip_forward", "1");
      NSFUN_EXPECT(!no_ns);
      NSFUN_EXPECT(nt::text_is(no_ns.error(), "sysctl net.ipv4.ip_forward: empty NetNs handle"));
      return 0;
    });
  }

  TEST_CASE("issue #12: nftables errors name the command and keep nft's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto router, nt::make_ns());
      auto bad = nsfun::net::nft_run(router.ns, "add rule ip nsft_nowhere c drop\n");
      NSFUN_EXPECT(!bad);
      NSFUN_EXPECT(bad.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is(bad.error(),
                               "nft add rule ip nsft_nowhere c drop: Invalid argument (Could not "
                               "process rule: No such file or directory)"));

      // A table deleted behind the handle's back: remove() names it.
      NET_TRY(auto nat, Masquerade::create(router.ns, IpPrefix::parse("10.200.60.0/24").value()));
      const std::string table = nat.table();
      NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "delete table ip " + table + "\n"));
      auto removed = nat.remove();
      NSFUN_EXPECT(!removed);
      NSFUN_EXPECT(nt::text_is_with_note(removed.error(),
                                         "nft delete table ip " + table + ": Invalid argument"));

      // Refused before nftables: the interface name.
      auto quote =
          Masquerade::create(router.ns, IpPrefix::parse("10.200.60.0/24").value(), "nsft\"bad");
      NSFUN_EXPECT(!quote);
      NSFUN_EXPECT(nt::text_is(quote.error(),
                               "check interface name \"nsft\"bad\": contains a quote or a "
                               "backslash"));
      return 0;
    });
  }
}

// SPDX-License-Identifier: MIT
// nsfun::net tests – Rtnl and Link: lookups, listing, up/down, MTU, rename, MAC, moves, delete,
// the kernel's extended ack, and fd hygiene. Only namespaces the case acquired are touched.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <linux/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/enter.hpp>
#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::Link;
using nsfun::net::MacAddress;
using nsfun::net::Rtnl;
using nsfun::net::Veth;

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

}  // namespace

TEST_SUITE("link") {
  TEST_CASE("check_ifname and MacAddress parsing") {
    CHECK(nsfun::net::check_ifname("nsft0"));
    CHECK(nsfun::net::check_ifname("nsft0123456789a"));
    CHECK(nsfun::net::check_ifname("nsft0123456789ab").error() == std::errc::filename_too_long);
    CHECK(nsfun::net::check_ifname("").error() == std::errc::invalid_argument);
    CHECK(nsfun::net::check_ifname(".").error() == std::errc::invalid_argument);
    CHECK(nsfun::net::check_ifname("..").error() == std::errc::invalid_argument);
    CHECK(nsfun::net::check_ifname("a b").error() == std::errc::invalid_argument);
    CHECK(nsfun::net::check_ifname("a/b").error() == std::errc::invalid_argument);
    CHECK(nsfun::net::check_ifname("a:b").error() == std::errc::invalid_argument);

    auto mac = MacAddress::parse("02:00:5e:AA:bb:0c");
    REQUIRE(mac);
    CHECK(mac.value().to_string() == "02:00:5e:aa:bb:0c");
    CHECK(MacAddress::parse("02-00-5e-aa-bb-0c").value() == mac.value());
    CHECK(!MacAddress::parse("02:00:5e:aa:bb"));
    CHECK(!MacAddress::parse("02:00:5e:aa:bb:0g"));
    CHECK(!MacAddress::parse("02:00-5e:aa:bb:0c"));
    CHECK(MacAddress::parse("zz").error().what == "parse MAC address");
  }

  TEST_CASE("an Rtnl opened in a new namespace sees only its lo") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto ns, nsfun::acquire<NsType::net>());
      NET_TRY(auto rtnl, Rtnl::open(ns));
      NSFUN_EXPECT(rtnl.netns().identity() == ns.identity());
      NSFUN_EXPECT(rtnl.fd().get() >= 0);
      NET_TRY(auto links, Link::list(rtnl));
      NSFUN_EXPECT(links.size() == 1);
      NSFUN_EXPECT(links[0].name == "lo");
      NSFUN_EXPECT(!links[0].is_up());
      NET_TRY(auto lo, Link::by_name(rtnl, "lo"));
      NSFUN_EXPECT(lo.index() == links[0].index);
      NSFUN_EXPECT_OK(lo.set_up());
      NET_TRY(auto info, lo.info());
      NSFUN_EXPECT(info.is_up());
      NET_TRY(auto by_index, Link::by_index(rtnl, lo.index()));
      NSFUN_EXPECT(by_index.index() == lo.index());

      // The same namespace, through Rtnl::open() on a thread inside it.
      NET_TRY(auto inside, nsfun::run_in(ns, [] { return Rtnl::open(); }));
      NSFUN_EXPECT(inside.netns().identity() == ns.identity());
      NSFUN_EXPECT(nt::link_names(inside) == std::vector<std::string>{"lo"});

      auto missing = Link::by_name(rtnl, "nsftnone");
      NSFUN_EXPECT(!missing);
      NSFUN_EXPECT(missing.error() == std::errc::no_such_device);
      NSFUN_EXPECT(!Link::by_index(rtnl, 999999));
      NSFUN_EXPECT(Link::by_index(rtnl, 999999).error() == std::errc::no_such_device);
      // An empty handle refuses every request.
      NSFUN_EXPECT(Link::list(Rtnl()).error() == std::errc::bad_file_descriptor);
      return 0;
    });
  }

  TEST_CASE("link up down mtu rename mac and delete") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftl0", "nsftl1"));
      const Link& l = veth.first();
      NSFUN_EXPECT_OK(l.set_up());
      NET_TRY(auto up, l.info());
      NSFUN_EXPECT(up.is_up());
      NSFUN_EXPECT((up.flags & IFF_UP) != 0);
      NSFUN_EXPECT_OK(l.set_down());
      NET_TRY(auto down, l.info());
      NSFUN_EXPECT(!down.is_up());

      NSFUN_EXPECT_OK(l.set_mtu(1400));
      NET_TRY(auto mtu, l.info());
      NSFUN_EXPECT(mtu.mtu == 1400);

      // Too small an MTU: the kernel's errno and its extended-ack text.
      auto tiny = l.set_mtu(10);
      NSFUN_EXPECT(!tiny);
      NSFUN_EXPECT(tiny.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(tiny.error().what == "RTM_NEWLINK");
      std::fprintf(stderr, "mtu 10: %s\n", tiny.error().message().c_str());
      NSFUN_EXPECT(!tiny.error().note().empty());

      NET_TRY(auto mac, MacAddress::parse("02:00:00:00:01:02"));
      NSFUN_EXPECT_OK(l.set_mac(mac));
      NET_TRY(auto with_mac, l.info());
      NSFUN_EXPECT(with_mac.mac.has_value());
      NSFUN_EXPECT(*with_mac.mac == mac);

      NSFUN_EXPECT_OK(l.rename("nsftl9"));
      NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftl9"));
      NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftl0"));
      NSFUN_EXPECT(l.rename("nsftl1").error() == std::errc::file_exists);
      NSFUN_EXPECT(l.rename("nsft-much-too-long").error() == std::errc::filename_too_long);
      NSFUN_EXPECT_OK(l.rename("nsftl0"));

      veth.keep();
      Link first = veth.first();
      NSFUN_EXPECT_OK(first.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      auto again = first.remove();
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(again.error() == std::errc::no_such_device);
      NSFUN_EXPECT(again.error().what == "RTM_DELLINK");
      return 0;
    });
  }

  TEST_CASE("links move into a namespace by handle, by Rtnl and by pid") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftn0", "nsftn1"));
      veth.keep();
      std::pair<Link, Link> ends{veth.first(), veth.peer()};

      NSFUN_EXPECT_OK(ends.second.move_to(b.ns));
      NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftn1"));
      NSFUN_EXPECT(has(nt::link_names(b.rtnl), "nsftn1"));

      NET_TRY(auto moved, ends.first.move_to(b.rtnl));
      NSFUN_EXPECT(moved.rtnl() == b.rtnl);
      NET_TRY(auto info, moved.info());
      NSFUN_EXPECT(info.name == "nsftn0");
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // lo cannot leave its namespace.
      NET_TRY(auto lo, Link::by_name(b.rtnl, "lo"));
      NSFUN_EXPECT(!lo.move_to(a.ns));

      // By pid: a process sitting in namespace a.
      int ready[2];
      NSFUN_EXPECT(::pipe2(ready, O_CLOEXEC) == 0);
      pid_t holder = ::fork();
      if (holder == 0) {
        ::close(ready[0]);
        if (::setns(a.ns.get(), CLONE_NEWNET) != 0) {
          ::_exit(1);
        }
        if (::write(ready[1], "x", 1) != 1) {
          ::_exit(2);
        }
        ::pause();
        ::_exit(0);
      }
      ::close(ready[1]);
      char c = 0;
      NSFUN_EXPECT(::read(ready[0], &c, 1) == 1);
      ::close(ready[0]);
      auto by_pid = moved.move_to_pid(holder);
      ::kill(holder, SIGKILL);
      ::waitpid(holder, nullptr, 0);
      NSFUN_EXPECT_OK(by_pid);
      NSFUN_EXPECT(has(nt::link_names(a.rtnl), "nsftn0"));
      NSFUN_EXPECT(!has(nt::link_names(b.rtnl), "nsftn0"));
      NSFUN_EXPECT(moved.move_to_pid(0).error() == std::errc::no_such_process);
      NET_TRY(auto back, Link::by_name(a.rtnl, "nsftn0"));
      NSFUN_EXPECT_OK(back.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }

  TEST_CASE("net calls leak no fd") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      {
        NET_TRY(auto warm, nt::make_ns());
        (void)warm;
      }
      const std::size_t before = t::open_fd_count();
      for (int i = 0; i < 5; ++i) {
        NET_TRY(auto a, nt::make_ns());
        NET_TRY(auto b, nt::make_ns());
        NET_TRY(auto veth, Veth::create(a.rtnl, "nsftf0", "nsftf1", b.rtnl));
        NSFUN_EXPECT(!Veth::create(a.rtnl, "nsftf0", "nsftf2"));
        NSFUN_EXPECT_OK(nsfun::net::add_address(
            veth.first(), nsfun::net::IpPrefix::parse("10.200.9.1/24").value()));
        NSFUN_EXPECT_OK(veth.first().set_up());
        NSFUN_EXPECT_OK(nsfun::net::sysctl::write(a.ns, "net.ipv4.ip_forward", "1"));
        NSFUN_EXPECT(nsfun::net::sysctl::read(a.ns, "net.ipv4.ip_forward").value() == "1");
        NSFUN_EXPECT(!nsfun::net::sysctl::read(a.ns, "net.ipv4.nsft_missing"));
        NSFUN_EXPECT(nt::tcp_trip(a.ns, a.ns, "10.200.9.1", 7050).ok);
        auto nat = nsfun::net::Masquerade::create(
            a.ns, nsfun::net::IpPrefix::parse("10.200.9.0/24").value(), "nsftf0");
        NSFUN_EXPECT_OK(nat);
        NSFUN_EXPECT_OK(veth.move_peer(a.rtnl));
      }
      NSFUN_EXPECT(t::open_fd_count() == before);
      return 0;
    });
  }
}

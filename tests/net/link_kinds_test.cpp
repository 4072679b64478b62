// SPDX-License-Identifier: MIT
// nsfun::net tests – link kinds (LinkSpec, OwnedLink, Tun): each kind created, configured,
// moved and read back, and compared with `ip -d -j link show` run in the same namespace; the
// errors for bad input, in their words; nothing left behind.
//
// Every case runs in a forked child in network namespaces it acquired. A kind the kernel was
// built without (the kernel says "Unknown device type") makes its case skipped, not passed.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <linux/if.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <nsfun/format.hpp>
#include <nsfun/net/link_kinds.hpp>
#include <nsfun/net/net.hpp>
#include <nsfun/net/tun.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nlohmann::json;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::LinkInfo;
using nsfun::net::LinkSpec;
using nsfun::net::MacAddress;
using nsfun::net::MacvlanMode;
using nsfun::net::OperState;
using nsfun::net::OwnedLink;
using nsfun::net::Rtnl;
using nsfun::net::Tun;
using nsfun::net::TunOptions;
using nsfun::net::TunType;
using nsfun::net::Veth;
using nsfun::net::VxlanOptions;

// `ip -d -j link show [NAME]` run inside `ns` (through nsenter on this process's fd of it).
json ip_links(const nsfun::NetNs& ns, const std::string& name = {}) {
  auto r = t::run("nsenter --net=/proc/" + std::to_string(::getpid()) + "/fd/" +
                  std::to_string(ns.get()) + " ip -d -j link show " + name + " 2>/dev/null");
  if (r.status != 0 || r.out.empty()) {
    return json::array();
  }
  return json::parse(r.out, nullptr, false);
}

// The object `ip -d -j link show NAME` prints for one link; null when there is none.
json ip_link(const nsfun::NetNs& ns, const std::string& name) {
  json all = ip_links(ns, name);
  return all.is_array() && all.size() == 1 ? all[0] : json();
}

// The fields both show, compared: name, index, mtu, MAC, operstate, alias, kind, UP flag.
bool same_as_ip(const LinkInfo& info, const json& ip) {
  if (ip.is_null()) {
    std::fprintf(stderr, "ip shows no link %s\n", info.name.c_str());
    return false;
  }
  bool up = false;
  for (const auto& f : ip.value("flags", json::array())) {
    up = up || f == "UP";
  }
  std::string kind = ip.contains("linkinfo") ? ip["linkinfo"].value("info_kind", "") : "";
  bool ok = ip.value("ifname", "") == info.name && ip.value("ifindex", 0) == info.index &&
            ip.value("mtu", 0U) == info.mtu &&
            nsfun::net::parse_oper_state(ip.value("operstate", "")) == info.operstate &&
            ip.value("ifalias", "") == info.alias && kind == info.kind && up == info.is_up() &&
            (!info.mac || ip.value("address", "") == info.mac->to_string());
  if (!ok) {
    std::fprintf(stderr, "nsfun and ip differ:\n  ip: %s\n  nsfun: %s mtu %u state %s alias '%s'\n",
                 ip.dump().c_str(), info.name.c_str(), info.mtu,
                 std::string(nsfun::net::to_string(info.operstate)).c_str(), info.alias.c_str());
  }
  return ok;
}

// The kind's settings ip shows ("info_data").
json ip_data(const json& ip) {
  return ip.is_object() && ip.contains("linkinfo") ? ip["linkinfo"].value("info_data", json())
                                                   : json();
}

// The link's info once its operstate is `want` (the kernel's link watch sets it up to a second
// after a change), or as it is after 2 s.
LinkInfo settled(const Link& link, OperState want) {
  LinkInfo info = link.info().value();
  for (int i = 0; i < 200 && info.operstate != want; ++i) {
    ::usleep(10000);
    info = link.info().value();
  }
  return info;
}

}  // namespace

TEST_SUITE("link kinds") {
  TEST_CASE("macvlan and macvtap: modes, mtu, mac, alias, moved, read back as ip shows them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftp0", "nsftp1"));
      NET_TRY(auto mac, MacAddress::parse("02:00:00:00:0a:01"));
      const MacvlanMode modes[] = {MacvlanMode::private_, MacvlanMode::vepa, MacvlanMode::bridge,
                                   MacvlanMode::source};
      int n = 0;
      for (MacvlanMode mode : modes) {
        for (bool tap : {false, true}) {
          std::string name = fmt::format("nsftm{}", n++);
          auto spec = tap ? LinkSpec::macvtap(name, veth.first(), mode)
                          : LinkSpec::macvlan(name, veth.first(), mode);
          spec.mtu(1400).alias("mode " + std::string(to_string(mode)));
          if (mode == MacvlanMode::bridge && !tap) {
            spec.mac(mac).up();
          }
          NET_TRY(auto link, OwnedLink::create(a.rtnl, spec));
          NET_TRY(auto info, link->info());
          NSFUN_EXPECT(info.kind == (tap ? "macvtap" : "macvlan"));
          NSFUN_EXPECT(info.macvlan.has_value());
          NSFUN_EXPECT(info.macvlan->mode == mode);
          NSFUN_EXPECT(info.link == veth.first().index());
          NSFUN_EXPECT(info.mtu == 1400);
          NSFUN_EXPECT(info.alias == "mode " + std::string(to_string(mode)));
          json ip = ip_link(a.ns, name);
          NSFUN_EXPECT(same_as_ip(info, ip));
          NSFUN_EXPECT(ip_data(ip).value("mode", "") == to_string(mode));
          NSFUN_EXPECT(ip.value("link", "") == "nsftp0");
          if (mode == MacvlanMode::bridge && !tap) {
            NSFUN_EXPECT(info.is_up());
            NSFUN_EXPECT(info.mac && *info.mac == mac);
            // Its parent is down: up, but the lower layer is not.
            NSFUN_EXPECT(settled(link.link(), OperState::lowerlayerdown).operstate ==
                         OperState::lowerlayerdown);
            NSFUN_EXPECT(!info.carrier);
            NSFUN_EXPECT(!info.is_running());
          }
        }
      }
      // All gone with their handles; only the veth pair and lo are left.
      NSFUN_EXPECT((nt::link_names(a.rtnl) == std::vector<std::string>{"lo", "nsftp0", "nsftp1"}));

      // Moved into b: still owned there (deleted by the handle), and ip in b sees it.
      {
        NET_TRY(auto link,
                OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftmv", veth.first()).alias("x")));
        NSFUN_EXPECT_OK(link.move_to(b.rtnl));
        NSFUN_EXPECT(link->rtnl() == b.rtnl);
        NET_TRY(auto there, link->info());
        NSFUN_EXPECT(there.name == "nsftmv");
        NSFUN_EXPECT(there.macvlan && there.macvlan->mode == MacvlanMode::bridge);
        NSFUN_EXPECT(same_as_ip(there, ip_link(b.ns, "nsftmv")));
        NSFUN_EXPECT(ip_link(a.ns, "nsftmv").is_null());
      }
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});

      // keep() leaves it; release() hands it over, not owned.
      {
        NET_TRY(auto kept, OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftmk", veth.first())));
        kept.keep();
        NSFUN_EXPECT(!kept);
      }
      NET_TRY(auto kept, Link::by_name(a.rtnl, "nsftmk"));
      NSFUN_EXPECT(OwnedLink::adopt(kept));  // adopted, and deleted at the end of this line
      NSFUN_EXPECT(!Link::by_name(a.rtnl, "nsftmk"));
      Link released;
      {
        NET_TRY(auto owned, OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftmr", veth.first())));
        released = owned.release();
        NSFUN_EXPECT(owned.link().index() == 0);
        NSFUN_EXPECT_OK(owned.remove());  // nothing to do
      }
      NSFUN_EXPECT_OK(released.remove());
      NSFUN_EXPECT((nt::link_names(a.rtnl) == std::vector<std::string>{"lo", "nsftp0", "nsftp1"}));
      return 0;
    });
  }

  TEST_CASE("vxlan: id, remote or group, local, port and dev, as ip shows them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftu0", "nsftu1"));
      VxlanOptions o;
      o.id = 42;
      NET_TRY(o.remote, IpAddress::parse("10.1.1.1"));
      NET_TRY(o.local, IpAddress::parse("10.0.0.1"));
      o.port = 4790;
      NET_TRY(auto x, OwnedLink::create(a.rtnl, LinkSpec::vxlan("nsftx0", o).mtu(1450)));
      NET_TRY(auto info, x->info());
      NSFUN_EXPECT(info.vxlan.has_value());
      NSFUN_EXPECT(info.vxlan->id == 42);
      NSFUN_EXPECT(info.vxlan->remote == "10.1.1.1");
      NSFUN_EXPECT(info.vxlan->group.empty());
      NSFUN_EXPECT(info.vxlan->local == "10.0.0.1");
      NSFUN_EXPECT(info.vxlan->port == 4790);
      NSFUN_EXPECT(info.vxlan->dev == 0);
      json ip = ip_link(a.ns, "nsftx0");
      NSFUN_EXPECT(same_as_ip(info, ip));
      json d = ip_data(ip);
      NSFUN_EXPECT(d.value("id", 0U) == info.vxlan->id);
      NSFUN_EXPECT(d.value("remote", "") == info.vxlan->remote);
      NSFUN_EXPECT(d.value("local", "") == info.vxlan->local);
      NSFUN_EXPECT(d.value("port", 0) == info.vxlan->port);

      // A multicast group needs a device; IPv6 too.
      VxlanOptions g;
      g.id = 7;
      NET_TRY(g.group, IpAddress::parse("ff05::100"));
      g.dev = veth.first();
      NET_TRY(auto y, OwnedLink::create(a.rtnl, LinkSpec::vxlan("nsftx1", g)));
      NET_TRY(auto yi, y->info());
      NSFUN_EXPECT(yi.vxlan && yi.vxlan->group == "ff05::100" && yi.vxlan->remote.empty());
      NSFUN_EXPECT(yi.vxlan->dev == veth.first().index());
      NSFUN_EXPECT(yi.vxlan->port == 4789);
      json yd = ip_data(ip_link(a.ns, "nsftx1"));
      NSFUN_EXPECT(yd.value("group6", "") == "ff05::100");  // ip's key for an IPv6 group
      NSFUN_EXPECT(yd.value("link", "") == "nsftu0");

      // The same VNI and port twice: the kernel's words.
      auto twice = OwnedLink::create(a.rtnl, LinkSpec::vxlan("nsftx2", o));
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(
          nt::text_is_with_note(twice.error(), "RTM_NEWLINK nsftx2 type vxlan id 42: File exists"));
      // Moved to b and read back there (the kernel keeps its settings).
      NSFUN_EXPECT_OK(x.move_to(b.rtnl));
      NET_TRY(auto moved, x->info());
      NSFUN_EXPECT(moved.vxlan && moved.vxlan->id == 42 && moved.vxlan->remote == "10.1.1.1");
      NSFUN_EXPECT(same_as_ip(moved, ip_link(b.ns, "nsftx0")));

      NSFUN_EXPECT_OK(x.remove());
      NSFUN_EXPECT_OK(y.remove());
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});
      NSFUN_EXPECT((nt::link_names(a.rtnl) == std::vector<std::string>{"lo", "nsftu0", "nsftu1"}));
      return 0;
    });
  }

  TEST_CASE("tun and tap: owned by the fd or persistent, owner and group, moved, as ip shows") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(::access("/dev/net/tun", R_OK | W_OK) == 0, "needs /dev/net/tun");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      const std::size_t fds = t::open_fd_count();
      {
        NET_TRY(auto tap, Tun::create(a.rtnl, "nsftt0"));
        NSFUN_EXPECT(tap.fd().get() >= 0);
        NET_TRY(auto info, tap.link().info());
        NSFUN_EXPECT(info.kind == "tun");
        NSFUN_EXPECT(info.tun && info.tun->type == TunType::tap && !info.tun->persist);
        NSFUN_EXPECT(!info.tun->pi && !info.tun->multi_queue && !info.tun->owner);
        json ip = ip_link(a.ns, "nsftt0");
        NSFUN_EXPECT(same_as_ip(info, ip));
        NSFUN_EXPECT(ip_data(ip).value("type", "") == "tap");
        NSFUN_EXPECT(ip_data(ip).value("persist", true) == false);
        // Up with its fd attached: the carrier is on at once; the operstate follows when the
        // kernel's link watch gets to it (up to a second), and then ip shows the same.
        NSFUN_EXPECT_OK(tap.link().set_up());
        NET_TRY(auto up, tap.link().info());
        NSFUN_EXPECT(up.carrier);
        for (int i = 0; i < 200 && !up.is_running(); ++i) {
          ::usleep(10000);
          NET_TRY(up, tap.link().info());
        }
        // A tap reports no carrier changes of its own: "state UNKNOWN", yet running.
        NSFUN_EXPECT(up.is_running() && up.operstate == OperState::unknown);
        NSFUN_EXPECT(same_as_ip(up, ip_link(a.ns, "nsftt0")));
        // Moved with its fd still attached.
        NSFUN_EXPECT_OK(tap.move_to(b.rtnl));
        NET_TRY(auto moved, tap.link().info());
        NSFUN_EXPECT(moved.tun && moved.tun->type == TunType::tap);
        NSFUN_EXPECT(same_as_ip(moved, ip_link(b.ns, "nsftt0")));
      }
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});

      // Persistent, a tun with owner and group, a name the kernel picks.
      TunOptions o;
      o.type = TunType::tun;
      o.persist = true;
      o.owner = 65534;
      o.group = 65534;
      o.multi_queue = true;
      {
        NET_TRY(auto tun, Tun::create(a.rtnl, "", o));
        NSFUN_EXPECT(tun.name().rfind("tun", 0) == 0);
        NET_TRY(auto info, tun.link().info());
        NSFUN_EXPECT(info.tun && info.tun->type == TunType::tun && info.tun->persist &&
                     info.tun->multi_queue);
        NSFUN_EXPECT(info.tun->owner == 65534U && info.tun->group == 65534U);
        json d = ip_data(ip_link(a.ns, tun.name()));
        NSFUN_EXPECT(d.value("type", "") == "tun" && d.value("persist", false) &&
                     d.value("multi_queue", false));
        NSFUN_EXPECT(d.value("user", "") == "nobody" || d.value("user", 0) == 65534);
        // Its fd closed, a persistent device stays...
        nsfun::UniqueFd fd = tun.release_fd();
        NSFUN_EXPECT_OK(fd.close());
        NSFUN_EXPECT(Link::by_name(a.rtnl, tun.name()));
      }
      // ...until its handle dies.
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // keep() makes a device persistent, so it outlives its fd and handle.
      {
        NET_TRY(auto kept, Tun::create(a.rtnl, "nsftt1"));
        NSFUN_EXPECT_OK(kept.keep());
      }
      NET_TRY(auto kept, Link::by_name(a.rtnl, "nsftt1"));
      NET_TRY(auto kept_info, kept.info());
      NSFUN_EXPECT(kept_info.tun && kept_info.tun->persist);
      NSFUN_EXPECT_OK(kept.remove());

      // Bad input.
      auto long_name = Tun::create(a.rtnl, "nsft-much-too-long");
      NSFUN_EXPECT(long_name.error() == std::errc::filename_too_long);
      NSFUN_EXPECT(nt::text_is(
          long_name.error(), "check interface name \"nsft-much-too-long\": longer than 15 bytes"));
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftt2", "nsftt3"));
      auto taken = Tun::create(a.rtnl, "nsftt2");
      NSFUN_EXPECT(!taken);
      std::fprintf(stderr, "tun on a veth's name: %s\n", taken.error().message().c_str());
      NSFUN_EXPECT(taken.error().object() == "nsftt2");
      NSFUN_EXPECT_OK(veth.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("alias, mtu and mac set on a link and read back as ip shows them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsfta0", "nsfta1"));
      const Link& l = veth.first();
      NSFUN_EXPECT_OK(l.set_alias("uplink to the \"core\""));
      NET_TRY(auto info, l.info());
      NSFUN_EXPECT(info.alias == "uplink to the \"core\"");
      NSFUN_EXPECT(same_as_ip(info, ip_link(a.ns, "nsfta0")));
      std::string longest(nsfun::net::max_alias_length, 'a');
      NSFUN_EXPECT_OK(l.set_alias(longest));
      NSFUN_EXPECT(l.info().value().alias == longest);
      auto too_long = l.set_alias(longest + "a");
      NSFUN_EXPECT(too_long.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(
          nt::text_is(too_long.error(), "RTM_NEWLINK nsfta0 alias: longer than 255 bytes"));
      NSFUN_EXPECT_OK(l.set_alias(""));
      NET_TRY(auto cleared, l.info());
      NSFUN_EXPECT(cleared.alias.empty());
      NSFUN_EXPECT(!ip_link(a.ns, "nsfta0").contains("ifalias"));
      // Both ends up: veth's operstate and carrier as ip shows them.
      NSFUN_EXPECT_OK(veth.first().set_up());
      LinkInfo half = settled(veth.first(), OperState::lowerlayerdown);
      NSFUN_EXPECT(half.operstate == OperState::lowerlayerdown && !half.carrier);
      NSFUN_EXPECT(same_as_ip(half, ip_link(a.ns, "nsfta0")));
      NSFUN_EXPECT_OK(veth.peer().set_up());
      LinkInfo peer = settled(veth.peer(), OperState::up);
      NSFUN_EXPECT(peer.operstate == OperState::up && peer.carrier && peer.is_running());
      NSFUN_EXPECT(peer.link == veth.first().index());
      NSFUN_EXPECT(same_as_ip(peer, ip_link(a.ns, "nsfta1")));
      NSFUN_EXPECT(OperState{} == OperState::unknown);
      NSFUN_EXPECT(to_string(OperState::lowerlayerdown) == "lowerlayerdown");
      NSFUN_EXPECT(nsfun::net::parse_oper_state("LOWERLAYERDOWN") == OperState::lowerlayerdown);
      return 0;
    });
  }

  TEST_CASE("vlan, ipvlan, dummy and bond, where the kernel has them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftq0", "nsftq1"));
      int kinds = 0;
      // dummy
      auto d = OwnedLink::create(a.rtnl, LinkSpec::dummy("nsftd0").alias("d").address(
                                             IpPrefix::parse("10.9.0.1/24").value()));
      if (d) {
        ++kinds;
        NET_TRY(auto info, d.value()->info());
        NSFUN_EXPECT(info.kind == "dummy" && info.alias == "d");
        NSFUN_EXPECT(same_as_ip(info, ip_link(a.ns, "nsftd0")));
        NSFUN_EXPECT_OK(d.value().move_to(b.rtnl));
        NSFUN_EXPECT(same_as_ip(d.value()->info().value(), ip_link(b.ns, "nsftd0")));
        NSFUN_EXPECT_OK(d.value().remove());
      } else {
        NSFUN_EXPECT(d.error() == std::errc::operation_not_supported);
        NSFUN_EXPECT(nt::text_is_with_note(
            d.error(), "RTM_NEWLINK nsftd0 type dummy: Operation not supported"));
      }
      // vlan: 802.1Q and 802.1ad, and the kernel's word on id 5000.
      auto v = OwnedLink::create(a.rtnl, LinkSpec::vlan("nsftv5", veth.first(), 5));
      if (v) {
        ++kinds;
        NET_TRY(auto info, v.value()->info());
        NSFUN_EXPECT(info.vlan && info.vlan->id == 5 &&
                     info.vlan->protocol == nsfun::net::VlanProtocol::dot1q);
        json ip = ip_link(a.ns, "nsftv5");
        NSFUN_EXPECT(same_as_ip(info, ip));
        NSFUN_EXPECT(ip_data(ip).value("id", 0) == 5);
        NSFUN_EXPECT(ip_data(ip).value("protocol", "") == "802.1Q");
        NET_TRY(auto ad,
                OwnedLink::create(a.rtnl, LinkSpec::vlan("nsftv6", veth.first(), 6,
                                                         nsfun::net::VlanProtocol::dot1ad)));
        NSFUN_EXPECT(ip_data(ip_link(a.ns, "nsftv6")).value("protocol", "") == "802.1ad");
        auto big = OwnedLink::create(a.rtnl, LinkSpec::vlan("nsftv7", veth.first(), 5000));
        NSFUN_EXPECT(big.error() == std::errc::result_out_of_range);
        NSFUN_EXPECT(nt::text_is_with_note(
            big.error(), "RTM_NEWLINK nsftv7 type vlan id 5000: Numerical result out of range"));
        NSFUN_EXPECT_OK(v.value().move_to(b.rtnl));
        NSFUN_EXPECT(same_as_ip(v.value()->info().value(), ip_link(b.ns, "nsftv5")));
      } else {
        NSFUN_EXPECT(v.error() == std::errc::operation_not_supported);
        NSFUN_EXPECT(nt::text_is_with_note(
            v.error(), "RTM_NEWLINK nsftv5 type vlan id 5: Operation not supported"));
      }
      // ipvlan
      auto i = OwnedLink::create(
          a.rtnl, LinkSpec::ipvlan("nsfti0", veth.first(), nsfun::net::IpvlanMode::l3));
      if (i) {
        ++kinds;
        NET_TRY(auto info, i.value()->info());
        NSFUN_EXPECT(info.ipvlan && info.ipvlan->mode == nsfun::net::IpvlanMode::l3);
        json ip = ip_link(a.ns, "nsfti0");
        NSFUN_EXPECT(same_as_ip(info, ip));
        NSFUN_EXPECT(ip_data(ip).value("mode", "") == "l3");
      } else {
        NSFUN_EXPECT(i.error() == std::errc::operation_not_supported);
      }
      // bond, with a port attached
      auto bond =
          OwnedLink::create(a.rtnl, LinkSpec::bond("nsftb0", nsfun::net::BondMode::active_backup));
      if (bond) {
        ++kinds;
        NET_TRY(auto info, bond.value()->info());
        NSFUN_EXPECT(info.bond && info.bond->mode == nsfun::net::BondMode::active_backup);
        json ip = ip_link(a.ns, "nsftb0");
        NSFUN_EXPECT(same_as_ip(info, ip));
        NSFUN_EXPECT(ip_data(ip).value("mode", "") == "active-backup");
        NSFUN_EXPECT_OK(veth.peer().set_master(bond.value().link()));
        NSFUN_EXPECT(veth.peer().info().value().master == bond.value()->index());
      } else {
        NSFUN_EXPECT(bond.error() == std::errc::operation_not_supported);
      }
      for (auto* owned : {&d, &v, &i, &bond}) {
        if (*owned) {
          NSFUN_EXPECT_OK(owned->value().remove());
        }
      }
      NSFUN_EXPECT((nt::link_names(a.rtnl) == std::vector<std::string>{"lo", "nsftq0", "nsftq1"}));
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});
      if (kinds == 0) {
        t::skip("kernel without dummy, vlan, ipvlan and bonding (only their errors checked)");
      }
      return 0;
    });
  }

  TEST_CASE("bad input: names, parents, namespaces, unknown kinds, in their words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftz0", "nsftz1"));
      // Name too long: checked before anything is asked.
      auto long_name =
          OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsft-much-too-long", veth.first()));
      NSFUN_EXPECT(long_name.error() == std::errc::filename_too_long);
      NSFUN_EXPECT(nt::text_is(
          long_name.error(), "check interface name \"nsft-much-too-long\": longer than 15 bytes"));
      // The parent is gone: the kernel's words, naming the parent.
      Link gone;
      {
        NET_TRY(auto tmp, Veth::create(a.rtnl, "nsftg0", "nsftg1"));
        gone = tmp.first();
      }
      auto orphan = OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftz2", gone));
      NSFUN_EXPECT(orphan.error() == std::errc::no_such_device);
      // (macvlan sends no extended ack with it)
      NSFUN_EXPECT(nt::text_is(orphan.error(),
                               "RTM_NEWLINK nsftz2 type macvlan mode bridge link nsftg0: No such "
                               "device"));
      // The parent in another namespace.
      auto elsewhere = OwnedLink::create(b.rtnl, LinkSpec::macvlan("nsftz3", veth.first()));
      NSFUN_EXPECT(elsewhere.error() == std::errc::cross_device_link);
      NSFUN_EXPECT(
          nt::text_is(elsewhere.error(),
                      "RTM_NEWLINK nsftz3 type macvlan mode bridge link nsftz0: not in the "
                      "network namespace the link is created in"));
      // A name that is taken.
      auto taken = OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftz1", veth.first()));
      NSFUN_EXPECT(taken.error() == std::errc::file_exists);
      NSFUN_EXPECT(taken.error().object() == "nsftz1 type macvlan mode bridge");
      // A kind no kernel has.
      auto unknown = OwnedLink::create(a.rtnl, LinkSpec::of_kind("nsftz4", "nsftkind"));
      NSFUN_EXPECT(unknown.error() == std::errc::operation_not_supported);
      NSFUN_EXPECT(nt::text_is(unknown.error(),
                               "RTM_NEWLINK nsftz4 type nsftkind: Operation not supported "
                               "(Unknown device type)"));
      // An MTU below the device's minimum: nothing is left (the create itself failed).
      auto tiny = OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftz5", veth.first()).mtu(10));
      NSFUN_EXPECT(!tiny);
      std::fprintf(stderr, "mtu 10: %s\n", tiny.error().message().c_str());
      NSFUN_EXPECT(tiny.error().object() == "nsftz5 type macvlan mode bridge");
      // An address that cannot go on: the link made for it is deleted again.
      auto bad_addr =
          OwnedLink::create(a.rtnl, LinkSpec::macvlan("nsftz6", veth.first())
                                        .address(IpPrefix::parse("10.9.9.1/24").value())
                                        .address(IpPrefix::parse("10.9.9.1/24").value()));
      NSFUN_EXPECT(bad_addr.error() == std::errc::file_exists);
      NSFUN_EXPECT(bad_addr.error().what == "RTM_NEWADDR");
      NSFUN_EXPECT(!Link::by_name(a.rtnl, "nsftz6"));
      auto bad_alias = OwnedLink::create(
          a.rtnl, LinkSpec::macvlan("nsftz7", veth.first()).alias(std::string(300, 'x')));
      NSFUN_EXPECT(bad_alias.error() == std::errc::invalid_argument);
      // An empty Rtnl.
      NSFUN_EXPECT(OwnedLink::create(Rtnl(), LinkSpec::of_kind("nsftz8", "bridge")).error() ==
                   std::errc::bad_file_descriptor);
      NSFUN_EXPECT((nt::link_names(a.rtnl) == std::vector<std::string>{"lo", "nsftz0", "nsftz1"}));
      NSFUN_EXPECT(nt::link_names(b.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }
}

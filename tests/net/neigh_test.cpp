// SPDX-License-Identifier: MIT
// nsfun::net tests – neighbours (add_neigh, replace_neigh, remove_neigh, list_neighs) against
// `ip -j neigh show` run in the same namespace.
//
// Every case runs in a forked child and works only in network namespaces it acquired itself;
// `ip` runs inside them through nsenter --net=/proc/PID/fd/N.

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/net/neigh.hpp>
#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::ip_in;
using nsfun::net::test::ip_json;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::MacAddress;
using nsfun::net::Neigh;
using nsfun::net::NeighState;
using nsfun::net::Veth;
using Json = nlohmann::json;

// The entry for `dst` in ip's list, or null.
Json entry_of(const Json& list, const std::string& dst) {
  if (list.is_array()) {
    for (const auto& e : list) {
      if (e.value("dst", "") == dst) {
        return e;
      }
    }
  }
  return Json();
}

// True when ip's entry says what nsfun's does: lladdr, state, router flag.
bool same_as_ip(const Neigh& n, const Json& ip) {
  if (!ip.is_object()) {
    std::fprintf(stderr, "ip does not list %s\n", n.address.to_string().c_str());
    return false;
  }
  std::string lladdr = n.lladdr ? n.lladdr->to_string() : std::string();
  std::string state = ip.contains("state") && ip["state"].is_array() && !ip["state"].empty()
                          ? ip["state"][0].get<std::string>()
                          : std::string();
  bool router = ip.contains("router");
  bool ok = ip.value("lladdr", "") == lladdr && state == nsfun::net::to_string(n.state) &&
            router == ((n.flags & nsfun::net::neigh_flag::router) != 0);
  if (!ok) {
    std::fprintf(stderr, "%s: nsfun lladdr '%s' state %s router %d; ip %s\n",
                 n.address.to_string().c_str(), lladdr.c_str(),
                 std::string(nsfun::net::to_string(n.state)).c_str(),
                 (n.flags & nsfun::net::neigh_flag::router) != 0, ip.dump().c_str());
  }
  return ok;
}

std::optional<Neigh> find(const std::vector<Neigh>& list, const std::string& dst) {
  for (const Neigh& n : list) {
    if (n.address.to_string() == dst) {
      return n;
    }
  }
  return std::nullopt;
}

Neigh entry(const char* ip, const char* mac, NeighState state, std::uint8_t flags = 0) {
  Neigh n;
  n.address = IpAddress::parse(ip).value();
  if (mac != nullptr) {
    n.lladdr = MacAddress::parse(mac).value();
  }
  n.state = state;
  n.flags = flags;
  return n;
}

}  // namespace

TEST_SUITE("neigh") {
  TEST_CASE("to_string names the states as ip neigh prints them") {
    CHECK(nsfun::net::to_string(NeighState::permanent) == "PERMANENT");
    CHECK(nsfun::net::to_string(NeighState::reachable) == "REACHABLE");
    CHECK(nsfun::net::to_string(NeighState::noarp) == "NOARP");
    CHECK(nsfun::net::to_string(NeighState::none) == "NONE");
    CHECK(nsfun::net::to_string(static_cast<NeighState>(0x03)).empty());
  }

  TEST_CASE("add, replace, list and remove agree with ip -j neigh show, both ways") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftn0", "nsftn1"));
      const auto& link = veth.first();
      NSFUN_EXPECT_OK(nsfun::net::add_address(link, IpPrefix::parse("10.0.0.1/24").value()));
      NSFUN_EXPECT_OK(link.set_up());

      const std::vector<Neigh> mine = {
          entry("10.0.0.9", "02:00:00:00:00:09", NeighState::permanent),
          entry("10.0.0.8", "02:00:00:00:00:08", NeighState::reachable,
                nsfun::net::neigh_flag::router),
          entry("10.0.0.6", nullptr, NeighState::incomplete),
          entry("fd00::7", "02:00:00:00:00:07", NeighState::stale),
      };
      for (const Neigh& n : mine) {
        NSFUN_EXPECT_OK(nsfun::net::add_neigh(link, n));
      }

      // nsfun adds, nsfun and ip read the same.
      NET_TRY(auto listed, nsfun::net::neighs(link));
      Json shown = ip_json(a.ns, "neigh show nud all");
      for (const Neigh& n : mine) {
        auto got = find(listed, n.address.to_string());
        NSFUN_EXPECT(got.has_value());
        NSFUN_EXPECT(got->index == link.index());
        Neigh expected = n;
        expected.index = link.index();
        NSFUN_EXPECT(*got == expected);
        // ip shows the device by name and the entry as nsfun does.
        Json e = entry_of(shown, n.address.to_string());
        NSFUN_EXPECT(same_as_ip(*got, e));
        NSFUN_EXPECT(e.value("dev", "") == "nsftn0");
      }

      // By family: the IPv6 entry only in the AF_INET6 list.
      NET_TRY(auto v6, nsfun::net::list_neighs(a.rtnl, AF_INET6));
      NSFUN_EXPECT(find(v6, "fd00::7").has_value());
      NSFUN_EXPECT(!find(v6, "10.0.0.9").has_value());
      NET_TRY(auto v4, nsfun::net::list_neighs(a.rtnl, AF_INET, link.index()));
      NSFUN_EXPECT(find(v4, "10.0.0.9").has_value());
      NSFUN_EXPECT(!find(v4, "fd00::7").has_value());
      // The peer's entries are not the link's.
      NET_TRY(auto on_peer, nsfun::net::neighs(veth.peer()));
      NSFUN_EXPECT(!find(on_peer, "10.0.0.9").has_value());

      // replace: new MAC and state, as ip neigh replace.
      Neigh changed = entry("10.0.0.9", "02:00:00:00:00:99", NeighState::reachable);
      NSFUN_EXPECT_OK(nsfun::net::replace_neigh(link, changed));
      NET_TRY(auto after, nsfun::net::neighs(link, AF_INET));
      auto replaced = find(after, "10.0.0.9");
      NSFUN_EXPECT(replaced && replaced->lladdr == changed.lladdr &&
                   replaced->state == NeighState::reachable);
      NSFUN_EXPECT(
          same_as_ip(*replaced, entry_of(ip_json(a.ns, "neigh show dev nsftn0"), "10.0.0.9")));
      // replace also creates.
      Neigh fresh = entry("10.0.0.5", "02:00:00:00:00:05", NeighState::permanent);
      NSFUN_EXPECT_OK(nsfun::net::replace_neigh(link, fresh));
      NSFUN_EXPECT(entry_of(ip_json(a.ns, "neigh show dev nsftn0"), "10.0.0.5").is_object());

      // ip adds, nsfun reads.
      auto added = ip_in(a.ns,
                         "ip neigh add 10.0.0.4 lladdr 02:00:00:00:00:04 dev nsftn0 nud "
                         "permanent");
      NSFUN_EXPECT(added.status == 0);
      NET_TRY(auto with_ip, nsfun::net::neighs(link));
      auto by_ip = find(with_ip, "10.0.0.4");
      NSFUN_EXPECT(by_ip && by_ip->state == NeighState::permanent &&
                   by_ip->lladdr->to_string() == "02:00:00:00:00:04");

      // Remove every entry made here: neither nsfun nor ip lists any of them afterwards.
      for (const char* dst :
           {"10.0.0.9", "10.0.0.8", "10.0.0.6", "fd00::7", "10.0.0.5", "10.0.0.4"}) {
        NSFUN_EXPECT_OK(nsfun::net::remove_neigh(link, IpAddress::parse(dst).value()));
      }
      NET_TRY(auto left, nsfun::net::neighs(link));
      Json ip_left = ip_json(a.ns, "neigh show nud all");
      NSFUN_EXPECT(ip_left.is_array());
      for (const char* dst :
           {"10.0.0.9", "10.0.0.8", "10.0.0.6", "fd00::7", "10.0.0.5", "10.0.0.4"}) {
        NSFUN_EXPECT(!find(left, dst).has_value());
        NSFUN_EXPECT(entry_of(ip_left, dst).is_null());
      }
      // The kernel's own entries (IPv6 multicast, NOARP) are listed as ip lists them.
      for (const Neigh& n : left) {
        if (n.index == link.index()) {
          NSFUN_EXPECT(same_as_ip(n, entry_of(ip_left, n.address.to_string())));
        }
      }
      NSFUN_EXPECT_OK(veth.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }

  TEST_CASE("errors name the entry and keep the kernel's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, Veth::create(a.rtnl, "nsftn0", "nsftn1"));
      const auto& link = veth.first();
      Neigh n = entry("10.0.0.9", "02:00:00:00:00:09", NeighState::permanent);
      NSFUN_EXPECT_OK(nsfun::net::add_neigh(link, n));

      auto twice = nsfun::net::add_neigh(link, n);
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(nt::text_is(twice.error(),
                               "RTM_NEWNEIGH 10.0.0.9 lladdr 02:00:00:00:00:09 on nsftn0: File "
                               "exists"));

      // A permanent IPv6 entry without a MAC: refused by the kernel, in its words.
      auto no_mac = nsfun::net::add_neigh(link, entry("fd00::8", nullptr, NeighState::permanent));
      NSFUN_EXPECT(!no_mac);
      NSFUN_EXPECT(no_mac.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is_with_note(no_mac.error(),
                                         "RTM_NEWNEIGH fd00::8 on nsftn0: Invalid argument"));
      NSFUN_EXPECT(no_mac.error().note() == "No link layer address given");

      auto absent = nsfun::net::remove_neigh(link, IpAddress::parse("10.0.0.77").value());
      NSFUN_EXPECT(!absent);
      NSFUN_EXPECT(absent.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(absent.error().message().rfind(
                       "RTM_DELNEIGH 10.0.0.77 on nsftn0: No such file or directory", 0) == 0);

      // Refused before the kernel is asked.
      auto empty = nsfun::net::add_neigh(link, Neigh{});
      NSFUN_EXPECT(!empty);
      NSFUN_EXPECT(empty.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is(empty.error(),
                               "RTM_NEWNEIGH (no address) on nsftn0: no neighbour address (an "
                               "empty IpAddress)"));

      // A link that is gone: named by the name it had.
      auto gone_link = veth.first();
      NSFUN_EXPECT_OK(veth.remove());
      auto gone = nsfun::net::add_neigh(gone_link, n);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_device);
      NSFUN_EXPECT(
          gone.error().message().rfind(
              "RTM_NEWNEIGH 10.0.0.9 lladdr 02:00:00:00:00:09 on nsftn0: No such device", 0) == 0);

      // An empty Rtnl: the dump fails, with nothing named.
      NSFUN_EXPECT(nsfun::net::list_neighs(nsfun::net::Rtnl()).error() ==
                   std::errc::bad_file_descriptor);
      return 0;
    });
  }
}

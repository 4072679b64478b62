// SPDX-License-Identifier: MIT
// nsfun::net tests – route_to (ip route get), multipath routes and prefsrc, against
// `ip -j route get` and `ip -j route show` run in the same namespace.
//
// Every case runs in a forked child and works only in network namespaces it acquired itself;
// `ip` runs inside them through nsenter --net=/proc/PID/fd/N.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/net/net.hpp>
#include <nsfun/net/route.hpp>
#include <nsfun/net/rule.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::in_ns;
using nsfun::net::test::ip_json;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::Nexthop;
using nsfun::net::Route;
using nsfun::net::RouteQuery;
using nsfun::net::Veth;
using Json = nlohmann::json;

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}

IpPrefix prefix(const char* text) {
  return IpPrefix::parse(text).value();
}

// The name of the link with `index` in the namespace of `rtnl`.
std::string name_of(const nsfun::net::Rtnl& rtnl, int index) {
  auto l = Link::by_index(rtnl, index);
  if (!l) {
    return "?";
  }
  auto info = l.value().info();
  return info ? info.value().name : "?";
}

// True when ip's answer to `ip -j route get` names the same route as nsfun's.
bool same_as_ip(const nsfun::net::Rtnl& rtnl, const Route& r, const Json& ip_list) {
  if (!ip_list.is_array() || ip_list.size() != 1) {
    std::fprintf(stderr, "ip route get: %s\n", ip_list.dump().c_str());
    return false;
  }
  const Json& j = ip_list[0];
  std::string dst = r.destination ? (r.destination->length == r.destination->address.max_prefix()
                                         ? r.destination->address.to_string()
                                         : r.destination->to_string())
                                  : std::string("default");
  bool ok = j.value("dst", "") == dst &&
            j.value("gateway", "") == (r.gateway ? r.gateway->to_string() : std::string()) &&
            j.value("dev", "") == (r.oif > 0 ? name_of(rtnl, r.oif) : std::string()) &&
            j.value("prefsrc", "") == (r.prefsrc ? r.prefsrc->to_string() : std::string());
  // ip names the table only when it is not main (nor 0: no table was looked up). For a local
  // address ip says "local" where the kernel, asked which table it looked in
  // (RTM_F_LOOKUP_TABLE), says main: without policy rules of its own a namespace keeps the
  // local routes in the main table's trie.
  if (r.type == RTN_LOCAL) {
    ok = ok && j.value("type", "") == "local";
  } else if (r.table == nsfun::net::main_table || r.table == 0) {
    ok = ok && !j.contains("table");
  } else {
    ok = ok && j.value("table", "") == std::to_string(r.table);
  }
  if (!ok) {
    std::fprintf(stderr, "route differs: ip %s; nsfun dst %s via %s dev %s src %s table %u\n",
                 j.dump().c_str(), dst.c_str(), r.gateway ? r.gateway->to_string().c_str() : "-",
                 name_of(rtnl, r.oif).c_str(), r.prefsrc ? r.prefsrc->to_string().c_str() : "-",
                 r.table);
  }
  return ok;
}

// True when ip's nexthops (of the route to `dst` in `ip -j route show`) are nsfun's.
bool nexthops_as_ip(const nsfun::net::Rtnl& rtnl,
                    const std::vector<Nexthop>& nhs,
                    const Json& routes,
                    const std::string& dst) {
  if (!routes.is_array()) {
    return false;
  }
  for (const auto& j : routes) {
    if (j.value("dst", "") != dst) {
      continue;
    }
    if (!j.contains("nexthops") || j["nexthops"].size() != nhs.size()) {
      std::fprintf(stderr, "ip's route %s: %s\n", dst.c_str(), j.dump().c_str());
      return false;
    }
    for (std::size_t i = 0; i < nhs.size(); ++i) {
      const Json& h = j["nexthops"][i];
      if (h.value("gateway", "") != (nhs[i].gateway ? nhs[i].gateway->to_string() : "") ||
          h.value("dev", "") != name_of(rtnl, nhs[i].oif) ||
          h.value("weight", 0U) != nhs[i].weight) {
        std::fprintf(stderr, "nexthop %zu differs: ip %s\n", i, h.dump().c_str());
        return false;
      }
    }
    return true;
  }
  std::fprintf(stderr, "ip does not show %s: %s\n", dst.c_str(), routes.dump().c_str());
  return false;
}

std::optional<Route> find(const std::vector<Route>& routes, const IpPrefix& dst) {
  for (const Route& r : routes) {
    if (r.destination == dst) {
      return r;
    }
  }
  return std::nullopt;
}

// Two veth pairs in `rtnl`'s namespace: nsftg0 10.0.0.1/24 fd00::1/64, nsftg1 10.1.0.1/24
// fd01::1/64, all ends up.
struct TwoLinks {
  Veth zero;
  Veth one;
};

nsfun::result<TwoLinks> two_links(const nsfun::net::Rtnl& rtnl) {
  NSFUN_TRY(auto zero, Veth::create(rtnl, "nsftg0", "nsftg0p"));
  NSFUN_TRY(auto one, Veth::create(rtnl, "nsftg1", "nsftg1p"));
  NSFUN_TRYV(nsfun::net::add_address(zero.first(), prefix("10.0.0.1/24")));
  NSFUN_TRYV(nsfun::net::add_address(one.first(), prefix("10.1.0.1/24")));
  NSFUN_TRYV(nsfun::net::add_address(zero.first(), prefix("fd00::1/64"), /*nodad=*/true));
  NSFUN_TRYV(nsfun::net::add_address(one.first(), prefix("fd01::1/64"), /*nodad=*/true));
  for (const Veth* v : {&zero, &one}) {
    NSFUN_TRYV(v->first().set_up());
    NSFUN_TRYV(v->peer().set_up());
  }
  return TwoLinks{std::move(zero), std::move(one)};
}

}  // namespace

TEST_SUITE("route_get") {
  TEST_CASE("route_to answers as ip -j route get: gateway, dev, prefsrc, table") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto links, two_links(a.rtnl));
      const int one = links.one.first().index();
      Route via;
      via.destination = prefix("10.9.0.0/16");
      via.gateway = ip("10.1.0.2");
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, via));

      // Through the gateway: the host route the kernel resolved for one packet.
      NET_TRY(Route got, nsfun::net::route_to(a.rtnl, ip("10.9.1.1")));
      NSFUN_EXPECT(got.destination == prefix("10.9.1.1/32"));
      NSFUN_EXPECT(got.gateway == ip("10.1.0.2"));
      NSFUN_EXPECT(got.oif == one);
      NSFUN_EXPECT(got.prefsrc == ip("10.1.0.1"));
      NSFUN_EXPECT(got.table == nsfun::net::main_table);
      NSFUN_EXPECT(got.type == RTN_UNICAST);
      NSFUN_EXPECT(same_as_ip(a.rtnl, got, ip_json(a.ns, "route get 10.9.1.1")));

      // fibmatch: the route as it is in the table.
      RouteQuery fib;
      fib.fib_match = true;
      NET_TRY(Route matched, nsfun::net::route_to(a.rtnl, ip("10.9.1.1"), fib));
      NSFUN_EXPECT(matched.destination == prefix("10.9.0.0/16"));
      NSFUN_EXPECT(matched.gateway == ip("10.1.0.2"));
      NSFUN_EXPECT(same_as_ip(a.rtnl, matched, ip_json(a.ns, "route get fibmatch 10.9.1.1")));

      // On a link, with a source and a forced interface.
      RouteQuery from;
      from.from = ip("10.0.0.1");
      NET_TRY(Route on_link, nsfun::net::route_to(a.rtnl, ip("10.0.0.5"), from));
      NSFUN_EXPECT(!on_link.gateway);
      NSFUN_EXPECT(on_link.oif == links.zero.first().index());
      NSFUN_EXPECT(same_as_ip(a.rtnl, on_link, ip_json(a.ns, "route get 10.0.0.5 from 10.0.0.1")));
      RouteQuery forced;
      forced.oif = one;
      NET_TRY(Route out_one, nsfun::net::route_to(a.rtnl, ip("10.0.0.5"), forced));
      NSFUN_EXPECT(out_one.oif == one);
      NSFUN_EXPECT(out_one.table == 0);  // the kernel looked up no table
      NSFUN_EXPECT(same_as_ip(a.rtnl, out_one, ip_json(a.ns, "route get 10.0.0.5 oif nsftg1")));

      // An address of the namespace itself: a local route in the local table.
      NET_TRY(Route local, nsfun::net::route_to(a.rtnl, ip("10.0.0.1")));
      NSFUN_EXPECT(local.type == RTN_LOCAL);
      NSFUN_EXPECT(name_of(a.rtnl, local.oif) == "lo");
      NSFUN_EXPECT(same_as_ip(a.rtnl, local, ip_json(a.ns, "route get 10.0.0.1")));

      // IPv6.
      Route via6;
      via6.destination = prefix("fd09::/64");
      via6.gateway = ip("fd00::2");
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, via6));
      NET_TRY(Route got6, nsfun::net::route_to(a.rtnl, ip("fd09::1")));
      NSFUN_EXPECT(got6.gateway == ip("fd00::2"));
      NSFUN_EXPECT(got6.prefsrc == ip("fd00::1"));
      NSFUN_EXPECT(same_as_ip(a.rtnl, got6, ip_json(a.ns, "-6 route get fd09::1")));

      // A policy rule sends marked packets to table 100: route_to with the mark finds it there.
      Route in_100;
      in_100.destination = prefix("10.9.0.0/16");
      in_100.gateway = ip("10.0.0.2");
      in_100.table = 100;
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, in_100));
      nsfun::net::Rule marked;
      marked.priority = 100;
      marked.fwmark = 0x10;
      marked.table = 100;
      NSFUN_EXPECT_OK(nsfun::net::add_rule(a.rtnl, marked));
      RouteQuery mark;
      mark.mark = 0x10;
      NET_TRY(Route policy, nsfun::net::route_to(a.rtnl, ip("10.9.1.1"), mark));
      NSFUN_EXPECT(policy.table == 100);
      NSFUN_EXPECT(policy.gateway == ip("10.0.0.2"));
      NSFUN_EXPECT(same_as_ip(a.rtnl, policy, ip_json(a.ns, "route get 10.9.1.1 mark 0x10")));
      NET_TRY(Route unmarked, nsfun::net::route_to(a.rtnl, ip("10.9.1.1")));
      NSFUN_EXPECT(unmarked.table == nsfun::net::main_table);

      NSFUN_EXPECT_OK(nsfun::net::remove_rule(a.rtnl, marked));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, in_100));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, via));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, via6));
      NSFUN_EXPECT(!nsfun::net::route_to(a.rtnl, ip("10.9.1.1")));
      return 0;
    });
  }

  TEST_CASE("multipath routes and prefsrc: added, listed and removed as ip route shows them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto links, two_links(a.rtnl));
      const int zero = links.zero.first().index();
      const int one = links.one.first().index();

      Route multi;
      multi.destination = prefix("10.9.0.0/16");
      multi.nexthops = {Nexthop{ip("10.0.0.2"), zero, 2}, Nexthop{ip("10.1.0.2"), one, 1}};
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, multi));
      NET_TRY(auto routes, nsfun::net::list_routes(a.rtnl));
      auto listed = find(routes, multi.destination.value());
      NSFUN_EXPECT(listed.has_value());
      NSFUN_EXPECT(listed->nexthops == multi.nexthops);
      NSFUN_EXPECT(!listed->gateway && listed->oif == 0);
      Route expected = multi;
      expected.family = AF_INET;  // resolved: the list says it
      NSFUN_EXPECT(*listed == expected);
      NSFUN_EXPECT(
          nexthops_as_ip(a.rtnl, multi.nexthops, ip_json(a.ns, "route show"), "10.9.0.0/16"));
      // route_to with fibmatch shows both paths; without, one of them.
      RouteQuery fib;
      fib.fib_match = true;
      NET_TRY(Route matched, nsfun::net::route_to(a.rtnl, ip("10.9.1.1"), fib));
      NSFUN_EXPECT(matched.nexthops == multi.nexthops);
      NET_TRY(Route one_path, nsfun::net::route_to(a.rtnl, ip("10.9.1.1")));
      NSFUN_EXPECT((one_path.gateway == ip("10.0.0.2") || one_path.gateway == ip("10.1.0.2")));

      // IPv6, with a weight on the second path.
      Route multi6;
      multi6.destination = prefix("fd09::/64");
      multi6.nexthops = {Nexthop{ip("fd00::2"), zero, 1}, Nexthop{ip("fd01::2"), one, 3}};
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, multi6));
      NET_TRY(auto routes6, nsfun::net::list_routes(a.rtnl, AF_INET6));
      auto listed6 = find(routes6, multi6.destination.value());
      NSFUN_EXPECT(listed6 && listed6->nexthops == multi6.nexthops);
      NSFUN_EXPECT(
          nexthops_as_ip(a.rtnl, multi6.nexthops, ip_json(a.ns, "-6 route show"), "fd09::/64"));

      // ip adds one, nsfun reads it.
      auto added = t::run(in_ns(a.ns) +
                          " ip route add 10.8.0.0/16 nexthop via 10.0.0.3 dev "
                          "nsftg0 nexthop via 10.1.0.3 dev nsftg1 weight 5");
      NSFUN_EXPECT(added.status == 0);
      NET_TRY(auto with_ip, nsfun::net::list_routes(a.rtnl));
      auto by_ip = find(with_ip, prefix("10.8.0.0/16"));
      NSFUN_EXPECT(by_ip &&
                   by_ip->nexthops == (std::vector<Nexthop>{Nexthop{ip("10.0.0.3"), zero, 1},
                                                            Nexthop{ip("10.1.0.3"), one, 5}}));

      // A preferred source on a plain route.
      Route src;
      src.destination = prefix("10.7.0.0/16");
      src.gateway = ip("10.0.0.2");
      src.prefsrc = ip("10.1.0.1");
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, src));
      NET_TRY(auto with_src, nsfun::net::list_routes(a.rtnl));
      NSFUN_EXPECT(find(with_src, prefix("10.7.0.0/16"))->prefsrc == ip("10.1.0.1"));
      Json shown = ip_json(a.ns, "route show 10.7.0.0/16");
      NSFUN_EXPECT(shown.is_array() && shown.size() == 1 &&
                   shown[0].value("prefsrc", "") == "10.1.0.1");
      NET_TRY(Route from_src, nsfun::net::route_to(a.rtnl, ip("10.7.1.1")));
      NSFUN_EXPECT(from_src.prefsrc == ip("10.1.0.1"));

      // Removed: neither lists them.
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, multi));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, multi6));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, *by_ip));
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, src));
      NET_TRY(auto after, nsfun::net::list_routes(a.rtnl));
      NET_TRY(auto after6, nsfun::net::list_routes(a.rtnl, AF_INET6));
      for (const char* p : {"10.9.0.0/16", "10.8.0.0/16", "10.7.0.0/16"}) {
        NSFUN_EXPECT(!find(after, prefix(p)).has_value());
        NSFUN_EXPECT(ip_json(a.ns, std::string("route show ") + p) == Json::array());
      }
      NSFUN_EXPECT(!find(after6, prefix("fd09::/64")).has_value());
      NSFUN_EXPECT(ip_json(a.ns, "-6 route show fd09::/64") == Json::array());
      return 0;
    });
  }

  TEST_CASE("errors name the route or question and keep the kernel's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto links, two_links(a.rtnl));
      const int zero = links.zero.first().index();

      // No route at all.
      auto nowhere = nsfun::net::route_to(a.rtnl, ip("10.99.0.1"));
      NSFUN_EXPECT(!nowhere);
      NSFUN_EXPECT(nowhere.error() == std::errc::network_unreachable);
      NSFUN_EXPECT(nowhere.error().message().rfind("RTM_GETROUTE 10.99.0.1: Network is unreachable",
                                                   0) == 0);
      RouteQuery q;
      q.from = ip("10.0.0.1");
      q.mark = 0x10;
      auto named = nsfun::net::route_to(a.rtnl, ip("10.99.0.1"), q);
      NSFUN_EXPECT(!named);
      NSFUN_EXPECT(
          named.error().message().rfind(
              "RTM_GETROUTE 10.99.0.1 from 10.0.0.1 mark 0x10: Network is unreachable", 0) == 0);

      // Refused before the kernel is asked.
      NSFUN_EXPECT(nt::text_is(nsfun::net::route_to(a.rtnl, IpAddress{}).error(),
                               "RTM_GETROUTE (no destination): no destination address (an empty "
                               "IpAddress)"));
      RouteQuery v6_from;
      v6_from.from = ip("fd00::1");
      NSFUN_EXPECT(nt::text_is(nsfun::net::route_to(a.rtnl, ip("10.0.0.5"), v6_from).error(),
                               "RTM_GETROUTE 10.0.0.5 from fd00::1: mixed address families"));

      // A nexthop through a gateway on no link: the kernel's words.
      Route bad;
      bad.destination = prefix("10.9.0.0/16");
      bad.nexthops = {Nexthop{ip("10.0.0.2"), zero, 1}, Nexthop{ip("10.3.0.2"), 0, 1}};
      auto unreachable = nsfun::net::add_route(a.rtnl, bad);
      NSFUN_EXPECT(!unreachable);
      NSFUN_EXPECT(
          nt::text_is_with_note(unreachable.error(),
                                "RTM_NEWROUTE 10.9.0.0/16 nexthop via 10.0.0.2 dev nsftg0 nexthop "
                                "via 10.3.0.2: Network is unreachable"));
      std::fprintf(stderr, "bad nexthop: %s\n", unreachable.error().message().c_str());

      // A preferred source the namespace does not have.
      Route src;
      src.destination = prefix("10.7.0.0/16");
      src.gateway = ip("10.0.0.2");
      src.prefsrc = ip("10.0.0.99");
      auto bad_src = nsfun::net::add_route(a.rtnl, src);
      NSFUN_EXPECT(!bad_src);
      NSFUN_EXPECT(bad_src.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is_with_note(
          bad_src.error(),
          "RTM_NEWROUTE 10.7.0.0/16 via 10.0.0.2 src 10.0.0.99: Invalid argument"));
      NSFUN_EXPECT(bad_src.error().note() == "Invalid prefsrc address");

      // Refused before the kernel: weight, a nexthop with nothing, gateway beside nexthops.
      Route heavy;
      heavy.destination = prefix("10.9.0.0/16");
      heavy.nexthops = {Nexthop{ip("10.0.0.2"), zero, 0}};
      NSFUN_EXPECT(nt::text_is(nsfun::net::add_route(a.rtnl, heavy).error(),
                               "RTM_NEWROUTE 10.9.0.0/16 nexthop via 10.0.0.2 dev nsftg0 weight "
                               "0: a nexthop weight outside 1..256"));
      Route empty_hop;
      empty_hop.destination = prefix("10.9.0.0/16");
      empty_hop.nexthops = {Nexthop{}};
      NSFUN_EXPECT(nt::text_is(nsfun::net::add_route(a.rtnl, empty_hop).error(),
                               "RTM_NEWROUTE 10.9.0.0/16 nexthop: a nexthop with neither a "
                               "gateway nor an interface (oif)"));
      Route both;
      both.destination = prefix("10.9.0.0/16");
      both.gateway = ip("10.0.0.2");
      both.nexthops = {Nexthop{ip("10.1.0.2"), 0, 1}};
      NSFUN_EXPECT(nt::text_is(nsfun::net::add_route(a.rtnl, both).error(),
                               "RTM_NEWROUTE 10.9.0.0/16 via 10.0.0.2 nexthop via 10.1.0.2: a "
                               "gateway or oif beside nexthops (put them in a nexthop)"));
      Route mixed;
      mixed.destination = prefix("10.9.0.0/16");
      mixed.nexthops = {Nexthop{ip("fd00::2"), 0, 1}};
      NSFUN_EXPECT(nsfun::net::add_route(a.rtnl, mixed).error() == std::errc::invalid_argument);
      // Nothing was added.
      NET_TRY(auto routes, nsfun::net::list_routes(a.rtnl));
      NSFUN_EXPECT(!find(routes, prefix("10.9.0.0/16")).has_value());
      NSFUN_EXPECT(!find(routes, prefix("10.7.0.0/16")).has_value());
      return 0;
    });
  }
}

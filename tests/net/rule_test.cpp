// SPDX-License-Identifier: MIT
// nsfun::net tests – policy routing rules (add_rule, remove_rule, list_rules) against
// `ip -j rule show` run in the same namespace.
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
#include <nsfun/net/rule.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::in_ns;
using nsfun::net::test::ip_json;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpPrefix;
using nsfun::net::Rule;
using nsfun::net::RuleAction;
using Json = nlohmann::json;

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

// ip's name of a table: "main", "local", "default", else the number.
std::string table_name(std::uint32_t table) {
  switch (table) {
    case 253:
      return "default";
    case 254:
      return "main";
    case 255:
      return "local";
    default:
      return std::to_string(table);
  }
}

// True when ip's JSON object for a rule says what nsfun's Rule does.
bool same_as_ip(const Rule& r, const Json& ip) {
  Json want = Json::object();
  want["priority"] = r.priority.value_or(0);
  if (r.invert) {
    want["not"] = nullptr;
  }
  if (r.from) {
    want["src"] = r.from->address.to_string();
    if (r.from->length != r.from->address.max_prefix()) {
      want["srclen"] = r.from->length;
    }
  } else {
    want["src"] = "all";
  }
  if (r.to) {
    want["dst"] = r.to->address.to_string();
    if (r.to->length != r.to->address.max_prefix()) {
      want["dstlen"] = r.to->length;
    }
  }
  if (r.fwmark) {
    want["fwmark"] = hex(*r.fwmark);
    if (r.fwmask != 0xFFFFFFFFU) {
      want["fwmask"] = hex(r.fwmask);
    }
  }
  if (!r.iif.empty()) {
    want["iif"] = r.iif;
  }
  if (!r.oif.empty()) {
    want["oif"] = r.oif;
  }
  switch (r.action) {
    case RuleAction::lookup:
      want["table"] = table_name(r.table);
      break;
    case RuleAction::goto_rule:
      want["goto"] = r.goto_target;
      break;
    case RuleAction::nop:
      want["nop"] = nullptr;
      break;
    default:
      want["action"] = std::string(nsfun::net::to_string(r.action));
      break;
  }
  // ip adds markers nsfun does not model as fields (an iif that does not exist yet).
  Json got = ip;
  got.erase("iif_detached");
  got.erase("oif_detached");
  if (got != want) {
    std::fprintf(stderr, "rule differs:\n  ip    %s\n  nsfun %s\n", got.dump().c_str(),
                 want.dump().c_str());
    return false;
  }
  return true;
}

// The rule at `priority` in a list, or nothing.
std::optional<Rule> at(const std::vector<Rule>& rules, std::uint32_t priority) {
  for (const Rule& r : rules) {
    if (r.priority == priority) {
      return r;
    }
  }
  return std::nullopt;
}

// nsfun's and ip's lists are the same rules, in the same order.
bool lists_agree(const std::vector<Rule>& rules, const Json& ip) {
  if (!ip.is_array() || ip.size() != rules.size()) {
    std::fprintf(stderr, "nsfun lists %zu rules, ip %s\n", rules.size(), ip.dump().c_str());
    return false;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!same_as_ip(rules[i], ip[i])) {
      return false;
    }
  }
  return true;
}

Rule lookup_rule(std::uint32_t priority, std::uint32_t table) {
  Rule r;
  r.priority = priority;
  r.table = table;
  return r;
}

}  // namespace

TEST_SUITE("rule") {
  TEST_CASE("to_string names the actions as ip rule does") {
    CHECK(nsfun::net::to_string(RuleAction::lookup) == "lookup");
    CHECK(nsfun::net::to_string(RuleAction::goto_rule) == "goto");
    CHECK(nsfun::net::to_string(RuleAction::blackhole) == "blackhole");
    CHECK(nsfun::net::to_string(static_cast<RuleAction>(4)).empty());
  }

  TEST_CASE("add, list and remove agree with ip -j rule show, both ways") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto veth, nsfun::net::Veth::create(a.rtnl, "nsftr0", "nsftr1"));

      // A fresh namespace: local, main, default, as ip sees them.
      NET_TRY(auto defaults, nsfun::net::list_rules(a.rtnl));
      NSFUN_EXPECT(defaults.size() == 3);
      NSFUN_EXPECT(defaults[0].priority == 0u && defaults[0].table == 255);
      NSFUN_EXPECT(defaults[1].priority == 32766u && defaults[1].table == 254);
      NSFUN_EXPECT(defaults[2].priority == 32767u && defaults[2].table == 253);
      NSFUN_EXPECT(lists_agree(defaults, ip_json(a.ns, "rule show")));

      std::vector<Rule> mine;
      Rule full = lookup_rule(100, 100);
      full.from = IpPrefix::parse("10.0.0.0/24").value();
      full.to = IpPrefix::parse("10.5.0.0/16").value();
      full.iif = "nsftr0";
      full.fwmark = 0x10;
      full.fwmask = 0xff;
      mine.push_back(full);
      Rule hole;
      hole.priority = 101;
      hole.invert = true;
      hole.from = IpPrefix::parse("10.0.0.0/24").value();
      hole.action = RuleAction::blackhole;
      mine.push_back(hole);
      Rule marked;
      marked.priority = 102;
      marked.fwmark = 7;
      marked.action = RuleAction::prohibit;
      mine.push_back(marked);
      Rule jump;
      jump.priority = 103;
      jump.oif = "nsftr1";
      jump.action = RuleAction::goto_rule;
      jump.goto_target = 105;
      mine.push_back(jump);
      mine.push_back(lookup_rule(105, 1000));  // a table above 255 (FRA_TABLE)
      Rule nothing;
      nothing.priority = 106;
      nothing.to = IpPrefix::parse("10.7.0.1/32").value();
      nothing.action = RuleAction::nop;
      mine.push_back(nothing);
      Rule missing_iif = lookup_rule(107, 7);
      missing_iif.iif = "nsftnowhere";  // an interface that does not exist (yet)
      mine.push_back(missing_iif);
      for (const Rule& r : mine) {
        NSFUN_EXPECT_OK(nsfun::net::add_rule(a.rtnl, r));
      }

      // nsfun adds, both read the same.
      NET_TRY(auto listed, nsfun::net::list_rules(a.rtnl));
      NSFUN_EXPECT(listed.size() == 3 + mine.size());
      for (const Rule& r : mine) {
        auto got = at(listed, *r.priority);
        NSFUN_EXPECT(got.has_value());
        Rule expected = r;
        if (r.action != RuleAction::lookup) {
          expected.table = 0;  // the kernel keeps no table for other actions
        }
        if (!(*got == expected)) {
          std::fprintf(stderr, "listed rule %u differs\n", *r.priority);
        }
        NSFUN_EXPECT(*got == expected);
      }
      NSFUN_EXPECT(lists_agree(listed, ip_json(a.ns, "rule show")));

      // IPv6 rules are listed apart.
      Rule v6 = lookup_rule(300, 200);
      v6.family = AF_INET6;
      v6.from = IpPrefix::parse("fd00::/64").value();
      NSFUN_EXPECT_OK(nsfun::net::add_rule(a.rtnl, v6));
      NET_TRY(auto listed6, nsfun::net::list_rules(a.rtnl, AF_INET6));
      NSFUN_EXPECT(at(listed6, 300) == v6);
      NSFUN_EXPECT(!at(listed6, 100).has_value());
      NSFUN_EXPECT(lists_agree(listed6, ip_json(a.ns, "-6 rule show")));

      // ip adds, nsfun reads.
      auto added = t::run(in_ns(a.ns) +
                          " ip rule add to 10.8.0.0/16 fwmark 0x20/0xf0 lookup 42 "
                          "priority 200");
      NSFUN_EXPECT(added.status == 0);
      NET_TRY(auto with_ip, nsfun::net::list_rules(a.rtnl));
      auto by_ip = at(with_ip, 200);
      NSFUN_EXPECT(by_ip && by_ip->table == 42 && by_ip->fwmark == 0x20u &&
                   by_ip->fwmask == 0xf0u && by_ip->to == IpPrefix::parse("10.8.0.0/16").value());

      // Remove each as listed: back to the three rules of a fresh namespace, for ip too.
      for (const Rule& r : with_ip) {
        if (r.priority != 0u && r.priority != 32766u && r.priority != 32767u) {
          NSFUN_EXPECT_OK(nsfun::net::remove_rule(a.rtnl, r));
        }
      }
      NSFUN_EXPECT_OK(nsfun::net::remove_rule(a.rtnl, v6));
      NET_TRY(auto left, nsfun::net::list_rules(a.rtnl));
      NSFUN_EXPECT(left == defaults);
      NSFUN_EXPECT(lists_agree(left, ip_json(a.ns, "rule show")));
      NET_TRY(auto left6, nsfun::net::list_rules(a.rtnl, AF_INET6));
      NSFUN_EXPECT(left6.size() == 2);  // local and main
      NSFUN_EXPECT(lists_agree(left6, ip_json(a.ns, "-6 rule show")));
      return 0;
    });
  }

  TEST_CASE("errors name the rule and keep the kernel's words") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      Rule r = lookup_rule(100, 100);
      r.from = IpPrefix::parse("10.0.0.0/24").value();
      NSFUN_EXPECT_OK(nsfun::net::add_rule(a.rtnl, r));
      auto twice = nsfun::net::add_rule(a.rtnl, r);
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(twice.error().message().rfind(
                       "RTM_NEWRULE priority 100 from 10.0.0.0/24 lookup 100: File exists", 0) ==
                   0);

      // A goto to an earlier rule: the kernel's words.
      Rule back;
      back.priority = 200;
      back.action = RuleAction::goto_rule;
      back.goto_target = 100;
      auto backward = nsfun::net::add_rule(a.rtnl, back);
      NSFUN_EXPECT(!backward);
      NSFUN_EXPECT(backward.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is_with_note(
          backward.error(), "RTM_NEWRULE priority 200 from all goto 100: Invalid argument"));
      NSFUN_EXPECT(backward.error().note() == "Backward goto not supported");

      auto absent = nsfun::net::remove_rule(a.rtnl, lookup_rule(555, 100));
      NSFUN_EXPECT(!absent);
      NSFUN_EXPECT(absent.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(
          absent.error().message().rfind(
              "RTM_DELRULE priority 555 from all lookup 100: No such file or directory", 0) == 0);

      // Refused before the kernel is asked, with the reason.
      Rule mixed = lookup_rule(300, 100);
      mixed.from = IpPrefix::parse("fd00::/64").value();
      auto wrong_family = nsfun::net::add_rule(a.rtnl, mixed);
      NSFUN_EXPECT(!wrong_family);
      NSFUN_EXPECT(wrong_family.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is(wrong_family.error(),
                               "RTM_NEWRULE priority 300 from fd00::/64 lookup 100: a prefix of "
                               "another family than the rule's"));
      Rule bad_name = lookup_rule(301, 100);
      bad_name.iif = "a/b";
      NSFUN_EXPECT(nt::text_is(nsfun::net::add_rule(a.rtnl, bad_name).error(),
                               "RTM_NEWRULE priority 301 from all iif a/b lookup 100: iif is not "
                               "an interface name"));
      Rule table0 = lookup_rule(302, 0);
      NSFUN_EXPECT(nt::text_is(nsfun::net::add_rule(a.rtnl, table0).error(),
                               "RTM_NEWRULE priority 302 from all lookup 0: a lookup in table 0 "
                               "(RT_TABLE_UNSPEC)"));
      Rule no_family = lookup_rule(303, 100);
      no_family.family = AF_UNSPEC;
      NSFUN_EXPECT(nsfun::net::add_rule(a.rtnl, no_family).error() == std::errc::invalid_argument);
      NSFUN_EXPECT_OK(nsfun::net::remove_rule(a.rtnl, r));
      NET_TRY(auto left, nsfun::net::list_rules(a.rtnl));
      NSFUN_EXPECT(left.size() == 3);
      return 0;
    });
  }
}

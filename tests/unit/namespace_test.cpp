// SPDX-License-Identifier: MIT
// nsfun tests – namespace.hpp: identity values.

#include <map>
#include <unordered_set>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
#include <nsfun/namespace.hpp>

using nsfun::Namespace;
using nsfun::NsType;

TEST_SUITE("namespace") {
  TEST_CASE("prints like a proc ns link") {
    Namespace ns(NsType::net, 4, 4026531833, 3);
    CHECK(ns.to_string() == "net:[4026531833]");
    CHECK(fmt::format("{}", ns) == "net:[4026531833]");
    CHECK(fmt::format("{:>20}|", ns) == "    net:[4026531833]|");
  }

  TEST_CASE("equality by type device inode and id when both known") {
    Namespace a(NsType::net, 4, 100, 7);
    CHECK(a == Namespace(NsType::net, 4, 100, 7));
    CHECK(a != Namespace(NsType::uts, 4, 100, 7));
    CHECK(a != Namespace(NsType::net, 4, 101, 7));
    CHECK(a != Namespace(NsType::net, 5, 100, 7));
    // A recycled inode number: same inode, a different kernel id. Not the same namespace.
    CHECK(a != Namespace(NsType::net, 4, 100, 8));
    // Without an id (older kernel, or read from a /proc link) the inode decides.
    CHECK(a == Namespace(NsType::net, 4, 100));
    CHECK(a == Namespace(NsType::net, 0, 100));
  }

  TEST_CASE("ordering and hashing agree with equality") {
    Namespace a(NsType::net, 4, 100, 7);
    Namespace b(NsType::net, 4, 200, 9);
    Namespace c(NsType::cgroup, 4, 50, 1);
    CHECK(a < b);
    CHECK(b < c);  // type first
    CHECK(std::hash<Namespace>{}(a) == std::hash<Namespace>{}(Namespace(NsType::net, 0, 100)));
    std::unordered_set<Namespace> set{a, b, c, Namespace(NsType::net, 4, 100, 7)};
    CHECK(set.size() == 3);
    std::map<Namespace, int> map{{a, 1}, {b, 2}, {c, 3}};
    CHECK(map.begin()->second == 1);
  }

  TEST_CASE("default value is empty") {
    CHECK(Namespace{}.empty());
    CHECK_FALSE(Namespace(NsType::pid, 4, 1).empty());
  }
}

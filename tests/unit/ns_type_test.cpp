// SPDX-License-Identifier: MIT
// nsfun tests – ns_type.hpp: the type table, links and NsTypeSet.

#include <set>
#include <string>

#include <sched.h>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
#include <nsfun/ns_type.hpp>

using nsfun::NsType;
using nsfun::NsTypeSet;

TEST_SUITE("ns_type") {
  TEST_CASE("name and CLONE_NEW flag round-trip for all eight types") {
    std::set<std::string_view> names;
    int all_flags = 0;
    for (NsType t : nsfun::all_ns_types) {
      auto parsed = nsfun::parse_ns_type(nsfun::name(t));
      REQUIRE(parsed);
      CHECK(parsed.value() == t);
      auto from_flag = nsfun::ns_type_from_clone_flag(nsfun::clone_flag(t));
      REQUIRE(from_flag);
      CHECK(*from_flag == t);
      names.insert(nsfun::name(t));
      CHECK((all_flags & nsfun::clone_flag(t)) == 0);
      all_flags |= nsfun::clone_flag(t);
    }
    CHECK(names.size() == 8);
  }

  TEST_CASE("flags match the kernel headers") {
    CHECK(nsfun::clone_flag(NsType::mnt) == CLONE_NEWNS);
    CHECK(nsfun::clone_flag(NsType::uts) == CLONE_NEWUTS);
    CHECK(nsfun::clone_flag(NsType::ipc) == CLONE_NEWIPC);
    CHECK(nsfun::clone_flag(NsType::pid) == CLONE_NEWPID);
    CHECK(nsfun::clone_flag(NsType::net) == CLONE_NEWNET);
    CHECK(nsfun::clone_flag(NsType::user) == CLONE_NEWUSER);
    CHECK(nsfun::clone_flag(NsType::cgroup) == CLONE_NEWCGROUP);
    CHECK(nsfun::clone_flag(NsType::time) == 0x80);  // CLONE_NEWTIME, missing from older glibc
    CHECK_FALSE(nsfun::ns_type_from_clone_flag(CLONE_NEWNET | CLONE_NEWUTS));
    CHECK_FALSE(nsfun::ns_type_from_clone_flag(0));
  }

  TEST_CASE("links name the proc entries and point to their types") {
    CHECK(nsfun::all_ns_links.size() == 10);
    CHECK(nsfun::name(nsfun::NsLink::pid_for_children) == "pid_for_children");
    CHECK(nsfun::name(nsfun::NsLink::time_for_children) == "time_for_children");
    CHECK(nsfun::type_of(nsfun::NsLink::pid_for_children) == NsType::pid);
    CHECK(nsfun::type_of(nsfun::NsLink::time_for_children) == NsType::time);
    for (NsType t : nsfun::all_ns_types) {
      CHECK(nsfun::type_of(nsfun::link_of(t)) == t);
      CHECK(nsfun::name(nsfun::link_of(t)) == nsfun::name(t));
    }
  }

  TEST_CASE("parse accepts the long names unshare uses") {
    CHECK(nsfun::parse_ns_type("mount").value() == NsType::mnt);
    CHECK(nsfun::parse_ns_type("network").value() == NsType::net);
  }

  TEST_CASE("parse refuses unknown names with a clear error") {
    for (const char* bad : {"", "nett", "NET", "pid_for_children", " net", "all"}) {
      auto r = nsfun::parse_ns_type(bad);
      REQUIRE_FALSE(r);
      CHECK(r.error() == nsfun::errc::unknown_namespace_type);
      CHECK(r.error().what == "namespace type");
    }
  }

  TEST_CASE("an unknown type name is named in the error") {
    auto r = nsfun::parse_ns_type("nett");
    REQUIRE_FALSE(r);
    CHECK(fmt::format("{}", r.error()) ==
          R"(namespace type "nett": not one of user, mnt, uts, ipc, pid, net, cgroup, time)");
    // A long text is cut in the error; the reason is kept.
    auto long_name = nsfun::parse_ns_type(std::string(100, 'x'));
    REQUIRE_FALSE(long_name);
    CHECK(long_name.error().object() == "\"" + std::string(64, 'x') + "...\"");
    CHECK(long_name.error().reason() == "not one of user, mnt, uts, ipc, pid, net, cgroup, time");
    // In a list, the unknown item is named.
    auto in_list = NsTypeSet::parse("net,bogus");
    REQUIRE_FALSE(in_list);
    CHECK(in_list.error().message() ==
          R"(namespace type "bogus": not one of user, mnt, uts, ipc, pid, net, cgroup, time)");
    auto all = NsTypeSet::parse("all,net");
    REQUIRE_FALSE(all);
    CHECK(all.error().message() ==
          R"(namespace type list "all,net": "all" stands alone, not in a list)");
  }

  TEST_CASE("an empty item is named with its list") {
    auto r = NsTypeSet::parse("net,,uts");
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::empty_namespace_type_list);
    CHECK(fmt::format("{}", r.error()) == R"(namespace type list "net,,uts": an empty item)");
    auto empty = NsTypeSet::parse("  ");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message() == R"(namespace type list "": no type)");
  }

  TEST_CASE("set parse of a comma list") {
    auto s = NsTypeSet::parse("net,uts");
    REQUIRE(s);
    CHECK(s.value() == NsTypeSet{NsType::net, NsType::uts});
    CHECK(s.value().size() == 2);
    CHECK(s.value().clone_flags() == (CLONE_NEWNET | CLONE_NEWUTS));
    CHECK(NsTypeSet::parse(" net , mount ").value() == NsTypeSet{NsType::net, NsType::mnt});
    CHECK(NsTypeSet::parse("net,net").value() == NsTypeSet{NsType::net});
    CHECK(NsTypeSet::parse("all").value() == NsTypeSet::all());
  }

  TEST_CASE("set parse of empty or malformed lists fails") {
    for (const char* bad : {"", " ", ",", "net,", ",net", "net,,uts"}) {
      auto r = NsTypeSet::parse(bad);
      REQUIRE_FALSE(r);
      CHECK(r.error() == nsfun::errc::empty_namespace_type_list);
    }
    auto r = NsTypeSet::parse("net,bogus");
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::unknown_namespace_type);
    CHECK(NsTypeSet::parse("all,net").error() == nsfun::errc::unknown_namespace_type);
  }

  TEST_CASE("set algebra and iteration order") {
    NsTypeSet a{NsType::net, NsType::user, NsType::mnt};
    NsTypeSet b{NsType::mnt, NsType::pid};
    CHECK((a | b).size() == 4);
    CHECK((a & b) == NsTypeSet{NsType::mnt});
    CHECK((a - b) == NsTypeSet{NsType::net, NsType::user});
    std::string order;
    for (NsType t : a) {
      order += std::string(nsfun::name(t)) + " ";
    }
    CHECK(order == "user mnt net ");  // user first: entering it grants rights for the rest
    CHECK(a.to_string() == "user,mnt,net");
    a.erase(NsType::user);
    CHECK_FALSE(a.contains(NsType::user));
    CHECK(NsTypeSet{}.empty());
    CHECK(NsTypeSet::all().size() == 8);
    CHECK(NsTypeSet::from_clone_flags(CLONE_NEWNET | CLONE_NEWPID | CLONE_VM) ==
          NsTypeSet{NsType::net, NsType::pid});
    CHECK(NsTypeSet::from_clone_flags(NsTypeSet::all().clone_flags()) == NsTypeSet::all());
  }

  TEST_CASE("fmt prints types links and sets") {
    CHECK(fmt::format("{}", NsType::cgroup) == "cgroup");
    CHECK(fmt::format("{}", nsfun::NsLink::pid_for_children) == "pid_for_children");
    CHECK(fmt::format("{}", NsTypeSet{NsType::uts, NsType::net}) == "uts,net");
    CHECK(fmt::format("[{:>5}]", NsType::net) == "[  net]");
  }
}

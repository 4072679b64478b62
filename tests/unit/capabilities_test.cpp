// SPDX-License-Identifier: MIT
// nsfun tests – capabilities.hpp: CapSet names (through libcap-ng) both ways, sets and their
// rules, compared with capsh's own names.

#include <string>

#include <linux/capability.h>

#include <doctest/doctest.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/error.hpp>

#include "test_support.hpp"

using nsfun::Capabilities;
using nsfun::CapSet;

TEST_SUITE("capabilities") {
  TEST_CASE("parse: names with and without cap_, any case, numbers, spaces") {
    auto s = CapSet::parse("cap_net_admin, CAP_SYS_TIME,chown ,21");
    REQUIRE(s);
    CHECK(s.value().contains(CAP_NET_ADMIN));
    CHECK(s.value().contains(CAP_SYS_TIME));
    CHECK(s.value().contains(CAP_CHOWN));
    CHECK(s.value().contains(CAP_SYS_ADMIN));  // 21
    CHECK(s.value().size() == 4);
    CHECK(s.value().to_string() == "cap_chown,cap_net_admin,cap_sys_admin,cap_sys_time");
  }

  TEST_CASE("parse: empty and none are the empty set, all is all()") {
    CHECK(CapSet::parse("").value().empty());
    CHECK(CapSet::parse("  none ").value().empty());
    CHECK(CapSet::parse("all").value() == CapSet::all());
    CHECK(CapSet::none().to_string().empty());
  }

  TEST_CASE("parse: an unknown name is an error naming it") {
    auto s = CapSet::parse("cap_chown,cap_bogus");
    REQUIRE_FALSE(s);
    CHECK(s.error() == nsfun::errc::invalid_name);
    CHECK(s.error().message() == "capability \"cap_bogus\": not a capability name");
    CHECK_FALSE(CapSet::parse("64"));
    CHECK_FALSE(CapSet::parse("cap_chown,,cap_kill"));
    CHECK_FALSE(CapSet::parse("cap_"));
  }

  TEST_CASE("to_string and parse round-trip every capability the kernel knows") {
    CapSet all = CapSet::all();
    CHECK(all.contains(CAP_CHOWN));
    CHECK(all.contains(CAP_LAST_CAP));
    auto back = CapSet::parse(all.to_string());
    REQUIRE(back);
    CHECK(back.value() == all);
    for (int c = 0; c <= CAP_LAST_CAP; ++c) {
      std::string n = CapSet::name(c);
      CAPTURE(n);
      CHECK(n.rfind("cap_", 0) == 0);
      CHECK(CapSet::parse(n).value() == CapSet{}.add(c));
    }
    CHECK(CapSet::name(64).empty());
    CHECK(CapSet::name(-1).empty());
  }

  TEST_CASE("names agree with capsh's") {
    NSFUN_REQUIRE(nsfun::test::have_program("capsh"), "capsh is not installed");
    // capsh --decode prints the names of a hexadecimal mask: "0x...=cap_chown,cap_kill".
    CapSet s = CapSet::container_default();
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(s.bits()));
    auto r = nsfun::test::run(std::string("capsh --decode=") + hex);
    REQUIRE(r.status == 0);
    std::string out = r.out.substr(r.out.find('=') + 1);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
      out.pop_back();
    }
    CHECK(out == s.to_string());
  }

  TEST_CASE("container_default: the 14 capabilities runc and crun give") {
    CapSet s = CapSet::container_default();
    CHECK(s.size() == 14);
    CHECK(s.to_string() ==
          "cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,"
          "cap_setpcap,cap_net_bind_service,cap_net_raw,cap_sys_chroot,cap_mknod,cap_audit_write,"
          "cap_setfcap");
    CHECK_FALSE(s.contains(CAP_SYS_ADMIN));
    Capabilities c = Capabilities::container_default();
    CHECK(c.bounding == s);
    CHECK(c.effective == s);
    CHECK(c.permitted == s);
    CHECK(c.inheritable.empty());
    CHECK(c.ambient.empty());
    CHECK(c.check());
  }

  TEST_CASE("add, remove, contains, bits") {
    CapSet s;
    s.add(CAP_KILL).add(CAP_CHOWN).add(99).add(-1);
    CHECK(s.bits() == ((1ULL << CAP_KILL) | (1ULL << CAP_CHOWN)));
    CHECK(s.contains(CapSet::from_bits(1ULL << CAP_KILL)));
    s.remove(CAP_KILL);
    CHECK_FALSE(s.contains(CAP_KILL));
    CHECK_FALSE(s.contains(99));
    CHECK(CapSet::all().contains(s));
    CapSet everything = CapSet::all();
    CHECK(everything.remove(CapSet::all()).empty());
  }

  TEST_CASE("check: the kernel's rules between the sets, naming what breaks them") {
    Capabilities c = Capabilities::only(CapSet{}.add(CAP_CHOWN));
    c.ambient.add(CAP_NET_ADMIN);
    auto r = c.check();
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::invalid_argument);
    CHECK(r.error().message() == "capabilities: ambient not in permitted: cap_net_admin");

    c = Capabilities::only(CapSet{}.add(CAP_CHOWN));
    c.effective.add(CAP_KILL).add(CAP_SYS_TIME);
    r = c.check();
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "capabilities: effective not in permitted: cap_kill (and more)");

    c = Capabilities::only(CapSet{}.add(CAP_CHOWN));
    c.permitted.add(CAP_KILL);
    c.ambient.add(CAP_KILL);
    r = c.check();
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "capabilities: permitted not in bounding: cap_kill");

    c = Capabilities::only(CapSet{}.add(CAP_CHOWN));
    c.inheritable.add(CAP_CHOWN);
    c.ambient.add(CAP_CHOWN);
    CHECK(c.check());
  }
}

// SPDX-License-Identifier: MIT
// nsfun tests – CapSet::to_string and CapSet::parse round-trip every set, numbers libcap-ng or
// the running kernel has no name for included (issue 17, fuzz_capabilities' finding: "cap_41",
// which to_string prints for capability 41, was "not a capability name" to parse).
#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/error.hpp>

using nsfun::CapSet;

TEST_SUITE("capabilities") {
  TEST_CASE("parse takes cap_N back for every N in 0..63, as to_string prints it") {
    auto s = CapSet::parse("cap_41");
    REQUIRE(s);
    CHECK(s.value() == CapSet::from_bits(std::uint64_t{1} << 41U));
    CHECK(s.value().to_string() == "cap_41");
    CHECK(CapSet::parse("CAP_63").value() == CapSet::from_bits(std::uint64_t{1} << 63U));
    CHECK(CapSet::parse("cap_12").value() == CapSet::parse("net_admin").value());
    for (int c = 0; c <= CapSet::max_cap; ++c) {
      CAPTURE(c);
      const CapSet one = CapSet{}.add(c);
      auto back = CapSet::parse(one.to_string());
      REQUIRE(back);
      CHECK(back.value() == one);
      CHECK(CapSet::parse("cap_" + std::to_string(c)).value() == one);
    }
    const CapSet every = CapSet::from_bits(~std::uint64_t{0});
    CHECK(CapSet::parse(every.to_string()).value() == every);
  }

  TEST_CASE("parse: cap_N past 63 is not a capability, naming the word") {
    for (const char* bad : {"cap_64", "cap_99999999999", "cap_-1", "cap_1x"}) {
      CAPTURE(bad);
      auto s = CapSet::parse(bad);
      REQUIRE_FALSE(s);
      CHECK(s.error() == nsfun::errc::invalid_name);
      CHECK(s.error().message() ==
            std::string("capability \"") + bad + "\": not a capability name");
    }
  }
}

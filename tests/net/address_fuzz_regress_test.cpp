// SPDX-License-Identifier: MIT
// nsfun::net – inputs the fuzz target tests/fuzz/fuzz_net_address.cpp found (issue 17): an
// address text with a NUL in it was cut at the NUL by inet_pton and accepted.
#include <string_view>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>

using namespace std::string_view_literals;

TEST_SUITE("address fuzz regressions") {
  TEST_CASE("an address or prefix text with a NUL byte is refused, naming the NUL") {
    for (std::string_view text : {"10.0.0.1\0junk"sv, "::ffff:19\0\0B\0p2`-8"sv, "fd00::1\0"sv,
                                  "\0"sv, "10.0.0.1\0/24"sv}) {
      CAPTURE(text.size());
      auto a = nsfun::net::IpAddress::parse(text);
      REQUIRE_FALSE(a);
      CHECK(a.error() == std::errc::invalid_argument);
      CHECK(a.error().reason() == "a NUL byte in it");
      auto p = nsfun::net::IpPrefix::parse(text);
      REQUIRE_FALSE(p);
      CHECK(p.error() == std::errc::invalid_argument);
    }
    // The same texts without the NUL and what follows still parse.
    CHECK(nsfun::net::IpAddress::parse("10.0.0.1").value().to_string() == "10.0.0.1");
    CHECK(nsfun::net::IpPrefix::parse("fd00::1/64").value().to_string() == "fd00::1/64");
  }

  TEST_CASE("a prefix whose length has a NUL after it is refused") {
    auto p = nsfun::net::IpPrefix::parse("10.0.0.1/24\0"sv);
    REQUIRE_FALSE(p);
    CHECK(p.error() == std::errc::invalid_argument);
  }
}

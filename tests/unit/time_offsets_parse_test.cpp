// SPDX-License-Identifier: MIT
// The /proc/PID/timens_offsets parser with text the kernel never writes (issue 17, defect 11:
// `sec * 1e9 + nsec` overflowed a signed 64-bit integer).
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include <nsfun/time_ns.hpp>

using namespace std::chrono_literals;

TEST_CASE("parse_time_offsets reads the kernel's text, names and numbers alike") {
  auto r = nsfun::detail::parse_time_offsets(
      "monotonic      86400         0\nboottime -2 500000000\n", "t");
  REQUIRE(r.has_value());
  CHECK(r.value().monotonic == 86400s);
  CHECK(r.value().boottime == -1500ms);
  auto numeric = nsfun::detail::parse_time_offsets("1 3 0\n7 0 1\n", "t");
  REQUIRE(numeric.has_value());
  CHECK(numeric.value().monotonic == 3s);
  CHECK(numeric.value().boottime == 1ns);
  // The kernel's extremes: KTIME_SEC_MAX seconds with few enough nanoseconds still fits.
  auto edge = nsfun::detail::parse_time_offsets("monotonic 9223372036 854775807\n", "t");
  REQUIRE(edge.has_value());
  CHECK(edge.value().monotonic.count() == INT64_MAX);
  auto low = nsfun::detail::parse_time_offsets("boottime -9223372036 0\n", "t");
  REQUIRE(low.has_value());
  CHECK(low.value().boottime.count() == -9'223'372'036'000'000'000);
}

TEST_CASE("parse_time_offsets refuses out-of-range and malformed lines, quoting them") {
  for (const char* bad : {
           "monotonic 9300000000 0",               // beyond KTIME_SEC_MAX: overflowed before
           "boottime 0 9223372036854775807",       // nanoseconds beyond a second: overflowed
           "monotonic 9223372036 999999999",       // in range each, overflows together
           "boottime -9223372037 0",               // below -KTIME_SEC_MAX
           "monotonic 1 -1",                       // negative nanoseconds
           "monotonic 1 1000000000",               // a whole second of nanoseconds
           "monotonic 99999999999999999999999 0",  // not an int64
           "realtime 1 0",                         // no such clock offset
           "monotonic 1",                          // a number missing
           "monotonic 1 2 3",                      // one too many
           "monotonic x 0",
       }) {
    CAPTURE(bad);
    auto r = nsfun::detail::parse_time_offsets(bad, "/proc/42/timens_offsets");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == std::errc::invalid_argument);
    std::string msg = r.error().message();
    CHECK(msg.find("/proc/42/timens_offsets line \"") != std::string::npos);
    CHECK(msg.find(bad) != std::string::npos);
  }
}

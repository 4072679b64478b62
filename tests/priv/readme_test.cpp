// SPDX-License-Identifier: MIT
// nsfun tests – the README's opening example, compiled and run as written.

#include <doctest/doctest.h>

#include <nsfun/nsfun.hpp>

#include "test_support.hpp"

namespace {

// Verbatim from README.md (the lines between the function braces).
nsfun::result<void> readme_example() {
  // A new network namespace, without moving any of the caller's threads into it.
  NSFUN_TRY(nsfun::NetNs net, nsfun::acquire<nsfun::NsType::net>());
  // Run a function on a short-lived thread inside it; the caller never changes namespace.
  NSFUN_TRY(bool inside, nsfun::run_in(net, [&] { return net.fd().is_current().value(); }));
  // Keep it under /run/netns/demo, usable with `ip netns exec demo …`.
  NSFUN_TRYV(nsfun::netns::attach("demo", net));
  fmt::print("{}\n", net);  // net:[4026532481]
  if (!inside) {
    return nsfun::errno_error(EINVAL, "run_in did not run inside");
  }
  return nsfun::success();
}

}  // namespace

TEST_SUITE("readme") {
  TEST_CASE("the README example runs") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);  // /run/netns/demo stays in here
      auto r = readme_example();
      NSFUN_EXPECT_OK(r);
      auto demo = nsfun::netns::open("demo");
      NSFUN_EXPECT_OK(demo);
      NSFUN_EXPECT_OK(nsfun::netns::remove("demo"));
      return 0;
    });
  }
}

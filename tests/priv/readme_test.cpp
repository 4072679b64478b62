// SPDX-License-Identifier: MIT
// nsfun tests – the README's opening example, compiled and run as written.

#include <cerrno>
#include <csignal>
#include <string>

#include <doctest/doctest.h>

#include <nsfun/nsfun.hpp>

#include "test_support.hpp"

namespace {

// Verbatim from README.md (the lines between the function braces).
nsfun::result<void> readme_example() {
  // A new network namespace, without moving any of the caller's threads into it.
  NSFUN_TRY(nsfun::NetNs net, nsfun::acquire<nsfun::NsType::net>());
  // Run a function on a short-lived thread inside it; the caller never changes namespace.
  NSFUN_TRY(bool inside, nsfun::run_in(net, [&] { return net.ns().is_current().value(); }));
  // Keep it under /run/netns/demo, usable with `ip netns exec demo …`.
  NSFUN_TRYV(nsfun::netns::attach("demo", net));
  fmt::print("{}\n", net);  // net:[4026532481]
  if (!inside) {
    return nsfun::errno_error(EINVAL, "run_in did not run inside");
  }
  return nsfun::success();
}

// The fenced block of README.md's "Error handling" section that shows rendered errors.
std::string readme_error_block() {
  const std::string text = nsfun::test::read_text(NSFUN_README);
  std::size_t section = text.find("## Error handling");
  std::size_t start = text.find("```text\n", section);
  std::size_t end = text.find("```", start + 8);
  if (section == std::string::npos || start == std::string::npos || end == std::string::npos) {
    return {};
  }
  return text.substr(start + 8, end - start - 8);
}

}  // namespace

TEST_SUITE("readme") {
  TEST_CASE("issue #12: the README's error texts are what the library prints") {
    const std::string block = readme_error_block();
    REQUIRE_FALSE(block.empty());
    auto shown = [&](const nsfun::error& e) {
      INFO(e.message());
      CHECK(block.find(e.message() + "\n") != std::string::npos);
    };
    // A pid that is surely free: the README shows 4242.
    if (::kill(4242, 0) != 0 && errno == ESRCH) {
      auto gone = nsfun::NsFd::open(4242, nsfun::NsType::net);
      REQUIRE_FALSE(gone);
      shown(gone.error());
    }
    auto typed = nsfun::NsFd::open_path("/proc/self/ns/uts", nsfun::NsType::net);
    REQUIRE_FALSE(typed);
    CHECK(fmt::format("{}", typed.error()) ==
          "namespace type /proc/self/ns/uts: expected net, got uts");
    CHECK(block.find("namespace type /run/netns/x: expected net, got uts\n") != std::string::npos);
    auto map = nsfun::IdMap::parse("0:1000");
    REQUIRE_FALSE(map);
    shown(map.error());
    auto host = nsfun::spawn(nsfun::Command("/bin/true").hostname("box"));
    REQUIRE_FALSE(host);
    shown(host.error());
  }

  TEST_CASE("issue #12: the README's with_context line prints as shown") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    const std::string block = readme_error_block();
    NSFUN_CHECK_CHILD([&] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);  // /run/netns/web stays in here
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string name = "web";
      NSFUN_EXPECT_OK(nsfun::netns::attach(name, net.value()));
      // The README's line, with the name taken a second time.
      auto again = [&]() -> nsfun::result<void> {
        NSFUN_TRYV(
            nsfun::with_context(nsfun::netns::attach(name, net.value()), "create set ", name));
        return nsfun::success();
      }();
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(again.error() == std::errc::file_exists);
      NSFUN_EXPECT(block.find(again.error().message() + "\n") != std::string::npos);
      NSFUN_EXPECT_OK(nsfun::netns::remove(name));
      return 0;
    });
  }

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

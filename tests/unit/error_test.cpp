// SPDX-License-Identifier: MIT
// nsfun tests – error.hpp: result<T>, errc, NSFUN_TRY.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <doctest/doctest.h>

#include <nsfun/error.hpp>
#include <nsfun/format.hpp>

namespace {

nsfun::result<int> fails() {
  return nsfun::errno_error(EPERM, "setns");
}

nsfun::result<int> succeeds() {
  return 21;
}

nsfun::result<int> doubled(bool fail) {
  NSFUN_TRY(int v, fail ? fails() : succeeds());
  return v * 2;
}

nsfun::result<void> void_ok() {
  return nsfun::success();
}

nsfun::result<void> chain(bool fail) {
  NSFUN_TRYV(void_ok());
  NSFUN_TRY(int v, doubled(fail));
  (void)v;
  return nsfun::success();
}

}  // namespace

TEST_SUITE("error") {
  TEST_CASE("errno errors compare against std::errc and keep the failing step") {
    auto r = fails();
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::operation_not_permitted);
    CHECK_FALSE(r.error() == std::errc::permission_denied);
    CHECK(r.error().what == "setns");
    CHECK(r.error().message() == "setns: Operation not permitted");
  }

  TEST_CASE("nsfun errc has its own category and maps to portable conditions") {
    auto r = nsfun::result<int>(nsfun::nsfun_error(nsfun::errc::wrong_namespace_type, "check"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::wrong_namespace_type);
    CHECK_FALSE(r.error() == nsfun::errc::not_a_namespace);
    CHECK(r.error().code.category().name() == std::string("nsfun"));
    CHECK(r.error() == std::errc::invalid_argument);
    CHECK(std::error_code(nsfun::errc::unsupported_namespace_type) == std::errc::not_supported);
    CHECK(r.error().message() == "check: Wrong namespace type");
  }

  TEST_CASE("every errc value has a message") {
    for (int e = 1; e <= static_cast<int>(nsfun::errc::namespace_not_new); ++e) {
      std::string m = nsfun::nsfun_category().message(e);
      CHECK_FALSE(m.empty());
      CHECK(m != "Unknown nsfun error");
    }
  }

  TEST_CASE("NSFUN_TRY passes values through and returns failures early") {
    auto ok = doubled(false);
    REQUIRE(ok);
    CHECK(ok.value() == 42);
    auto bad = doubled(true);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == std::errc::operation_not_permitted);
    CHECK(chain(false));
    auto bad_chain = chain(true);
    REQUIRE_FALSE(bad_chain);
    CHECK(bad_chain.error().what == "setns");
  }

  TEST_CASE("value() on a failure throws system_error whose what() is the whole message") {
    auto r = fails();
    try {
      (void)r.value();
      FAIL("value() did not throw");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::operation_not_permitted);
      CHECK(std::string(e.what()) == "setns: Operation not permitted");
    }
    nsfun::result<int> named = nsfun::errno_error(ENOENT, "open").on("/proc/", 4242, "/ns/net");
    try {
      (void)named.value();
      FAIL("value() did not throw");
    } catch (const std::system_error& e) {
      CHECK(std::string(e.what()) == "open /proc/4242/ns/net: No such file or directory");
    }
  }

  TEST_CASE("fmt prints an error as step and message") {
    auto r = fails();
    CHECK(fmt::format("{}", r.error()) == "setns: Operation not permitted");
  }

  TEST_CASE("issue #12: an error names its object, a reason, the kernel's note and the context") {
    auto e = nsfun::errno_error(ENODEV, "RTM_NEWADDR")
                 .on("10.0.0.1/24 on ", std::string_view("nsft0"))
                 .with_note("ipv4: Device not found");
    CHECK(e == std::errc::no_such_device);
    CHECK(e.what == "RTM_NEWADDR");
    CHECK(e.object() == "10.0.0.1/24 on nsft0");
    CHECK(e.note() == "ipv4: Device not found");
    CHECK(e.message() ==
          "RTM_NEWADDR 10.0.0.1/24 on nsft0: No such device (ipv4: Device not found)");
    CHECK(fmt::format("{}", e) == e.message());

    auto typed = nsfun::nsfun_error(nsfun::errc::wrong_namespace_type, "namespace type")
                     .because("expected ", "net", ", got ", "uts");
    CHECK(typed == nsfun::errc::wrong_namespace_type);
    CHECK(typed.message() == "namespace type: expected net, got uts");

    // Context goes in front, the outermost first; the parts stay where they were.
    e.with_context("set up ", std::string("nsft0")).with_context("create set ", "web");
    CHECK(e.context() == "create set web: set up nsft0");
    CHECK(e.message() ==
          "create set web: set up nsft0: RTM_NEWADDR 10.0.0.1/24 on nsft0: No such device "
          "(ipv4: Device not found)");
    CHECK(e.subject() == "create set web: set up nsft0: RTM_NEWADDR 10.0.0.1/24 on nsft0");

    // Setting a part again replaces it, and moves the parts after it.
    e.on("nsft1");
    CHECK(e.object() == "nsft1");
    CHECK(e.note() == "ipv4: Device not found");
    CHECK(e.context() == "create set web: set up nsft0");

    // Integers of every width and sign; bare what with no object.
    auto n = nsfun::errno_error(ESRCH, "kill").on(-1, ' ', std::uint64_t{18446744073709551615U});
    CHECK(n.object() == "-1 18446744073709551615");
    CHECK(nsfun::errno_error(EPERM, "").on("x").message() == "x: Operation not permitted");
  }

  TEST_CASE("issue #12: copies carry the text, and too long a text is cut and marked") {
    auto e = nsfun::errno_error(EEXIST, "create pin file").on("/run/netns/", "web");
    nsfun::error copy = e;  // NOLINT(performance-unnecessary-copy-initialization): under test
    CHECK(copy.message() == "create pin file /run/netns/web: File exists");
    nsfun::error assigned;
    assigned = copy;
    CHECK(assigned.object() == "/run/netns/web");
    CHECK(assigned == std::errc::file_exists);
    const nsfun::error& same = assigned;
    assigned = same;  // self-assignment: no overlapping memcpy, the text stays
    CHECK(assigned.message() == "create pin file /run/netns/web: File exists");

    std::string huge(1000, 'x');
    auto cut = nsfun::errno_error(ENOENT, "open").on(huge).with_note("kernel");
    CHECK(cut.object().size() + cut.note().size() <= nsfun::error::capacity());
    CHECK(cut.object().size() == nsfun::error::capacity());
    CHECK(cut.object().substr(cut.object().size() - 3) == "...");
    CHECK(cut.note().empty());  // no room left
    auto shorter = nsfun::errno_error(ENOENT, "open").with_note("kernel").on(huge);
    CHECK(shorter.note() == "kernel");
    CHECK(shorter.object().size() == nsfun::error::capacity() - 6);
    CHECK(shorter.object().substr(shorter.object().size() - 3) == "...");
  }

  TEST_CASE("issue #12: with_context adds to failures only, and NSFUN_TRY carries it up") {
    auto ok = nsfun::with_context(succeeds(), "never formatted");
    REQUIRE(ok);
    CHECK(ok.value() == 21);
    auto up = []() -> nsfun::result<void> {
      NSFUN_TRY(int v, nsfun::with_context(fails(), "create set ", std::string("web")));
      (void)v;
      return nsfun::success();
    }();
    REQUIRE_FALSE(up);
    CHECK(up.error() == std::errc::operation_not_permitted);
    CHECK(up.error().message() == "create set web: setns: Operation not permitted");
  }

  TEST_CASE("issue #12: an error stays small enough to return by value") {
    CHECK(sizeof(nsfun::error) <= 256);
    CHECK(std::is_nothrow_copy_constructible_v<nsfun::error>);
    CHECK(std::is_nothrow_copy_assignable_v<nsfun::error>);
    CHECK(std::is_nothrow_default_constructible_v<nsfun::error>);
  }
}

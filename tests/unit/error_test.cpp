// SPDX-License-Identifier: MIT
// nsfun tests – error.hpp: result<T>, errc, NSFUN_TRY.

#include <system_error>

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
    for (int e = 1; e <= static_cast<int>(nsfun::errc::child_failed); ++e) {
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

  TEST_CASE("value() on a failure throws system_error with the step in what()") {
    auto r = fails();
    try {
      (void)r.value();
      FAIL("value() did not throw");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::operation_not_permitted);
      CHECK(std::string(e.what()).find("setns") != std::string::npos);
    }
  }

  TEST_CASE("fmt prints an error as step and message") {
    auto r = fails();
    CHECK(fmt::format("{}", r.error()) == "setns: Operation not permitted");
  }
}

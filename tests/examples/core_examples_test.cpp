// SPDX-License-Identifier: MIT
// Tests of the examples of recipes 1-7 and 11-14: each runs the built program and checks its
// effect against what the test sees itself.
#include <array>
#include <string>

#include <unistd.h>

#include <doctest/doctest.h>

#include "test_support.hpp"

namespace {

const std::string examples_dir = NSFUN_EXAMPLES_DIR;

std::string host_name() {
  std::array<char, 256> name{};
  ::gethostname(name.data(), name.size() - 1);
  return name.data();
}

}  // namespace

TEST_CASE("uts_hostname: the child's hostname is its own, the host's is untouched") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::uts}),
                "cannot unshare a UTS namespace here");
  const std::string before = host_name();
  auto r = nsfun::test::run(examples_dir + "/uts_hostname");
  CHECK(r.status == 0);
  CHECK(r.out.find("hostname inside: nsfun-box\n") != std::string::npos);
  CHECK(r.out.find("hostname outside: " + before + "\n") != std::string::npos);
  CHECK(host_name() == before);
}

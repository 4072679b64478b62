// SPDX-License-Identifier: MIT
// nsfun tests – user_map.hpp: parsing, validation, formatting, presets.

#include <cstdio>
#include <string>

#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/user_map.hpp>

using nsfun::IdMap;
using nsfun::IdRange;

namespace {

std::string fixture(const char* text) {
  char tmpl[] = "/tmp/nsfun-test-subid-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd >= 0) {
    std::string s(text);
    (void)!::write(fd, s.data(), s.size());
    ::close(fd);
  }
  return tmpl;
}

}  // namespace

TEST_SUITE("user_map") {
  TEST_CASE("parse the proc format and the compact one to the same map") {
    auto proc =
        IdMap::parse("         0       1000          1\n         1     100000      65536\n");
    auto compact = IdMap::parse("0:1000:1,1:100000:65536");
    REQUIRE(proc);
    REQUIRE(compact);
    CHECK(proc.value() == compact.value());
    CHECK(proc.value().ranges().size() == 2);
    CHECK(proc.value().ranges()[1] == IdRange{1, 100000, 65536});
    CHECK(proc.value().to_proc() == "0 1000 1\n1 100000 65536\n");
    CHECK(proc.value().to_string() == "0:1000:1,1:100000:65536");
    CHECK(IdMap::parse(proc.value().to_proc()).value() == proc.value());
    CHECK(IdMap::parse(proc.value().to_string()).value() == proc.value());
  }

  TEST_CASE("to_outside translates ids through the ranges") {
    auto m = IdMap::parse("0:1000:1,1:100000:65536").value();
    CHECK(m.to_outside(0) == 1000);
    CHECK(m.to_outside(1) == 100000);
    CHECK(m.to_outside(65536) == 165535);
    CHECK(m.to_outside(65537) == -1);
  }

  TEST_CASE("malformed maps are refused with a clear error") {
    for (const char* bad : {"", "0:1000", "0 1000", "a:b:c", "0:1000:1:2", "-1:0:1", "0:1000:x",
                            "0 1000 1 extra", "4294967296:0:1"}) {
      auto r = IdMap::parse(bad);
      CHECK_MESSAGE(!r, bad);
      if (!r) {
        CHECK(r.error() == nsfun::errc::invalid_id_map);
      }
    }
  }

  TEST_CASE("validation follows the kernel rules") {
    auto overlap_in = IdMap::parse("0:1000:10,5:2000:10");
    REQUIRE_FALSE(overlap_in);
    CHECK(overlap_in.error().what == "id map: overlapping inside ranges");
    auto overlap_out = IdMap::parse("0:1000:10,100:1005:10");
    REQUIRE_FALSE(overlap_out);
    CHECK(overlap_out.error().what == "id map: overlapping outside ranges");
    auto empty = IdMap::parse("0:1000:0");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().what == "id map: empty range");
    auto wide = IdMap::parse("4294967295:0:1");
    REQUIRE_FALSE(wide);
    CHECK(wide.error().what == "id map: range beyond 32 bits");
    std::vector<IdRange> many;
    for (std::uint32_t i = 0; i < 341; ++i) {
      many.push_back({i, 1000 + i, 1});
    }
    auto too_many = IdMap::from(many);
    REQUIRE_FALSE(too_many);
    CHECK(too_many.error().what == "id map: more than 340 ranges");
    many.pop_back();
    CHECK(IdMap::from(many));
  }

  TEST_CASE("presets map root or the caller") {
    auto root = nsfun::UserMap::root_is(1000, 1001);
    CHECK(root.uid.to_string() == "0:1000:1");
    CHECK(root.gid.to_string() == "0:1001:1");
    auto self = nsfun::UserMap::identity_of(1000, 1001);
    CHECK(self.uid.to_string() == "1000:1000:1");
    CHECK(self.gid.to_string() == "1001:1001:1");
  }

  TEST_CASE("subordinate ranges come from subuid and subgid files") {
    std::string subuid = fixture("alice:100000:65536\nbob:200000:65536\n1000:300000:10\n");
    std::string subgid = fixture("alice:100000:65536\n");
    auto m = nsfun::UserMap::subordinate("alice", 1000, 1000, subuid.c_str(), subgid.c_str());
    auto none = nsfun::UserMap::subordinate("carol", 1002, 1002, subuid.c_str(), subgid.c_str());
    ::unlink(subuid.c_str());
    ::unlink(subgid.c_str());
    REQUIRE(m);
    // root inside is the user; then the ranges (by name, and by numeric uid) in file order.
    CHECK(m.value().uid.to_string() == "0:1000:1,1:100000:65536,65537:300000:10");
    CHECK(m.value().gid.to_string() == "0:1000:1,1:100000:65536");
    REQUIRE_FALSE(none);
    CHECK(none.error() == std::errc::no_such_file_or_directory);
  }

  TEST_CASE("read the maps of the caller") {
    auto m = nsfun::UserMap::read(::getpid());
    REQUIRE(m);
    CHECK_FALSE(m.value().uid.empty());
    CHECK(m.value().uid.to_outside(::getuid()) >= 0);
    auto gone = nsfun::UserMap::read(0x3ffffff0);
    REQUIRE_FALSE(gone);
    CHECK(gone.error() == std::errc::no_such_process);
  }
}

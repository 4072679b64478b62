// SPDX-License-Identifier: MIT
// nsfun tests – user_map.hpp: parsing, validation and its messages, formatting, presets.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
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
        CHECK(r.error().what == "id map");
      }
    }
  }

  TEST_CASE("parse errors name the text and say what is wrong with it") {
    // Each reason comes from its own check in the parser; the object is the text in quotes.
    const std::pair<const char*, const char*> cases[] = {
        {"0:1000", R"(id map "0:1000": missing count)"},
        {"0", R"(id map "0": missing outside and count)"},
        {"0 1000", R"(id map "0 1000": missing count)"},
        {"0:x:1", R"(id map "0:x:1": outside is not a number)"},
        {"a:b:c", R"(id map "a:b:c": inside is not a number)"},
        {"0:1000:x", R"(id map "0:1000:x": count is not a number)"},
        {"0::1", R"(id map "0::1": outside is empty)"},
        {"-1:0:1", R"(id map "-1:0:1": inside is negative)"},
        {"4294967296:0:1", R"(id map "4294967296:0:1": inside is beyond 32 bits)"},
        {"0:1000:1:2", R"(id map "0:1000:1:2": more than three fields)"},
        {"0 1000 1 extra", R"(id map "0 1000 1 extra": more than three fields)"},
        {"", R"(id map "": no range)"},
        {" \n\n", R"(id map "": no range)"},
        // With several ranges, the reason also names the bad one.
        {"0:1000:1,1:x:5", R"(id map "0:1000:1,1:x:5": outside is not a number in "1:x:5")"},
        {"0 1000 1\n1 100000\n", R"(id map "0 1000 1\n1 100000": missing count in "1 100000")"},
    };
    // No structured binding: REQUIRE_MESSAGE captures `text` in a lambda, which clang 14 (the
    // clang-tidy run) refuses for a binding.
    for (const auto& c : cases) {
      const char* text = c.first;
      const char* expected = c.second;
      auto r = IdMap::parse(text);
      REQUIRE_MESSAGE(!r, text);
      CHECK(r.error() == nsfun::errc::invalid_id_map);
      CHECK(fmt::format("{}", r.error()) == expected);
    }
  }

  TEST_CASE("a long map text is cut in the error and the reason is kept") {
    std::string text;
    for (std::uint32_t i = 0; i < 341; ++i) {
      text += fmt::format("{}{}:{}:1", i == 0 ? "" : ",", i, 1000 + i);
    }
    auto r = IdMap::parse(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().object().size() < 80);
    CHECK(r.error().object().substr(r.error().object().size() - 4) == "...\"");
    CHECK(r.error().reason() == "341 ranges; the kernel takes at most 340");
  }

  TEST_CASE("validation follows the kernel rules") {
    // One map per rule of the kernel's map_write(); each is refused by its own check only.
    const std::pair<const char*, const char*> cases[] = {
        {"0:1000:10,5:2000:10", "overlapping inside ranges 0:1000:10 and 5:2000:10"},
        {"0:1000:10,100:1005:10", "overlapping outside ranges 0:1000:10 and 100:1005:10"},
        {"0:1000:0", "count is 0"},
        {"0:1000:1,5:2000:0", "count is 0 in range 5:2000:0"},
        {"4294967295:0:1", "inside ids end beyond 32 bits (4294967295 + 1 > 4294967295)"},
        {"0:4294967295:1", "outside ids end beyond 32 bits (4294967295 + 1 > 4294967295)"},
        {"0:1000:1,1:4294967290:10",
         "outside ids end beyond 32 bits (4294967290 + 10 > 4294967295) in range "
         "1:4294967290:10"},
    };
    for (const auto& c : cases) {  // no structured binding, as above
      const char* text = c.first;
      const char* reason = c.second;
      auto r = IdMap::parse(text);
      REQUIRE_MESSAGE(!r, text);
      CHECK(r.error() == nsfun::errc::invalid_id_map);
      CHECK(r.error().what == "id map");
      CHECK(r.error().object() == fmt::format("\"{}\"", text));
      CHECK(r.error().reason() == reason);
    }
    // The largest ranges the kernel takes: ids up to 4294967294.
    CHECK(IdMap::parse("0:0:4294967295"));
    CHECK(IdMap::parse("4294967294:4294967294:1"));

    std::vector<IdRange> many;
    for (std::uint32_t i = 0; i < 341; ++i) {
      many.push_back({i, 1000 + i, 1});
    }
    auto too_many = IdMap::from(many);
    REQUIRE_FALSE(too_many);
    CHECK(too_many.error() == nsfun::errc::invalid_id_map);
    CHECK(too_many.error().reason() == "341 ranges; the kernel takes at most 340");
    many.pop_back();
    CHECK(IdMap::from(many));
    auto none = IdMap::from({});
    REQUIRE_FALSE(none);
    CHECK(fmt::format("{}", none.error()) == R"(id map "": no range)");
  }

  TEST_CASE("a map whose text would not fit in a page is refused") {
    // 340 ranges of 10-digit ids: 24 bytes a line, 8160 in all. The kernel takes less than a
    // page in its single write (EINVAL otherwise).
    std::vector<IdRange> wide;
    for (std::uint32_t i = 0; i < 340; ++i) {
      wide.push_back({1000000000 + i, 2000000000 + i, 1});
    }
    const auto page = static_cast<std::size_t>(::getpagesize());
    auto r = IdMap::from(wide);
    if (page > 8160) {
      CHECK(r);  // a 64 KiB page holds it
      return;
    }
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::invalid_id_map);
    CHECK(r.error().reason() ==
          fmt::format("its text is 8160 bytes; the kernel takes less than {} (a page)", page));
    // The error names the ranges in the compact form, cut to fit.
    CHECK(r.error().object().substr(0, 23) == R"("1000000000:2000000000:)");
  }

  TEST_CASE("single validates like from") {
    auto ok = IdMap::single(0, 1000);
    REQUIRE(ok);
    CHECK(ok.value().to_string() == "0:1000:1");
    auto wide = IdMap::single(0, 4000000000U, 1000000000U);
    REQUIRE_FALSE(wide);
    CHECK(wide.error() == nsfun::errc::invalid_id_map);
    CHECK(fmt::format("{}", wide.error()) ==
          R"(id map "0:4000000000:1000000000": outside ids end beyond 32 bits )"
          "(4000000000 + 1000000000 > 4294967295)");
    auto empty = IdMap::single(5, 5, 0);
    REQUIRE_FALSE(empty);
    CHECK(fmt::format("{}", empty.error()) == R"(id map "5:5:0": count is 0)");
  }

  TEST_CASE("from names the ranges it refuses") {
    auto r = IdMap::from({{0, 1000, 10}, {5, 2000, 10}});
    REQUIRE_FALSE(r);
    CHECK(fmt::format("{}", r.error()) ==
          R"(id map "0:1000:10,5:2000:10": overlapping inside ranges 0:1000:10 and 5:2000:10)");
  }

  TEST_CASE("presets map root or the caller") {
    auto root = nsfun::UserMap::root_is(1000, 1001);
    REQUIRE(root);
    CHECK(root.value().uid.to_string() == "0:1000:1");
    CHECK(root.value().gid.to_string() == "0:1001:1");
    auto self = nsfun::UserMap::identity_of(1000, 1001);
    REQUIRE(self);
    CHECK(self.value().uid.to_string() == "1000:1000:1");
    CHECK(self.value().gid.to_string() == "1001:1001:1");
  }

  TEST_CASE("presets refuse (uid_t)-1, which is never an id") {
    auto root = nsfun::UserMap::root_is(static_cast<uid_t>(-1), 1000);
    REQUIRE_FALSE(root);
    CHECK(root.error() == nsfun::errc::invalid_id_map);
    CHECK(fmt::format("{}", root.error()) ==
          R"(uid map: id map "0:4294967295:1": outside ids end beyond 32 bits )"
          "(4294967295 + 1 > 4294967295)");
    auto self = nsfun::UserMap::identity_of(1000, static_cast<gid_t>(-1));
    REQUIRE_FALSE(self);
    CHECK(self.error() == nsfun::errc::invalid_id_map);
    CHECK(self.error().context() == "gid map");
    CHECK(self.error().object() == R"("4294967295:4294967295:1")");
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
    CHECK(fmt::format("{}", none.error()) ==
          fmt::format("find subordinate ids {}: no range for carol or 1002", subuid));
  }

  TEST_CASE("subordinate ranges are validated as a map") {
    // Two lines for alice with the same outside ids: the map would overlap outside.
    std::string subuid = fixture("alice:100000:65536\nalice:100000:10\n");
    std::string subgid = fixture("alice:100000:65536\n");
    auto m = nsfun::UserMap::subordinate("alice", 1000, 1000, subuid.c_str(), subgid.c_str());
    ::unlink(subuid.c_str());
    ::unlink(subgid.c_str());
    REQUIRE_FALSE(m);
    CHECK(m.error() == nsfun::errc::invalid_id_map);
    CHECK(m.error().context() == "uid map from " + subuid);
    CHECK(m.error().reason() == "overlapping outside ranges 1:100000:65536 and 65537:100000:10");
  }

  TEST_CASE("read the maps of the caller") {
    auto m = nsfun::UserMap::read(::getpid());
    REQUIRE(m);
    CHECK_FALSE(m.value().uid.empty());
    CHECK(m.value().uid.to_outside(::getuid()) >= 0);
    auto gone = nsfun::UserMap::read(0x3ffffff0);
    REQUIRE_FALSE(gone);
    CHECK(gone.error() == std::errc::no_such_process);
    CHECK(fmt::format("{}", gone.error()) == "read /proc/1073741808/uid_map: No such process");
  }

  TEST_CASE("apply refuses two empty maps and names the process") {
    auto r = nsfun::UserMap{}.apply(::getpid());
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::invalid_id_map);
    CHECK(
        fmt::format("{}", r.error()) ==
        fmt::format("write id maps /proc/{}: both the uid and the gid map are empty", ::getpid()));
  }
}

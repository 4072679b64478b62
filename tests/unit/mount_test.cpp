// SPDX-License-Identifier: MIT
// nsfun tests – mount.hpp without privileges: the mountinfo parser on literal lines, and the
// calling process's own mount table.

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include <nsfun/mount.hpp>

using nsfun::MountInfo;
using nsfun::Propagation;

namespace {

MountInfo parse(std::string_view line) {
  auto m = nsfun::parse_mountinfo_line(line);
  REQUIRE_MESSAGE(m, "line: " << line);
  return std::move(m).value();
}

}  // namespace

TEST_SUITE("mount") {
  TEST_CASE("parse_mountinfo_line: every field of a shared root mount") {
    auto m = parse("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro");
    CHECK(m.mount_id == 22);
    CHECK(m.parent_id == 1);
    CHECK(m.major == 8);
    CHECK(m.minor == 1);
    CHECK(m.root == "/");
    CHECK(m.mount_point == "/");
    CHECK(m.mount_options == "rw,relatime");
    CHECK(m.shared == 1);
    CHECK(m.master == 0);
    CHECK(m.propagate_from == 0);
    CHECK(!m.unbindable);
    CHECK(m.fs_type == "ext4");
    CHECK(m.source == "/dev/sda1");
    CHECK(m.super_options == "rw,errors=remount-ro");
    CHECK(m.propagation() == Propagation::shared);
  }

  TEST_CASE("parse_mountinfo_line: no optional field means private") {
    auto m = parse("40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");
    CHECK(m.propagation() == Propagation::private_);
    CHECK(m.fs_type == "cgroup2");
    CHECK(m.mount_point == "/sys/fs/cgroup/unified");
    CHECK(m.major == 0);
    CHECK(m.minor == 37);
  }

  TEST_CASE("parse_mountinfo_line: slave, shared and slave, propagate_from, unbindable") {
    auto slave = parse("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw");
    CHECK(slave.root == "/mnt1");
    CHECK(slave.master == 1);
    CHECK(slave.shared == 0);
    CHECK(slave.propagation() == Propagation::slave);

    auto both = parse("37 35 98:0 / /a rw shared:7 master:3 propagate_from:2 - ext3 /dev/root rw");
    CHECK(both.shared == 7);
    CHECK(both.master == 3);
    CHECK(both.propagate_from == 2);
    CHECK(both.propagation() == Propagation::shared);

    auto unbindable = parse("38 35 0:50 / /b rw unbindable - tmpfs tmpfs rw");
    CHECK(unbindable.unbindable);
    CHECK(unbindable.propagation() == Propagation::unbindable);
  }

  TEST_CASE("parse_mountinfo_line: unknown optional fields are skipped") {
    auto m = parse("39 35 0:51 / /c rw future:9 shared:4 - tmpfs tmpfs rw,size=10k");
    CHECK(m.shared == 4);
    CHECK(m.propagation() == Propagation::shared);
    CHECK(m.super_options == "rw,size=10k");
  }

  TEST_CASE("parse_mountinfo_line: octal escapes in paths and source are undone") {
    auto m = parse(
        "41 35 0:52 /dir\\040with\\040space /mnt/a\\011tab\\012nl\\134bs rw - tmpfs my\\040src rw");
    CHECK(m.root == "/dir with space");
    CHECK(m.mount_point == "/mnt/a\ttab\nnl\\bs");
    CHECK(m.source == "my src");
    CHECK(m.fs_type == "tmpfs");
  }

  TEST_CASE("parse_mountinfo_line: a missing super options field is tolerated") {
    auto m = parse("42 35 0:53 / /d rw - tmpfs tmpfs");
    CHECK(m.source == "tmpfs");
    CHECK(m.super_options.empty());
  }

  TEST_CASE("parse_mountinfo_line: malformed lines are invalid_argument") {
    const std::string_view bad[] = {
        "",
        "22",
        "x 1 8:1 / / rw - ext4 /dev/sda1 rw",
        "22 1 8-1 / / rw - ext4 /dev/sda1 rw",
        "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw",  // no separator
        "22 1 8:1 / / rw -",                           // nothing after it
        "22 1 8:1 / / rw - ext4",                      // no source
        "22 1 :1 / / rw - ext4 /dev/sda1 rw",
    };
    for (std::string_view line : bad) {
      auto m = nsfun::parse_mountinfo_line(line);
      CHECK_MESSAGE(!m, "line: " << line);
      if (!m) {
        CHECK(m.error() == std::errc::invalid_argument);
        CHECK(m.error().what == "parse mountinfo line");
      }
    }
  }

  TEST_CASE("issue #12: a mountinfo parse error quotes the line and says which field is bad") {
    auto dev = nsfun::parse_mountinfo_line("22 1 8-1 / / rw - ext4 /dev/sda1 rw");
    REQUIRE(!dev);
    CHECK(
        dev.error().message() ==
        "parse mountinfo line \"22 1 8-1 / / rw - ext4 /dev/sda1 rw\": bad major:minor (field 3)");
    auto sep = nsfun::parse_mountinfo_line("22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw");
    REQUIRE(!sep);
    CHECK(sep.error().object() == "\"22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\"");
    CHECK(sep.error().reason().find("separator") != std::string_view::npos);

    // A long line is cut inside the quotes, and the reason still fits beside it.
    const std::string long_line = "23 1 0:1 / /" + std::string(300, 'x') + " rw";
    auto cut = nsfun::parse_mountinfo_line(long_line);
    REQUIRE(!cut);
    const std::string_view object = cut.error().object();
    REQUIRE(object.size() == 122);  // the quotes, 117 bytes of the line and "..."
    CHECK(object.substr(0, 13) == "\"23 1 0:1 / /");
    CHECK(object.substr(object.size() - 4) == "...\"");
    CHECK(cut.error().reason() == "no \" - \" separator after the optional fields");

    // parse_mountinfo reports the line that failed, not only that one did.
    auto whole = nsfun::parse_mountinfo("1 0 0:1 / / rw - rootfs rootfs rw\nbroken\n");
    REQUIRE(!whole);
    CHECK(whole.error().message().find("\"broken\"") != std::string::npos);
  }

  TEST_CASE("parse_mountinfo: several lines, blank ones skipped, a bad one fails the whole") {
    auto all = nsfun::parse_mountinfo(
        "1 0 0:1 / / rw shared:1 - rootfs rootfs rw\n"
        "\n"
        "2 1 0:2 / /proc rw,nosuid - proc proc rw\n");
    REQUIRE(all);
    REQUIRE(all.value().size() == 2);
    CHECK(all.value()[1].mount_point == "/proc");
    CHECK(all.value()[1].parent_id == 1);

    auto bad = nsfun::parse_mountinfo("1 0 0:1 / / rw - rootfs rootfs rw\nbroken\n");
    CHECK(!bad);
  }

  TEST_CASE("propagation names are mount(8)'s") {
    CHECK(nsfun::name(Propagation::shared) == "shared");
    CHECK(nsfun::name(Propagation::slave) == "slave");
    CHECK(nsfun::name(Propagation::private_) == "private");
    CHECK(nsfun::name(Propagation::unbindable) == "unbindable");
  }

  TEST_CASE("mounts() reads this thread's mount table: / and /proc are in it") {
    auto all = nsfun::mounts();
    REQUIRE(all);
    bool root = false;
    bool proc = false;
    for (const auto& m : all.value()) {
      root = root || m.mount_point == "/";
      proc = proc || (m.mount_point == "/proc" && m.fs_type == "proc");
    }
    CHECK(root);
    CHECK(proc);
  }

  TEST_CASE("mount_of and is_mount_point agree with the mount table") {
    auto proc = nsfun::mount_of("/proc/self");
    REQUIRE(proc);
    CHECK(proc.value().fs_type == "proc");
    CHECK(proc.value().mount_point == "/proc");
    auto is_mp = nsfun::is_mount_point("/proc");
    REQUIRE(is_mp);
    CHECK(is_mp.value());
    auto sub = nsfun::is_mount_point("/proc/self");
    REQUIRE(sub);
    CHECK(!sub.value());
    auto missing = nsfun::mount_of("/nonexistent/nsfun-test");
    REQUIRE(!missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    auto p = nsfun::propagation_of("/");
    CHECK(p);
  }
}

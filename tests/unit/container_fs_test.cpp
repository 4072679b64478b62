// SPDX-License-Identifier: MIT
// nsfun tests – ContainerFs without privileges: the builder, default_masks(), and prepare():
// what it refuses (naming the setting and the path) and how it normalises targets and splits
// tmpfs options.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/container_fs.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace cfs = nsfun::detail::container_fs;
using nsfun::BindOptions;
using nsfun::ContainerFs;

// A temporary directory, removed at the end.
struct TempDir {
  std::string path;

  TempDir() {
    char tmpl[] = "/tmp/nsfun-test-cfs-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      path = tmpl;
    }
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_SUITE("container_fs") {
  TEST_CASE("the builder keeps the settings in order") {
    ContainerFs fs;
    CHECK_FALSE(fs.has_read_only_root());
    CHECK_FALSE(fs.has_minimal_dev());
    fs.read_only_root()
        .minimal_dev()
        .bind("/srv", "/data", BindOptions{.read_only = true, .recursive = false})
        .tmpfs("/tmp")
        .mask("/proc/kcore")
        .read_only_path("/proc/sys");
    CHECK(fs.has_read_only_root());
    CHECK(fs.has_minimal_dev());
    REQUIRE(fs.mounts().size() == 2);
    CHECK(fs.mounts()[0].kind == ContainerFs::Mount::Kind::bind);
    CHECK(fs.mounts()[0].source == "/srv");
    CHECK(fs.mounts()[0].bind.read_only);
    CHECK_FALSE(fs.mounts()[0].bind.recursive);
    CHECK(fs.mounts()[1].kind == ContainerFs::Mount::Kind::tmpfs);
    CHECK(fs.mounts()[1].options == "mode=755");
    CHECK(fs.masked_paths() == std::vector<std::string>{"/proc/kcore"});
    CHECK(fs.read_only_paths() == std::vector<std::string>{"/proc/sys"});
    fs.read_only_root(false).minimal_dev(false);
    CHECK_FALSE(fs.has_read_only_root());
    CHECK_FALSE(fs.has_minimal_dev());
  }

  TEST_CASE("default_masks: crun's lists plus runc's /sys/devices/virtual/powercap") {
    ContainerFs fs;
    fs.default_masks();
    const std::vector<std::string> masked = {"/proc/acpi",
                                             "/proc/asound",
                                             "/proc/kcore",
                                             "/proc/keys",
                                             "/proc/latency_stats",
                                             "/proc/timer_list",
                                             "/proc/timer_stats",
                                             "/proc/sched_debug",
                                             "/sys/firmware",
                                             "/proc/scsi",
                                             "/sys/devices/virtual/powercap"};
    const std::vector<std::string> read_only = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                "/proc/sysrq-trigger"};
    CHECK(fs.masked_paths() == masked);
    CHECK(fs.read_only_paths() == read_only);
  }

  TEST_CASE("prepare: a bind source that does not exist is refused, naming setting and path") {
    TempDir root;
    auto p =
        cfs::prepare(ContainerFs().bind("/nonexistent/nsfun-test-src", "/data"), root.path, false);
    REQUIRE_FALSE(p);
    CHECK(p.error() == std::errc::no_such_file_or_directory);
    CHECK(p.error().message() ==
          "ContainerFs::bind source /nonexistent/nsfun-test-src: No such file or directory");
  }

  TEST_CASE("prepare: empty paths, \"..\" components and the root itself are refused") {
    TempDir root;

    struct Case {
      ContainerFs fs;
      const char* message;
    };

    const Case cases[] = {
        {ContainerFs().bind("", "/data"), "ContainerFs::bind source \"\": an empty path"},
        {ContainerFs().bind("/tmp", ""), "ContainerFs::bind target \"\": an empty path"},
        {ContainerFs().bind("/tmp", "/data/../../etc"),
         "ContainerFs::bind target /data/../../etc: a \"..\" component (targets are paths inside "
         "the root)"},
        {ContainerFs().tmpfs(".."),
         "ContainerFs::tmpfs target ..: a \"..\" component (targets are paths inside the root)"},
        {ContainerFs().tmpfs("/"), "ContainerFs::tmpfs target /: the root itself"},
        {ContainerFs().tmpfs("/./"), "ContainerFs::tmpfs target /./: the root itself"},
        {ContainerFs().mask(""), "ContainerFs::mask path \"\": an empty path"},
        {ContainerFs().mask("/proc/../etc/shadow"),
         "ContainerFs::mask path /proc/../etc/shadow: a \"..\" component (targets are paths "
         "inside the root)"},
        {ContainerFs().read_only_path("a/.."),
         "ContainerFs::read_only_path path a/..: a \"..\" component (targets are paths inside "
         "the root)"},
        {ContainerFs().tmpfs(std::string("/a\0b", 4)),
         "ContainerFs::tmpfs target /a"},  // the rest of the text is cut at the NUL when printed
    };
    for (const Case& c : cases) {
      auto p = cfs::prepare(c.fs, root.path, false);
      REQUIRE_FALSE(p);
      CHECK(p.error() == std::errc::invalid_argument);
      CHECK_MESSAGE(p.error().message().rfind(c.message, 0) == 0, p.error().message());
    }
  }

  TEST_CASE("prepare: the rootfs must be a directory that exists") {
    auto missing = cfs::prepare(ContainerFs(), "/nonexistent/nsfun-test-root", false);
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(missing.error().message() ==
          "ContainerFs rootfs /nonexistent/nsfun-test-root: No such file or directory");
    auto file = cfs::prepare(ContainerFs(), "/proc/self/stat", false);
    REQUIRE_FALSE(file);
    CHECK(file.error() == std::errc::not_a_directory);
    auto empty = cfs::prepare(ContainerFs(), "", false);
    REQUIRE_FALSE(empty);
    CHECK(empty.error() == std::errc::invalid_argument);
  }

  TEST_CASE("prepare: targets are normalised to paths relative to the root") {
    TempDir root;
    auto p = cfs::prepare(ContainerFs()
                              .bind("/tmp", "//data/./x/")
                              .bind("/proc/self/stat", "etc/stat", {.read_only = true})
                              .mask("/proc//kcore")
                              .read_only_path("proc/sys/."),
                          root.path, true);
    REQUIRE_MESSAGE(p, p.error().message());
    CHECK(p.value().rootfs == root.path);
    CHECK(p.value().new_user_ns);
    REQUIRE(p.value().steps.size() == 2);
    CHECK(p.value().steps[0].target == "data/x");
    CHECK(p.value().steps[0].source_is_dir);
    CHECK(p.value().steps[0].recursive);
    CHECK_FALSE(p.value().steps[0].read_only);
    CHECK(p.value().steps[1].target == "etc/stat");
    CHECK_FALSE(p.value().steps[1].source_is_dir);
    CHECK(p.value().steps[1].read_only);
    CHECK(p.value().masked == std::vector<std::string>{"proc/kcore"});
    CHECK(p.value().read_only == std::vector<std::string>{"proc/sys"});
  }

  TEST_CASE("prepare: tmpfs options split into mount flags and filesystem data") {
    TempDir root;
    auto p = cfs::prepare(ContainerFs()
                              .tmpfs("/tmp", "mode=1777,nosuid,size=64m,nodev,noexec,ro,rw")
                              .tmpfs("/run", "")
                              .tmpfs("/x", "strictatime,,uid=0,noatime,atime"),
                          root.path, false);
    REQUIRE_MESSAGE(p, p.error().message());
    REQUIRE(p.value().steps.size() == 3);
    CHECK(p.value().steps[0].flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC));  // rw undid ro
    CHECK(p.value().steps[0].data == "mode=1777,size=64m");
    CHECK(p.value().steps[1].flags == 0);
    CHECK(p.value().steps[1].data.empty());
    CHECK(p.value().steps[2].flags == MS_STRICTATIME);
    CHECK(p.value().steps[2].data == "uid=0");
  }
}

// SPDX-License-Identifier: MIT
// nsfun tests – cgroup.hpp against the real cgroup2 hierarchy.
//
// Most cases mount a private cgroup2 instance on /run/cgroup2 inside a mount namespace they made
// (nsfun::test::private_run()). That is still the host's one hierarchy, so every case creates
// only cgroups named nsfun-test-<runner pid>-<n>, chosen by the runner before it forks; after
// the case the runner checks that the cgroup is gone and, if a failed child left it, removes it
// (and fails the case).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/error.hpp>
#include <nsfun/persist.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using nsfun::CgroupDir;

constexpr const char* private_mount = "/run/cgroup2";
constexpr const char* no_cgroup2 =
    "needs CAP_SYS_ADMIN, a private mount namespace and a cgroup2 hierarchy to create cgroups in";

// In a child: a private mount namespace with the cgroup2 hierarchy mounted on /run/cgroup2.
int mount_private_cgroup2() {
  if (int err = t::private_run(); err != 0) {
    return err;
  }
  if (::mkdir(private_mount, 0755) < 0 ||
      ::mount("cgroup2", private_mount, "cgroup2", 0, nullptr) < 0) {
    return errno;
  }
  return 0;
}

// Probe, once: can a child mount cgroup2 privately and make (and remove) a cgroup in it?
bool can_cgroup2() {
  static const bool ok = t::in_child([] {
                           if (mount_private_cgroup2() != 0) {
                             return 1;
                           }
                           const std::string dir =
                               std::string(private_mount) + "/" + t::unique_name();
                           if (::mkdir(dir.c_str(), 0755) < 0) {
                             return 2;
                           }
                           return ::rmdir(dir.c_str()) == 0 ? 0 : 3;
                         }) == 0;
  return ok;
}

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

// The words of a host root cgroup file ("cgroup.controllers"); empty when unreadable.
std::vector<std::string> host_root_words(const char* file) {
  auto mp = nsfun::cgroup2_mount();
  if (!mp) {
    return {};
  }
  return t::split_words(t::read_text(mp.value() + "/" + file));
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A controller the kernel has that is not in the v2 hierarchy (on a hybrid host, one mounted
// as v1), or "" when every one is there.
std::string controller_missing_from_v2() {
  auto root = host_root_words("cgroup.controllers");
  for (const char* c : {"memory", "pids", "cpu", "io", "cpuset", "hugetlb", "rdma", "misc"}) {
    if (!contains(root, c)) {
      return c;
    }
  }
  return {};
}

// A controller in the v2 hierarchy that the root does not enable for its children, or "".
std::string controller_not_delegated() {
  auto root = host_root_words("cgroup.controllers");
  auto sub = host_root_words("cgroup.subtree_control");
  for (const auto& c : root) {
    if (!contains(sub, c)) {
      return c;
    }
  }
  return {};
}

// True when `controller` is enabled for the root's children (so a cgroup made here has it).
bool root_delegates(const char* controller) {
  return contains(host_root_words("cgroup.subtree_control"), controller);
}

// Removes what a failed child may have left of cgroup `dir` (descendants first). Only ever
// called on nsfun-test-* names the runner chose.
void remove_tree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (const dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      if (e->d_type == DT_DIR && n != "." && n != "..") {
        subs.emplace_back(n);
      }
    }
    ::closedir(d);
    for (const auto& s : subs) {
      remove_tree(std::string(dir).append("/").append(s));
    }
  }
  std::ofstream(dir + "/cgroup.kill") << "1";
  for (int i = 0;
       i < 200 && t::read_text(dir + "/cgroup.events").find("populated 1") != std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::rmdir(dir.c_str());
}

// In the runner, after a case: true when the cgroup `name` was left behind (it is removed).
bool left_behind(const std::string& name) {
  auto mp = nsfun::cgroup2_mount();
  if (!mp) {
    return false;
  }
  const std::string dir = mp.value() + "/" + name;
  if (!exists(dir)) {
    return false;
  }
  remove_tree(dir);
  return true;
}

// Runs a child body with a fresh cgroup name, then checks nothing is left under that name.
#define CGROUP_CASE(name, ...)                                                  \
  do {                                                                          \
    const std::string name = t::unique_name();                                  \
    NSFUN_CHECK_CHILD(__VA_ARGS__);                                             \
    CHECK_MESSAGE(!left_behind(name), "cgroup " << name << " was left behind"); \
  } while (false)

// A child that blocks until killed; its pid.
pid_t sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) {
      ::pause();
    }
  }
  return pid;
}

bool killed_by_sigkill(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// The cgroup v2 path of a process from /proc/PID/cgroup ("0::/a/b" -> "/a/b").
std::string v2_path_of(pid_t pid) {
  std::string text = t::read_text("/proc/" + std::to_string(pid) + "/cgroup");
  std::size_t at = text.find("0::");
  if (at == std::string::npos) {
    return {};
  }
  std::size_t end = text.find('\n', at);
  return text.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

}  // namespace

TEST_SUITE("cgroup") {
  TEST_CASE("cgroup2_mount finds the cgroup2 hierarchy and root() opens it") {
    auto mp = nsfun::cgroup2_mount();
    NSFUN_REQUIRE(mp || mp.error() != std::errc::no_such_file_or_directory,
                  "no cgroup2 hierarchy mounted on this host");
    REQUIRE_MESSAGE(mp, mp.error().message());

    struct statfs st {};

    REQUIRE(::statfs(mp.value().c_str(), &st) == 0);
    CHECK(st.f_type == 0x63677270);
    auto root = CgroupDir::root();
    REQUIRE_MESSAGE(root, root.error().message());
    CHECK(!root.value().owned());
    auto path = root.value().path();
    REQUIRE(path);
    CHECK(path.value() == mp.value());
    auto controllers = root.value().controllers();
    REQUIRE(controllers);
    CHECK(controllers.value() == host_root_words("cgroup.controllers"));
    auto procs = root.value().procs();
    REQUIRE(procs);
    CHECK(!procs.value().empty());
  }

  TEST_CASE("open refuses what is not a cgroup2 directory") {
    auto tmp = CgroupDir::open("/proc");
    REQUIRE(!tmp);
    CHECK(tmp.error() == std::errc::invalid_argument);
    CHECK(tmp.error().what == "open cgroup");
    CHECK(tmp.error().message() == "open cgroup /proc: not on a cgroup2 filesystem");
    auto missing = CgroupDir::open("/nonexistent/nsfun-test");
    REQUIRE(!missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(missing.error().message() ==
          "open cgroup /nonexistent/nsfun-test: No such file or directory");
    auto file = CgroupDir::open("/proc/self/status");
    REQUIRE(!file);
    CHECK(file.error() == std::errc::not_a_directory);
  }

  TEST_CASE("create under the host's cgroup2 root and the destructor removes it") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      auto root = CgroupDir::root();
      NSFUN_EXPECT_OK(root);
      auto mp = nsfun::cgroup2_mount();
      NSFUN_EXPECT_OK(mp);
      const std::string dir = mp.value() + "/" + name;
      {
        auto cg = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(cg);
        NSFUN_EXPECT(cg.value().owned());
        NSFUN_EXPECT(exists(dir + "/cgroup.procs"));
        auto path = cg.value().path();
        NSFUN_EXPECT_OK(path);
        NSFUN_EXPECT(path.value() == dir);
      }
      NSFUN_EXPECT(!exists(dir));
      return 0;
    });
  }

  TEST_CASE(
      "attach a forked child: procs lists it, kill kills it, destruction removes the cgroup") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string dir = std::string(private_mount) + "/" + name;
      {
        auto made = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(made);
        CgroupDir& cg = made.value();
        auto empty = cg.procs();
        NSFUN_EXPECT_OK(empty);
        NSFUN_EXPECT(empty.value().empty());
        NSFUN_EXPECT(!cg.populated().value());

        pid_t child = sleeper();
        NSFUN_EXPECT(child > 0);
        NSFUN_EXPECT_OK(cg.attach(child));
        auto procs = cg.procs();
        NSFUN_EXPECT_OK(procs);
        NSFUN_EXPECT(procs.value() == std::vector<pid_t>{child});
        NSFUN_EXPECT(v2_path_of(child) == "/" + name);
        NSFUN_EXPECT(cg.populated().value());

        NSFUN_EXPECT_OK(cg.kill());
        NSFUN_EXPECT(killed_by_sigkill(child));
        NSFUN_EXPECT(!cg.populated().value());
        NSFUN_EXPECT(cg.procs().value().empty());
        NSFUN_EXPECT(exists(dir));
      }
      NSFUN_EXPECT(!exists(dir));

      auto gone = nsfun::CgroupDir::open(dir.c_str());
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_file_or_directory);
      return 0;
    });
  }

  TEST_CASE("the destructor kills what is left in the cgroup, nested cgroups included") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string dir = std::string(private_mount) + "/" + name;
      pid_t outer = -1;
      pid_t inner = -1;
      {
        auto cg = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(cg);
        // A cgroup made inside it, as a process in it might do; kept so that only the outer
        // handle is responsible for it.
        auto nested = CgroupDir::create(cg.value(), "inner");
        NSFUN_EXPECT_OK(nested);
        outer = sleeper();
        inner = sleeper();
        NSFUN_EXPECT(outer > 0 && inner > 0);
        NSFUN_EXPECT_OK(cg.value().attach(outer));
        NSFUN_EXPECT_OK(nested.value().attach(inner));
        nested.value().keep();
        NSFUN_EXPECT(!nested.value().owned());
      }
      // The children were killed (not yet reaped: zombies do not keep a cgroup populated).
      NSFUN_EXPECT(!exists(dir));
      NSFUN_EXPECT(killed_by_sigkill(outer));
      NSFUN_EXPECT(killed_by_sigkill(inner));
      return 0;
    });
  }

  TEST_CASE("remove() reports errors, keeps ownership on failure, and never kills the caller") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string dir = std::string(private_mount) + "/" + name;
      auto made = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(made);
      CgroupDir& cg = made.value();

      // A process that moved itself in and then asks for removal is refused, and survives.
      int status = t::in_child([&] {
        NSFUN_EXPECT_OK(cg.attach(::getpid()));
        auto r = cg.remove();
        NSFUN_EXPECT(!r);
        NSFUN_EXPECT(r.error() == std::errc::device_or_resource_busy);
        NSFUN_EXPECT(r.error().message() == "remove cgroup " + dir + ": the calling process (pid " +
                                                std::to_string(::getpid()) +
                                                ") is in it or below it");
        NSFUN_EXPECT(cg.owned());
        return 0;
      });
      NSFUN_EXPECT(status == 0);
      NSFUN_EXPECT(exists(dir));
      NSFUN_EXPECT(cg.owned());

      NSFUN_EXPECT_OK(cg.remove());
      NSFUN_EXPECT(!cg.owned());
      NSFUN_EXPECT(!cg);
      NSFUN_EXPECT(!exists(dir));
      auto twice = cg.remove();
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::bad_file_descriptor);
      NSFUN_EXPECT(twice.error().message() == "remove cgroup empty CgroupDir: Bad file descriptor");

      // Opened (not created) handles own nothing.
      auto opened = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(opened);
      NSFUN_EXPECT(!opened.value().remove());
      return 0;
    });
  }

  TEST_CASE("keep() keeps the cgroup and move assignment removes the target's") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    const std::string kept = t::unique_name();
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string base = std::string(private_mount) + "/";
      {
        auto cg = CgroupDir::create(root.value(), kept);
        NSFUN_EXPECT_OK(cg);
        cg.value().keep();
        NSFUN_EXPECT(!cg.value().owned());
        NSFUN_EXPECT(static_cast<bool>(cg.value()));
        NSFUN_EXPECT_OK(cg.value().get("cgroup.type"));
        // A kept cgroup is not this handle's to remove any more.
        auto removed = cg.value().remove();
        NSFUN_EXPECT(!removed);
        NSFUN_EXPECT(removed.error() == std::errc::bad_file_descriptor);
        NSFUN_EXPECT(removed.error().message() ==
                     "remove cgroup " + base + kept + ": not created by this CgroupDir, or kept");
        NSFUN_EXPECT(static_cast<bool>(cg.value()));
      }
      NSFUN_EXPECT(exists(base + kept));
      NSFUN_EXPECT(::rmdir((base + kept).c_str()) == 0);

      auto a = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(a);
      auto b = CgroupDir::create(root.value(), name + "-b");
      NSFUN_EXPECT_OK(b);
      a.value() = std::move(b.value());
      NSFUN_EXPECT(!exists(base + name));
      NSFUN_EXPECT(exists(base + name + "-b"));
      NSFUN_EXPECT(a.value().owned());
      NSFUN_EXPECT(!b.value().owned());
      CgroupDir moved(std::move(a.value()));
      NSFUN_EXPECT(moved.owned());
      NSFUN_EXPECT(!a.value().owned());
      NSFUN_EXPECT_OK(moved.remove());
      NSFUN_EXPECT(!exists(base + name + "-b"));
      return 0;
    });
    CHECK(!left_behind(kept));
  }

  TEST_CASE("issue #12: attach names the pid and the cgroup") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto cg = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      // A pid that is gone: forked, exited and reaped.
      pid_t gone = ::fork();
      if (gone == 0) {
        ::_exit(0);
      }
      NSFUN_EXPECT(gone > 0 && ::waitpid(gone, nullptr, 0) == gone);
      auto r = cg.value().attach(gone);
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::no_such_process);
      NSFUN_EXPECT(r.error().what == "attach");
      NSFUN_EXPECT(r.error().message() == "attach pid " + std::to_string(gone) + " to " +
                                              private_mount + "/" + name + ": No such process");
      return 0;
    });
  }

  TEST_CASE("issue #12: CgroupDir moves leave the source empty, and never throw") {
    static_assert(std::is_nothrow_move_constructible_v<CgroupDir>);
    static_assert(std::is_nothrow_move_assignable_v<CgroupDir>);
    static_assert(std::is_nothrow_destructible_v<CgroupDir>);
    static_assert(!std::is_copy_constructible_v<CgroupDir>);
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    const std::string second = t::unique_name();
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string base = std::string(private_mount) + "/";
      {  // warm-up round, so that lazily opened library state does not count as a leak
        auto cg = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(cg);
      }
      const std::size_t fds = t::open_fd_count();
      {
        auto made = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(made);
        // Move construction: the source is empty (no fd, owns nothing), the target owns.
        CgroupDir a(std::move(made.value()));
        NSFUN_EXPECT(!made.value() && !made.value().owned());
        NSFUN_EXPECT(a && a.owned());
        auto path = a.path();
        NSFUN_EXPECT_OK(path);
        NSFUN_EXPECT(path.value() == base + name);

        // Self-assignment keeps everything.
        CgroupDir& self = a;
        a = std::move(self);
        NSFUN_EXPECT(a && a.owned());
        NSFUN_EXPECT(exists(base + name));

        // Move assignment: the target's own cgroup is removed and its fd closed, then it takes
        // over the source, which is left empty.
        auto other = CgroupDir::create(root.value(), second);
        NSFUN_EXPECT_OK(other);
        a = std::move(other.value());
        NSFUN_EXPECT(!exists(base + name));
        NSFUN_EXPECT(exists(base + second));
        NSFUN_EXPECT(a.owned() && a.path().value() == base + second);
        NSFUN_EXPECT(!other.value() && !other.value().owned());
        NSFUN_EXPECT(other.value().remove().error() == std::errc::bad_file_descriptor);

        // An opened (not owning) handle assigned over an owning one: the cgroup goes, the fd
        // is the opened one's.
        auto opened = CgroupDir::open(private_mount);
        NSFUN_EXPECT_OK(opened);
        a = std::move(opened.value());
        NSFUN_EXPECT(!exists(base + second));
        NSFUN_EXPECT(a && !a.owned());
        NSFUN_EXPECT(a.path().value() == private_mount);

        // Assigning an empty handle empties the target.
        a = CgroupDir();
        NSFUN_EXPECT(!a && !a.owned());
      }
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
    CHECK(!left_behind(second));
  }

  TEST_CASE("cgroup and netns names follow one rule, with the same reasons") {
    // Refused before anything is opened: no privilege, no cgroup2 hierarchy needed.
    const std::string too_long(256, 'x');
    const std::string with_nul("a\0b", 3);
    const std::string_view names[] = {"",
                                      ".",
                                      "..",
                                      "a/b",
                                      "/abs",
                                      too_long,
                                      with_nul,
                                      "ok",
                                      "a.b-c_d",
                                      "...",
                                      std::string_view(too_long).substr(1)};
    for (std::string_view name : names) {
      CAPTURE(name);
      auto cg = CgroupDir::create(CgroupDir(), name);
      auto key = CgroupDir().get(name);
      auto ns = nsfun::netns::open(name);
      if (nsfun::is_valid_ns_name(name)) {
        REQUIRE_FALSE(cg);  // the parent is empty
        CHECK(cg.error() == std::errc::bad_file_descriptor);
        CHECK(ns.error() != nsfun::errc::invalid_name);
        continue;
      }
      REQUIRE_FALSE(cg);
      REQUIRE_FALSE(key);
      REQUIRE_FALSE(ns);
      CHECK(cg.error() == nsfun::errc::invalid_name);
      CHECK(key.error() == nsfun::errc::invalid_name);
      CHECK(ns.error() == nsfun::errc::invalid_name);
      CHECK(!cg.error().reason().empty());
      CHECK(cg.error().reason() == ns.error().reason());
      CHECK(key.error().reason() == ns.error().reason());
      CHECK(cg.error().object() == ns.error().object());
    }
  }

  TEST_CASE("controller_not_available is its own nsfun::errc and also not_supported") {
    const std::error_code code = nsfun::make_error_code(nsfun::errc::controller_not_available);
    CHECK(code.category() == nsfun::nsfun_category());
    CHECK(code == std::errc::not_supported);
    CHECK(code != nsfun::errc::invalid_name);
    CHECK(code.message() == "Cgroup controller not available");
  }

  TEST_CASE("create refuses invalid names and existing cgroups") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      const std::string too_long(256, 'x');
      const std::string with_nul("a\0b", 3);
      for (std::string_view bad :
           {std::string_view(""), std::string_view("."), std::string_view(".."),
            std::string_view("a/b"), std::string_view("/abs"), std::string_view(too_long),
            std::string_view(with_nul)}) {
        auto cg = CgroupDir::create(root.value(), bad);
        NSFUN_EXPECT(!cg);
        NSFUN_EXPECT(cg.error() == nsfun::errc::invalid_name);
        NSFUN_EXPECT(!cg.error().reason().empty());
      }
      // The name refused is quoted, and the reason says what is wrong with it.
      auto slash = CgroupDir::create(root.value(), "a/b");
      NSFUN_EXPECT(slash.error().message() == "create cgroup \"a/b\": contains '/'");
      auto long_name = CgroupDir::create(root.value(), too_long);
      NSFUN_EXPECT(long_name.error().message() ==
                   "create cgroup \"" + std::string(64, 'x') + "...\": longer than 255 bytes");
      NSFUN_EXPECT(!exists(std::string(private_mount) + "/a"));

      auto first = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(first);
      auto second = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT(!second);
      NSFUN_EXPECT(second.error() == std::errc::file_exists);
      NSFUN_EXPECT(second.error().message() ==
                   "create cgroup " + std::string(private_mount) + "/" + name + ": File exists");
      // The failed attempt did not take the existing cgroup away.
      NSFUN_EXPECT(exists(std::string(private_mount) + "/" + name));

      auto none = CgroupDir::create(CgroupDir(), name + "-x");
      NSFUN_EXPECT(!none);
      NSFUN_EXPECT(none.error() == std::errc::bad_file_descriptor);
      NSFUN_EXPECT(none.error().message() ==
                   "create cgroup \"" + name + "-x\": the parent CgroupDir is empty");
      return 0;
    });
  }

  TEST_CASE("set and get core interface files with clear errors for bad keys and values") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto cg = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      NSFUN_EXPECT_OK(cg.value().set("cgroup.max.descendants", "5"));
      auto v = cg.value().get("cgroup.max.descendants");
      NSFUN_EXPECT_OK(v);
      NSFUN_EXPECT(v.value() == "5");
      NSFUN_EXPECT_OK(cg.value().set("cgroup.max.depth", "max"));
      NSFUN_EXPECT(cg.value().get("cgroup.max.depth").value() == "max");
      NSFUN_EXPECT(cg.value().get("cgroup.type").value() == "domain");

      const std::string dir = std::string(private_mount) + "/" + name;
      auto bad_value = cg.value().set("cgroup.max.descendants", "lots");
      NSFUN_EXPECT(!bad_value);
      NSFUN_EXPECT(bad_value.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(bad_value.error().what == "write cgroup file");
      NSFUN_EXPECT(bad_value.error().message() ==
                   "write cgroup file " + dir + "/cgroup.max.descendants: Invalid argument");

      auto bad_key = cg.value().set("../cgroup.procs", "1");
      NSFUN_EXPECT(!bad_key);
      NSFUN_EXPECT(bad_key.error() == nsfun::errc::invalid_name);
      NSFUN_EXPECT(bad_key.error().message() ==
                   "write cgroup file \"../cgroup.procs\": contains '/'");
      NSFUN_EXPECT(cg.value().get("..").error() == nsfun::errc::invalid_name);

      auto unknown = cg.value().get("cgroup.nsfun-nope");
      NSFUN_EXPECT(!unknown);
      NSFUN_EXPECT(unknown.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(unknown.error().what == "read cgroup file");
      NSFUN_EXPECT(unknown.error().message() ==
                   "read cgroup file " + dir + "/cgroup.nsfun-nope: No such file or directory");
      return 0;
    });
  }

  TEST_CASE("a controller missing from the v2 hierarchy gives an error naming it") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    const std::string controller = controller_missing_from_v2();
    NSFUN_REQUIRE(!controller.empty(),
                  "every controller is in the cgroup2 hierarchy here (pure v2 host)");
    MESSAGE("controller not in the v2 hierarchy: " << controller);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto cg = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      const std::string key = controller + ".max";
      const std::string dir = std::string(private_mount) + "/" + name;
      const std::string why =
          "controller " + controller + " is not in the cgroup2 hierarchy at " + private_mount;

      auto set = cg.value().set(key, "100");
      NSFUN_EXPECT(!set);
      NSFUN_EXPECT(set.error() == std::errc::not_supported);
      NSFUN_EXPECT(set.error() == nsfun::errc::controller_not_available);
      NSFUN_EXPECT(set.error().what == "write cgroup file");
      NSFUN_EXPECT(set.error().message() == "write cgroup file " + dir + "/" + key + ": " + why);
      auto get = cg.value().get(key);
      NSFUN_EXPECT(!get);
      NSFUN_EXPECT(get.error() == std::errc::not_supported);
      NSFUN_EXPECT(get.error() == nsfun::errc::controller_not_available);
      NSFUN_EXPECT(get.error().message() == "read cgroup file " + dir + "/" + key + ": " + why);
      auto enable = root.value().enable({controller});
      NSFUN_EXPECT(!enable);
      NSFUN_EXPECT(enable.error() == std::errc::not_supported);
      NSFUN_EXPECT(enable.error() == nsfun::errc::controller_not_available);
      NSFUN_EXPECT(enable.error().message() == "write cgroup file " + std::string(private_mount) +
                                                   "/cgroup.subtree_control: " + why);
      // Not written anywhere: the root's subtree_control is untouched.
      auto sub = root.value().subtree_control();
      NSFUN_EXPECT_OK(sub);
      NSFUN_EXPECT(!contains(sub.value(), controller));
      return 0;
    });
  }

  TEST_CASE("a controller the parent does not enable gives an error naming it") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    const std::string controller = controller_not_delegated();
    NSFUN_REQUIRE(!controller.empty(),
                  "the cgroup2 root enables all its controllers for its children here");
    MESSAGE("controller not enabled by the root: " << controller);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto cg = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      const std::string dir = std::string(private_mount) + "/" + name;
      const std::string why = "controller " + controller + " is not enabled in " +
                              std::string(private_mount) + "/cgroup.subtree_control";
      auto controllers = cg.value().controllers();
      NSFUN_EXPECT_OK(controllers);
      NSFUN_EXPECT(!contains(controllers.value(), controller));
      auto set = cg.value().set(controller + ".max", "10");
      NSFUN_EXPECT(!set);
      NSFUN_EXPECT(set.error() == std::errc::not_supported);
      NSFUN_EXPECT(set.error() == nsfun::errc::controller_not_available);
      NSFUN_EXPECT(set.error().message() ==
                   "write cgroup file " + dir + "/" + controller + ".max: " + why);
      auto enable = cg.value().enable({controller});
      NSFUN_EXPECT(!enable);
      NSFUN_EXPECT(enable.error() == std::errc::not_supported);
      NSFUN_EXPECT(enable.error() == nsfun::errc::controller_not_available);
      NSFUN_EXPECT(enable.error().message() ==
                   "write cgroup file " + dir + "/cgroup.subtree_control: " + why);
      return 0;
    });
  }

  TEST_CASE("enable pids and memory, then set and read pids.max and memory.max") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    NSFUN_REQUIRE(root_delegates("pids"),
                  "the pids controller is not enabled by the cgroup2 root (cgroup v1 or hybrid "
                  "host: pids is a v1 hierarchy here)");
    NSFUN_REQUIRE(root_delegates("memory"),
                  "the memory controller is not enabled by the cgroup2 root (cgroup v1 or hybrid "
                  "host: memory is a v1 hierarchy here)");
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto outer = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(outer);
      NSFUN_EXPECT_OK(outer.value().enable({"pids", "memory"}));
      auto sub = outer.value().subtree_control();
      NSFUN_EXPECT_OK(sub);
      NSFUN_EXPECT(contains(sub.value(), "pids") && contains(sub.value(), "memory"));
      auto inner = CgroupDir::create(outer.value(), "limited");
      NSFUN_EXPECT_OK(inner);
      NSFUN_EXPECT_OK(inner.value().set("pids.max", "10"));
      NSFUN_EXPECT(inner.value().get("pids.max").value() == "10");
      NSFUN_EXPECT_OK(inner.value().set("memory.max", "16M"));
      NSFUN_EXPECT(inner.value().get("memory.max").value() == "16777216");
      // A process in it counts against pids.current.
      pid_t child = sleeper();
      NSFUN_EXPECT_OK(inner.value().attach(child));
      NSFUN_EXPECT(inner.value().get("pids.current").value() == "1");
      NSFUN_EXPECT_OK(inner.value().remove());
      NSFUN_EXPECT(killed_by_sigkill(child));
      NSFUN_EXPECT_OK(outer.value().disable({"memory"}));
      NSFUN_EXPECT(!contains(outer.value().subtree_control().value(), "memory"));
      return 0;
    });
  }

  TEST_CASE("cpu.max round trip") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    NSFUN_REQUIRE(root_delegates("cpu"),
                  "the cpu controller is not enabled by the cgroup2 root (cgroup v1 or hybrid "
                  "host: cpu is a v1 hierarchy here)");
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      auto cg = CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      NSFUN_EXPECT_OK(cg.value().set("cpu.max", "50000 100000"));
      NSFUN_EXPECT(cg.value().get("cpu.max").value() == "50000 100000");
      return 0;
    });
  }

  TEST_CASE("fd() is a cgroup2 dirfd usable with openat and nothing leaks") {
    NSFUN_REQUIRE(can_cgroup2(), no_cgroup2);
    CGROUP_CASE(name, [&] {
      NSFUN_EXPECT(mount_private_cgroup2() == 0);
      auto root = CgroupDir::open(private_mount);
      NSFUN_EXPECT_OK(root);
      {  // warm-up round
        auto cg = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(cg);
      }
      const std::size_t before = t::open_fd_count();
      for (int i = 0; i < 5; ++i) {
        auto cg = CgroupDir::create(root.value(), name);
        NSFUN_EXPECT_OK(cg);
        int fd = ::openat(cg.value().fd().get(), "cgroup.procs", O_RDONLY | O_CLOEXEC);
        NSFUN_EXPECT(fd >= 0);
        ::close(fd);
        int flags = ::fcntl(cg.value().fd().get(), F_GETFD);
        NSFUN_EXPECT(flags >= 0 && (flags & FD_CLOEXEC) != 0);
        struct statfs st {};

        NSFUN_EXPECT(::fstatfs(cg.value().fd().get(), &st) == 0 && st.f_type == 0x63677270);
        NSFUN_EXPECT(!CgroupDir::create(root.value(), name));
        NSFUN_EXPECT(!cg.value().set("memory.nsfun-nope", "1"));
        NSFUN_EXPECT(!cg.value().get("cgroup.nsfun-nope"));
        NSFUN_EXPECT(!cg.value().enable({"nsfun-nope"}));
        NSFUN_EXPECT_OK(cg.value().controllers());
        NSFUN_EXPECT_OK(cg.value().procs());
        NSFUN_EXPECT_OK(cg.value().path());
        pid_t child = sleeper();
        NSFUN_EXPECT_OK(cg.value().attach(child));
        NSFUN_EXPECT_OK(cg.value().kill());
        NSFUN_EXPECT(killed_by_sigkill(child));
      }
      NSFUN_EXPECT(t::open_fd_count() == before);
      return 0;
    });
  }
}

// SPDX-License-Identifier: MIT
// nsfun tests – named_set.hpp under races: two first creates for one fresh base (issue 17 defect
// 7: they must not stack two self-binds), two creates for one name, and a first create against
// the destroy of the last set (which removes the base). Each round starts its contenders at one
// moment (a pipe closed at once), and checks afterwards the base's mounts, every pin, and that no
// process is left.
//
// Every case works in a forked child with a private mount namespace and its own tmpfs on /run
// (nsfun::test::private_run()), so no pin, set or /run/netns entry reaches the host.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/named_set.hpp>
#include <nsfun/ns_fd.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using nsfun::NamedSet;
using nsfun::NsType;

constexpr const char* base = "/run/nsfun-test-race";
constexpr int rounds = 40;

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

// How many mounts of our mount table are on `path` exactly (stacked ones count each).
int mounts_on(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id;
    std::string parent;
    std::string dev;
    std::string root;
    std::string point;
    fields >> id >> parent >> dev >> root >> point;
    n += point == path ? 1 : 0;
  }
  return n;
}

nsfun::NamedSetOptions options(const char* types) {
  nsfun::NamedSetOptions o;
  o.types = nsfun::NsTypeSet::parse(types).value();
  o.base = base;
  o.netns = false;
  return o;
}

// Exit codes of a contender.
constexpr int made = 0;
constexpr int already_exists = 10;
constexpr int destroyed = 20;

// Runs each function in a process of its own, all released at once; their exit codes.
std::vector<int> race(const std::vector<std::function<int()>>& contenders) {
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) < 0) {
    return {};
  }
  std::vector<pid_t> pids;
  for (const auto& fn : contenders) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(gate[1]);
      char c = 0;
      while (::read(gate[0], &c, 1) < 0 && errno == EINTR) {
      }  // end-of-file: go
      ::_exit(fn());
    }
    pids.push_back(pid);
  }
  ::close(gate[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // all of them at the gate
  ::close(gate[1]);
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return codes;
}

int create(const std::string& name, const char* types) {
  auto r = NamedSet::create(name, options(types));
  if (r) {
    return made;
  }
  if (r.error() == std::errc::file_exists) {
    return already_exists;
  }
  std::fprintf(stderr, "create %s: %s\n", name.c_str(), r.error().message().c_str());
  return 1;
}

// Every pin of the set opens as the namespace the set holds (none hidden under another mount),
// and the set is running.
bool sound(const std::string& name) {
  auto info = NamedSet::inspect(name, base);
  if (!info || !info.value().running()) {
    std::fprintf(stderr, "set %s: %s\n", name.c_str(),
                 info ? info.value().problems.at(0).c_str() : info.error().message().c_str());
    return false;
  }
  return !info.value().pins.empty();
}

const bool can_run =
    t::can_private_run() && t::can_unshare({NsType::mnt, NsType::uts, NsType::ipc, NsType::pid});

}  // namespace

TEST_SUITE("named_set races") {
  TEST_CASE("issue 17 defect 7: two first creates bind the base once, and every pin stays seen") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t mounts = nsfun::test::mount_count();
      for (int round = 0; round < rounds; ++round) {
        const std::string a = t::unique_name();
        const std::string b = t::unique_name();
        auto codes = race({[&] { return create(a, "uts,ipc"); },
                           [&] {
                             return create(b, "uts,ipc");
                           }});
        NSFUN_EXPECT((codes == std::vector<int>{made, made}));
        NSFUN_EXPECT(mounts_on(base) == 1);
        NSFUN_EXPECT(sound(a) && sound(b));
        NSFUN_EXPECT_OK(NamedSet::destroy(a, base));
        NSFUN_EXPECT_OK(NamedSet::destroy(b, base));
        NSFUN_EXPECT(!exists(base));
        NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
        if (nsfun::test::mount_count() != mounts) {
          return 1;
        }
      }
      return 0;
    });
  }

  TEST_CASE("two creates of one name: one makes it, the other says it exists, nothing leaks") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t mounts = nsfun::test::mount_count();
      for (int round = 0; round < rounds; ++round) {
        const std::string name = t::unique_name();
        auto codes = race({[&] { return create(name, "pid,uts"); },
                           [&] {
                             return create(name, "pid,uts");
                           }});
        NSFUN_EXPECT((codes == std::vector<int>{made, already_exists} ||
                      codes == std::vector<int>{already_exists, made}));
        NSFUN_EXPECT(mounts_on(base) == 1);
        NSFUN_EXPECT(sound(name));
        NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
        NSFUN_EXPECT(!exists(base));
        NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
        NSFUN_EXPECT(nsfun::test::no_children());  // the loser's holder too
      }
      return 0;
    });
  }

  TEST_CASE("a first create against the destroy of the last set: the new set keeps its base") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t mounts = nsfun::test::mount_count();
      for (int round = 0; round < rounds; ++round) {
        const std::string old_set = t::unique_name();
        const std::string new_set = t::unique_name();
        NSFUN_EXPECT_OK(NamedSet::create(old_set, options("uts")));
        auto codes = race({[&] { return NamedSet::destroy(old_set, base) ? destroyed : 1; },
                           [&] {
                             return create(new_set, "uts,ipc");
                           }});
        NSFUN_EXPECT((codes == std::vector<int>{destroyed, made}));
        NSFUN_EXPECT(!exists(std::string(base) + "/" + old_set));
        NSFUN_EXPECT(mounts_on(base) == 1);
        NSFUN_EXPECT(sound(new_set));
        NSFUN_EXPECT_OK(NamedSet::destroy(new_set, base));
        NSFUN_EXPECT(!exists(base));
        NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      }
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }
}

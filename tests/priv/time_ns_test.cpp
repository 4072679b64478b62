// SPDX-License-Identifier: MIT
// nsfun tests – time_ns.hpp: offsets written before anyone enters, read back and seen in clocks.
//
// Time namespaces are entered only by forked children (setns into a time namespace moves the
// caller, which must be single-threaded); the test runner itself never changes namespace.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/time_ns.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using namespace std::chrono_literals;

constexpr const char* no_time_ns = "needs CAP_SYS_ADMIN to unshare a time namespace";

bool can_time() {
  return t::can_unshare(nsfun::NsTypeSet{nsfun::NsType::time});
}

std::chrono::nanoseconds now(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

constexpr auto day = std::chrono::nanoseconds(24h);

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Within `slack` after `base + offset`: the clock moved by the offset, plus test run time.
bool shifted(std::chrono::nanoseconds seen,
             std::chrono::nanoseconds base,
             std::chrono::nanoseconds offset,
             std::chrono::nanoseconds slack = std::chrono::nanoseconds(60s)) {
  return seen >= base + offset && seen < base + offset + slack;
}

}  // namespace

TEST_SUITE("time_ns") {
  TEST_CASE("time_offsets of a process in the initial time namespace are zero") {
    auto off = nsfun::time_offsets(::getpid());
    REQUIRE(off);
    CHECK(off.value() == nsfun::TimeOffsets{});
    auto gone = nsfun::time_offsets(0x3fffffff);
    REQUIRE(!gone);
    CHECK(gone.error() == std::errc::no_such_file_or_directory);
    CHECK(gone.error().message() ==
          "read /proc/1073741823/timens_offsets: No such file or directory");
    auto set_gone = nsfun::set_time_offsets(0x3fffffff, nsfun::TimeOffsets{});
    REQUIRE(!set_gone);
    CHECK(set_gone.error().message() ==
          "open /proc/1073741823/timens_offsets: No such file or directory");
  }

  TEST_CASE("acquire_time_ns: a process that enters sees clocks a day and two days ahead") {
    NSFUN_REQUIRE(can_time(), no_time_ns);
    const nsfun::TimeOffsets offsets{day, 2 * day};
    // Acquired here, in the (multithreaded) runner: acquiring never moves the caller.
    auto ns = nsfun::acquire_time_ns(offsets);
    REQUIRE_MESSAGE(ns, ns.error().message());
    CHECK(ns.value().ns().type() == nsfun::NsType::time);
    auto mine = nsfun::NsFd::current(nsfun::NsType::time);
    REQUIRE(mine);
    CHECK(!(mine.value().identity() == ns.value().identity()));

    NSFUN_CHECK_CHILD([&] {
      const auto mono0 = now(CLOCK_MONOTONIC);
      const auto boot0 = now(CLOCK_BOOTTIME);
      // setns into a time namespace moves this (single-threaded) process and its children.
      NSFUN_EXPECT_OK(nsfun::enter(ns.value()));
      auto back = nsfun::time_offsets(::getpid());
      NSFUN_EXPECT_OK(back);
      NSFUN_EXPECT(back.value() == offsets);
      NSFUN_EXPECT(shifted(now(CLOCK_MONOTONIC), mono0, day));

      // A grandchild: born in it, with both clocks shifted.
      int status = t::in_child([&] {
        NSFUN_EXPECT(shifted(now(CLOCK_MONOTONIC), mono0, day));
        NSFUN_EXPECT(shifted(now(CLOCK_BOOTTIME), boot0, 2 * day));
        auto own = nsfun::NsFd::current(nsfun::NsType::time);
        NSFUN_EXPECT_OK(own);
        NSFUN_EXPECT(own.value().identity() == ns.value().identity());
        auto seen = nsfun::time_offsets(::getpid());
        NSFUN_EXPECT_OK(seen);
        NSFUN_EXPECT(seen.value() == offsets);
        return 0;
      });
      NSFUN_EXPECT(status == 0);

      // A program exec'd from here reads the same offsets from /proc/self.
      auto cat = t::run("cat /proc/self/timens_offsets");
      NSFUN_EXPECT(cat.status == 0);
      NSFUN_EXPECT(cat.out.find("monotonic") != std::string::npos);
      NSFUN_EXPECT(cat.out.find(" 86400 ") != std::string::npos);
      NSFUN_EXPECT(cat.out.find(" 172800 ") != std::string::npos);
      return 0;
    });
  }

  TEST_CASE("negative and sub-second offsets round-trip") {
    NSFUN_REQUIRE(can_time(), no_time_ns);
    // -1.5 s is written as "-2 500000000"; the clocks have surely run for more than 2 s.
    const nsfun::TimeOffsets offsets{-1500ms, 250ms};
    auto ns = nsfun::acquire_time_ns(offsets);
    REQUIRE_MESSAGE(ns, ns.error().message());
    NSFUN_CHECK_CHILD([&] {
      const auto mono0 = now(CLOCK_MONOTONIC);
      NSFUN_EXPECT_OK(nsfun::enter(ns.value()));
      auto back = nsfun::time_offsets(::getpid());
      NSFUN_EXPECT_OK(back);
      NSFUN_EXPECT(back.value() == offsets);
      const auto mono1 = now(CLOCK_MONOTONIC);
      NSFUN_EXPECT(mono1 < mono0);
      NSFUN_EXPECT(mono1 >= mono0 - 1500ms);
      return 0;
    });
  }

  TEST_CASE("acquire_time_ns: offsets the kernel refuses give ERANGE and leak nothing") {
    NSFUN_REQUIRE(can_time(), no_time_ns);
    NSFUN_CHECK_CHILD([] {
      // Warm up once, so that lazily opened library state does not count as a leak.
      NSFUN_EXPECT_OK(nsfun::acquire_time_ns({}));
      const std::size_t fds = t::open_fd_count();
      const auto century = std::chrono::nanoseconds(std::chrono::hours(24 * 36525));
      // A boottime 100 years back would be negative now.
      auto negative = nsfun::acquire_time_ns({0ns, -century});
      NSFUN_EXPECT(!negative);
      NSFUN_EXPECT(negative.error() == std::errc::result_out_of_range);
      NSFUN_EXPECT(negative.error().what == "write");
      // The error names the clocks, their values and the file, and which clock is at fault.
      const std::string text = negative.error().message();
      NSFUN_EXPECT(text.rfind("write monotonic 0s boottime -3155760000s to /proc/", 0) == 0);
      NSFUN_EXPECT(ends_with(text,
                             "/timens_offsets: the boottime offset would make the clock "
                             "negative"));
      // 200 years ahead is beyond the kernel's limit (KTIME_SEC_MAX / 2).
      auto huge = nsfun::acquire_time_ns({2 * century, 0ns});
      NSFUN_EXPECT(!huge);
      NSFUN_EXPECT(huge.error() == std::errc::result_out_of_range);
      NSFUN_EXPECT(huge.error().object().rfind("monotonic 6311520000s boottime 0s to ", 0) == 0);
      NSFUN_EXPECT(huge.error().reason() ==
                   "the monotonic offset would put the clock beyond the kernel's limit (about "
                   "146 years)");
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("set_time_offsets on a thread that unshared, then frozen once a child is born") {
    NSFUN_REQUIRE(can_time(), no_time_ns);
    NSFUN_CHECK_CHILD([] {
      const auto mono0 = now(CLOCK_MONOTONIC);
      NSFUN_EXPECT(::unshare(CLONE_NEWTIME) == 0);
      const nsfun::TimeOffsets offsets{3 * day, 0ns};
      NSFUN_EXPECT_OK(nsfun::set_time_offsets(offsets));
      // Unshare changed only what children get: this process's clock is the host's.
      NSFUN_EXPECT(now(CLOCK_MONOTONIC) < mono0 + std::chrono::nanoseconds(60s));
      auto mine = nsfun::time_offsets(::getpid());
      NSFUN_EXPECT_OK(mine);
      NSFUN_EXPECT(mine.value() == offsets);

      int status = t::in_child([&] {
        NSFUN_EXPECT(shifted(now(CLOCK_MONOTONIC), mono0, 3 * day));
        return 0;
      });
      NSFUN_EXPECT(status == 0);

      // A process has entered it now: the offsets are frozen, and the error says so, with the
      // offsets refused (seconds with their fraction) and the file.
      auto late = nsfun::set_time_offsets(nsfun::TimeOffsets{-1500ms, 250ms});
      NSFUN_EXPECT(!late);
      NSFUN_EXPECT(late.error() == std::errc::permission_denied);
      NSFUN_EXPECT(late.error().message() ==
                   "write monotonic -1.5s boottime 0.25s to /proc/" + std::to_string(::getpid()) +
                       "/timens_offsets: offsets are frozen once a process is in the time "
                       "namespace (or it is the initial one)");
      NSFUN_EXPECT(nsfun::time_offsets(::getpid()).value() == offsets);
      return 0;
    });
  }

  TEST_CASE("set_time_offsets by pid, for a child that unshared and waits") {
    NSFUN_REQUIRE(can_time(), no_time_ns);
    NSFUN_CHECK_CHILD([] {
      int go[2];
      int ready[2];
      NSFUN_EXPECT(::pipe2(go, O_CLOEXEC) == 0 && ::pipe2(ready, O_CLOEXEC) == 0);
      const auto mono0 = now(CLOCK_MONOTONIC);
      pid_t pid = ::fork();
      NSFUN_EXPECT(pid >= 0);
      if (pid == 0) {
        // The spawned side: unshare, say so, wait for the offsets, then fork into it.
        char c = ::unshare(CLONE_NEWTIME) == 0 ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        if (::read(go[0], &c, 1) != 1) {
          ::_exit(2);
        }
        int status = t::in_child([&] { return shifted(now(CLOCK_MONOTONIC), mono0, day) ? 0 : 1; });
        ::_exit(status == 0 ? 0 : 3);
      }
      char c = 0;
      NSFUN_EXPECT(::read(ready[0], &c, 1) == 1 && c == 'y');
      NSFUN_EXPECT_OK(nsfun::set_time_offsets(pid, nsfun::TimeOffsets{day, day}));
      NSFUN_EXPECT(::write(go[1], "g", 1) == 1);
      int status = 0;
      NSFUN_EXPECT(::waitpid(pid, &status, 0) == pid);
      NSFUN_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      return 0;
    });
  }
}

// SPDX-License-Identifier: MIT
// nsfun tests – unique_fd.hpp and pidfd.hpp: the RAII contract.

#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/unique_fd.hpp>

#include "test_support.hpp"

namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) >= 0;
}

int open_null() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace

TEST_SUITE("unique_fd") {
  TEST_CASE("default_ctor is empty") {
    nsfun::UniqueFd fd;
    CHECK_FALSE(fd);
    CHECK(fd.get() == -1);
  }

  TEST_CASE("dtor_closes") {
    int raw = open_null();
    REQUIRE(raw >= 0);
    { auto fd = nsfun::UniqueFd::adopt(raw); }
    CHECK_FALSE(is_open(raw));
  }

  TEST_CASE("move_ctor leaves the source empty") {
    int raw = open_null();
    auto a = nsfun::UniqueFd::adopt(raw);
    nsfun::UniqueFd b(std::move(a));
    CHECK(b.get() == raw);
    CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(is_open(raw));
  }

  TEST_CASE("move_assignment_closes_target") {
    int r1 = open_null();
    int r2 = open_null();
    auto a = nsfun::UniqueFd::adopt(r1);
    auto b = nsfun::UniqueFd::adopt(r2);
    b = std::move(a);
    CHECK_FALSE(is_open(r2));
    CHECK(b.get() == r1);
  }

  TEST_CASE("move_assignment onto itself keeps the fd and the contract is noexcept") {
    static_assert(std::is_nothrow_move_constructible_v<nsfun::UniqueFd>);
    static_assert(std::is_nothrow_move_assignable_v<nsfun::UniqueFd>);
    static_assert(std::is_nothrow_destructible_v<nsfun::UniqueFd>);
    static_assert(!std::is_copy_constructible_v<nsfun::UniqueFd>);
    int raw = open_null();
    auto a = nsfun::UniqueFd::adopt(raw);
    nsfun::UniqueFd& self = a;
    a = std::move(self);
    CHECK(a.get() == raw);
    CHECK(is_open(raw));
    // Assigning an empty handle closes the target's fd and leaves both empty.
    nsfun::UniqueFd empty;
    a = std::move(empty);
    CHECK_FALSE(a);
    CHECK_FALSE(is_open(raw));
  }

  TEST_CASE("release_detaches") {
    int raw = open_null();
    {
      auto fd = nsfun::UniqueFd::adopt(raw);
      CHECK(fd.release() == raw);
      CHECK_FALSE(fd);
    }
    CHECK(is_open(raw));
    ::close(raw);
  }

  TEST_CASE("clone_is_cloexec and at least 3") {
    auto fd = nsfun::UniqueFd::adopt(open_null());
    auto copy = fd.clone();
    REQUIRE(copy);
    CHECK(copy.value().get() >= 3);
    CHECK(copy.value().get() != fd.get());
    CHECK((::fcntl(copy.value().get(), F_GETFD) & FD_CLOEXEC) != 0);
  }

  TEST_CASE("close reports errors and empties the handle") {
    auto fd = nsfun::UniqueFd::adopt(open_null());
    int raw = fd.get();
    CHECK(fd.close());
    CHECK_FALSE(fd);
    CHECK_FALSE(is_open(raw));
    CHECK(fd.close());  // closing an empty handle is a no-op
  }

  TEST_CASE("clone of an empty handle fails with EBADF") {
    nsfun::UniqueFd fd;
    auto r = fd.clone();
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::bad_file_descriptor);
    CHECK(fmt::format("{}", r.error()) == "fcntl F_DUPFD_CLOEXEC fd -1: Bad file descriptor");
  }
}

TEST_SUITE("pidfd") {
  TEST_CASE("pidfd_open on self is cloexec and knows its pid") {
    std::size_t before = nsfun::test::open_fd_count();
    {
      auto fd = nsfun::pidfd_open(::getpid());
      REQUIRE(fd);
      CHECK((::fcntl(fd.value().get(), F_GETFD) & FD_CLOEXEC) != 0);
      auto pid = nsfun::pidfd_pid(fd.value());
      REQUIRE(pid);
      CHECK(pid.value() == ::getpid());
    }
    CHECK(nsfun::test::open_fd_count() == before);
  }

  TEST_CASE("pidfd_open of a pid that does not exist is ESRCH") {
    auto r = nsfun::pidfd_open(0x3ffffff0);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_such_process);
    CHECK(fmt::format("{}", r.error()) == "pidfd_open pid 1073741808: No such process");
    CHECK(nsfun::pidfd_open(0).error() == std::errc::no_such_process);
    CHECK(nsfun::pidfd_open(-5).error() == std::errc::no_such_process);
  }

  TEST_CASE("pidfd_pid of a reaped child is ESRCH") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::_exit(0);
    }
    auto fd = nsfun::pidfd_open(child);
    REQUIRE(fd);
    ::waitpid(child, nullptr, 0);
    auto pid = nsfun::pidfd_pid(fd.value());
    REQUIRE_FALSE(pid);
    CHECK(pid.error() == std::errc::no_such_process);
    CHECK(fmt::format("{}", pid.error()) ==
          fmt::format("pid of pidfd {}: the process has exited", fd.value().get()));
  }
}

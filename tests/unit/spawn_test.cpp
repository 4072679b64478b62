// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp: the RAII contract of Child (no privileges needed).

#include <cerrno>
#include <type_traits>
#include <utility>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/spawn.hpp>

namespace {

// True while `pid` is a child of ours not yet reaped (running or a zombie); the zombie is left
// in place (WNOWAIT).
bool unreaped_child(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

nsfun::Child sleeper() {
  auto c = nsfun::spawn(nsfun::Command("/bin/sleep").arg("100"));
  REQUIRE(c);
  return std::move(c).value();
}

}  // namespace

TEST_SUITE("spawn") {
  TEST_CASE("Child: the destructor and the moves do not throw") {
    static_assert(std::is_nothrow_destructible_v<nsfun::Child>);
    static_assert(std::is_nothrow_move_constructible_v<nsfun::Child>);
    static_assert(std::is_nothrow_move_assignable_v<nsfun::Child>);
    static_assert(!std::is_copy_constructible_v<nsfun::Child>);
    static_assert(!std::is_copy_assignable_v<nsfun::Child>);
  }

  TEST_CASE("Child: default_ctor is empty") {
    nsfun::Child c;
    CHECK_FALSE(c);
    CHECK(c.pid() == 0);
    CHECK(c.pidfd().get() == -1);
    CHECK(c.wait().error() == std::errc::no_child_process);
    CHECK(c.signal(SIGTERM).error() == std::errc::no_such_process);
  }

  TEST_CASE("Child: move_ctor leaves the source empty and the process with the target") {
    nsfun::Child a = sleeper();
    const pid_t pid = a.pid();
    nsfun::Child b(std::move(a));
    CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    CHECK(a.pid() == 0);
    CHECK(a.pidfd().get() == -1);
    CHECK(a.wait().error() == std::errc::no_child_process);
    CHECK(b.pid() == pid);
    CHECK(b.pidfd().get() >= 0);
    {
      nsfun::Child gone(std::move(a));  // an empty handle's destructor touches nothing
    }
    CHECK(unreaped_child(pid));
    REQUIRE(b.signal(SIGTERM));
    auto st = b.wait();
    REQUIRE(st);
    CHECK(st.value().signal == SIGTERM);
  }

  TEST_CASE("Child: move_assignment kills and reaps the target's own child") {
    nsfun::Child a = sleeper();
    nsfun::Child b = sleeper();
    const pid_t old_pid = a.pid();
    const pid_t new_pid = b.pid();
    REQUIRE(unreaped_child(old_pid));
    a = std::move(b);
    // The old child is gone and reaped: no longer a child of ours at all.
    CHECK_FALSE(unreaped_child(old_pid));
    CHECK(errno == ECHILD);
    CHECK(a.pid() == new_pid);
    CHECK_FALSE(b);  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    CHECK(b.pidfd().get() == -1);
    CHECK(unreaped_child(new_pid));
  }

  TEST_CASE("Child: move_assignment of a waited-for target leaves nothing behind") {
    auto done = nsfun::spawn(nsfun::Command("/bin/true"));
    REQUIRE(done);
    nsfun::Child a = std::move(done).value();
    REQUIRE(a.wait());
    nsfun::Child b = sleeper();
    const pid_t pid = b.pid();
    a = std::move(b);
    CHECK(a.pid() == pid);
    CHECK(unreaped_child(pid));
  }

  TEST_CASE("Child: self move_assignment keeps the child") {
    nsfun::Child a = sleeper();
    const pid_t pid = a.pid();
    nsfun::Child& same = a;
    a = std::move(same);
    CHECK(a.pid() == pid);
    CHECK(a.pidfd().get() >= 0);
    CHECK(unreaped_child(pid));
    REQUIRE(a.kill());
    auto st = a.wait();
    REQUIRE(st);
    CHECK(st.value().signal == SIGKILL);
  }

  TEST_CASE("Child: dtor_kills_and_reaps and detach leaves the handle empty") {
    pid_t pid = 0;
    {
      nsfun::Child a = sleeper();
      pid = a.pid();
    }
    CHECK_FALSE(unreaped_child(pid));
    nsfun::Child b = sleeper();
    const pid_t detached = b.pid();
    b.detach();
    CHECK_FALSE(b);
    CHECK(b.pidfd().get() == -1);
    // Still ours to end: it was let go, not killed.
    CHECK(unreaped_child(detached));
    CHECK(::kill(detached, SIGKILL) == 0);
    CHECK(::waitpid(detached, nullptr, 0) == detached);
  }

  TEST_CASE("identity settings that cannot apply are refused before anything starts") {
    // No privileges needed: each is refused by spawn() itself, so nothing is cloned.
    auto caps = nsfun::spawn(nsfun::Command("/bin/true").keep_caps().uid(0));
    REQUIRE_FALSE(caps);
    CHECK(caps.error() == nsfun::errc::namespace_not_new);
    auto never = nsfun::spawn(nsfun::Command("/bin/true").gid(static_cast<gid_t>(-1)));
    REQUIRE_FALSE(never);
    CHECK(never.error() == std::errc::invalid_argument);
    CHECK(never.error().message() == "spawn: gid 4294967295 is never an id ((gid_t)-1)");
    auto unmapped =
        nsfun::spawn(nsfun::Command("/bin/true").namespaces({nsfun::NsType::user}).gid(0));
    REQUIRE_FALSE(unmapped);
    CHECK(unmapped.error() == std::errc::invalid_argument);
    CHECK(unmapped.error().message() ==
          "spawn: gid 0 is not mapped in the new user namespace (it has no gid map)");
    auto many = nsfun::spawn(nsfun::Command("/bin/true").groups(std::vector<gid_t>(65537, 0)));
    REQUIRE_FALSE(many);
    CHECK(many.error() == std::errc::invalid_argument);
  }
}

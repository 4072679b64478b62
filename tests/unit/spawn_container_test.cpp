// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp's container settings (issue 15) without privileges: what the setters
// keep, the captured pipes' RAII contract, and the refusals any user gets before anything
// starts.

#include <cerrno>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/spawn.hpp>

#include "test_support.hpp"

using nsfun::Command;

TEST_SUITE("spawn container settings") {
  TEST_CASE("setters: rlimit replaces the same resource, controlling_terminal implies setsid") {
    Command c("/bin/true");
    c.rlimit(RLIMIT_NOFILE, 1, 2).rlimit(RLIMIT_CORE, 0, 0).rlimit(RLIMIT_NOFILE, 3, 4);
    const auto& limits = c.spec().rlimits;
    REQUIRE(limits.size() == 2);
    CHECK(limits[0].resource == RLIMIT_CORE);
    CHECK(limits[1].resource == RLIMIT_NOFILE);
    CHECK(limits[1].soft == 3);
    CHECK(limits[1].hard == 4);
    CHECK_FALSE(c.spec().setsid);
    c.controlling_terminal(nsfun::FdRef(0));
    CHECK(c.spec().setsid);
    CHECK(c.spec().controlling_terminal == 0);
    c.no_new_privs().oom_score_adj(-3).capture_stdout().capture_stderr(false);
    CHECK(c.spec().no_new_privs);
    CHECK(c.spec().oom_score_adj == -3);
    CHECK(c.spec().capture_stdout);
    CHECK_FALSE(c.spec().capture_stderr);
    CHECK_FALSE(c.spec().capabilities);
    CHECK_FALSE(c.spec().seccomp);
    CHECK_FALSE(c.spec().filesystem);
  }

  TEST_CASE(
      "Child: no pipes unless captured, and an empty Child has none and cannot be waited for") {
    nsfun::Child empty;
    CHECK(empty.stdout_pipe().get() == -1);
    CHECK(empty.stderr_pipe().get() == -1);
    auto r = empty.wait_with_output();
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_child_process);

    auto plain = nsfun::spawn(Command("/bin/true"));
    REQUIRE(plain);
    CHECK(plain.value().stdout_pipe().get() == -1);
    CHECK(plain.value().wait().value().success());
  }

  TEST_CASE("Child: a move carries the pipes, the moved-from handle has none") {
    const std::size_t fds = nsfun::test::open_fd_count();
    {
      auto c = nsfun::spawn(Command("/bin/echo").arg("moved").capture_stdout().capture_stderr());
      REQUIRE(c);
      const int out = c.value().stdout_pipe().get();
      nsfun::Child moved = std::move(c).value();
      CHECK(moved.stdout_pipe().get() == out);
      nsfun::Child target;
      target = std::move(moved);
      CHECK(moved.stdout_pipe().get() == -1);  // NOLINT(bugprone-use-after-move): the contract
      CHECK(moved.stderr_pipe().get() == -1);  // NOLINT(bugprone-use-after-move)
      auto o = target.wait_with_output();
      REQUIRE(o);
      CHECK(o.value().out == "moved\n");
      CHECK(o.value().err.empty());
    }
    {
      // Detached: the pipes are closed with the handle's other fds.
      auto c = nsfun::spawn(Command("/bin/true").capture_stdout());
      REQUIRE(c);
      const pid_t pid = c.value().pid();
      c.value().detach();
      CHECK(c.value().stdout_pipe().get() == -1);
      CHECK(::waitpid(pid, nullptr, 0) == pid);
    }
    CHECK(nsfun::test::open_fd_count() == fds);
  }

  TEST_CASE("refusals every user gets, naming the setting") {
    auto refused = [](const Command& cmd) {
      auto r = nsfun::spawn(cmd);
      REQUIRE_FALSE(r);
      return r.error().message();
    };
    CHECK(refused(Command("/bin/true").rlimit(RLIMIT_NOFILE, 10, 5)) ==
          "spawn: rlimit RLIMIT_NOFILE: soft limit 10 above hard limit 5");
    CHECK(refused(Command("/bin/true").rlimit(16, 1, 1)) == "spawn: rlimit 16: not a resource");
    CHECK(refused(Command("/bin/true").oom_score_adj(2000)) ==
          "spawn: oom_score_adj 2000: outside -1000..1000");
    CHECK(refused(Command("/bin/true").filesystem(nsfun::ContainerFs().minimal_dev())) ==
          "spawn: filesystem needs rootfs() (the mounts would land on the caller's tree)");
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    auto r = nsfun::UniqueFd::adopt(p[0]);  // owns: just made
    auto w = nsfun::UniqueFd::adopt(p[1]);  // owns: just made
    CHECK(refused(Command("/bin/true").controlling_terminal(r)) ==
          "spawn controlling_terminal fd " + std::to_string(r.get()) + ": not a terminal");
    CHECK(refused(Command("/bin/true").capture_stderr().redirect(2, w)) ==
          "spawn: capture_stderr cannot be combined with a redirect of fd 2");
  }
}

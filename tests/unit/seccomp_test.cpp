// SPDX-License-Identifier: MIT
// nsfun tests – seccomp.hpp: building and compiling filters (libseccomp), and the errors that
// name the system call; loading them is in tests/priv/security_test.cpp.

#include <cerrno>
#include <string>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <doctest/doctest.h>

#include <nsfun/error.hpp>
#include <nsfun/seccomp.hpp>

using nsfun::SeccompAction;
using nsfun::SeccompArg;
using nsfun::SeccompFilter;
using nsfun::SeccompRule;

TEST_SUITE("seccomp") {
  TEST_CASE("an empty deny-list compiles to a program that allows") {
    auto p = SeccompFilter().compile();
    REQUIRE(p);
    CHECK_FALSE(p.value().empty());
    CHECK(p.value().fprog().len == p.value().insns.size());
    // It returns SECCOMP_RET_ALLOW (the default) somewhere, and kills a foreign architecture.
    bool allows = false;
    bool kills = false;
    for (const sock_filter& i : p.value().insns) {
      allows = allows || (i.code == (BPF_RET | BPF_K) && i.k == SECCOMP_RET_ALLOW);
      kills = kills || (i.code == (BPF_RET | BPF_K) && i.k == SECCOMP_RET_KILL_THREAD);
    }
    CHECK(allows);
    CHECK(kills);
  }

  TEST_CASE("allow-list and deny-list shapes") {
    CHECK(SeccompFilter::allow_list().default_action() == SeccompAction::errno_return(EPERM));
    CHECK(SeccompFilter::allow_list(ENOSYS).default_action() ==
          SeccompAction::errno_return(ENOSYS));
    CHECK(SeccompFilter::allow_list_kill().default_action() == SeccompAction::kill_process());
    CHECK(SeccompFilter::deny_list().default_action() == SeccompAction::allow());
    SeccompFilter f = SeccompFilter::deny_list();
    f.deny("mkdir", EACCES)
        .kill("ptrace")
        .deny("socket", EAFNOSUPPORT, {SeccompArg{0, SeccompArg::Op::eq, 40, 0}});
    REQUIRE(f.rules().size() == 3);
    CHECK(f.rules()[0].action == SeccompAction::errno_return(EACCES));
    CHECK(f.rules()[1].action == SeccompAction::kill_process());
    CHECK(f.compile());
  }

  TEST_CASE("action names") {
    CHECK(SeccompAction::allow().to_string() == "allow");
    CHECK(SeccompAction::errno_return(EPERM).to_string() == "errno EPERM");
    CHECK(SeccompAction::kill_process().to_string() == "kill_process");
    CHECK(SeccompAction::kill_thread().to_string() == "kill_thread");
  }

  TEST_CASE("compile: an unknown system call is an error naming it") {
    auto p = SeccompFilter::allow_list().allow("read").allow("no_such_call").compile();
    REQUIRE_FALSE(p);
    CHECK(p.error() == nsfun::errc::invalid_name);
    CHECK(p.error().message() == "seccomp no_such_call: not a system call");
  }

#if defined(__x86_64__)
  TEST_CASE("compile: a call of another architecture is refused, unless skip_unknown") {
    auto p = SeccompFilter::deny_list().deny("chown32").compile();
    REQUIRE_FALSE(p);
    CHECK(p.error().message() == "seccomp chown32: not a system call on x86_64");
    SeccompFilter f = SeccompFilter::deny_list();
    f.add(SeccompRule{"chown32", SeccompAction::errno_return(EPERM), {}, true});
    CHECK(f.compile());
  }
#endif

  TEST_CASE("compile: bad errno values and argument indexes name the call") {
    auto p = SeccompFilter::deny_list().deny("mkdir", 0).compile();
    REQUIRE_FALSE(p);
    CHECK(p.error() == std::errc::invalid_argument);
    CHECK(p.error().message() == "seccomp mkdir: errno 0 is not in 1..4095");
    p = SeccompFilter::allow_list(5000).compile();
    REQUIRE_FALSE(p);
    CHECK(p.error().message() == "seccomp default action: errno 5000 is not in 1..4095");
    p = SeccompFilter::deny_list()
            .deny("read", EPERM, {SeccompArg{6, SeccompArg::Op::eq, 0, 0}})
            .compile();
    REQUIRE_FALSE(p);
    CHECK(p.error().message() == "seccomp read: argument index 6 is not in 0..5");
  }

  TEST_CASE("compile: a rule with the default action is refused") {
    auto p = SeccompFilter::deny_list().allow("read").compile();
    REQUIRE_FALSE(p);
    CHECK(p.error() == std::errc::invalid_argument);
    CHECK(p.error().message() ==
          "seccomp read: the rule's action (allow) is the filter's default action");
  }

  TEST_CASE("compile: two unconditional actions for one call conflict") {
    auto p = SeccompFilter::deny_list().deny("mkdir", EPERM).kill("mkdir").compile();
    REQUIRE_FALSE(p);
    CHECK(p.error().message() ==
          "seccomp mkdir: two actions for the call: errno EPERM and kill_process");
    // With conditions, several rules for one call are the point (personality's values).
    CHECK(SeccompFilter::allow_list()
              .allow("personality", {SeccompArg{0, SeccompArg::Op::eq, 0, 0}})
              .allow("personality", {SeccompArg{0, SeccompArg::Op::eq, 8, 0}})
              .compile());
  }

  TEST_CASE("container_default: Docker's profile compiles on this architecture") {
    SeccompFilter f = SeccompFilter::container_default();
    CHECK(f.default_action() == SeccompAction::errno_return(EPERM));
    CHECK(f.rules().size() > 340);
    bool has_mount = false;
    bool clone3_enosys = false;
    for (const SeccompRule& r : f.rules()) {
      has_mount = has_mount || r.syscall == "mount" || r.syscall == "unshare" ||
                  r.syscall == "setns" || r.syscall == "bpf";
      if (r.syscall == "clone3") {
        clone3_enosys = r.action == SeccompAction::errno_return(ENOSYS);
      }
    }
    CHECK_FALSE(has_mount);
    CHECK(clone3_enosys);
    auto p = f.compile();
    REQUIRE(p);
    CHECK(p.value().insns.size() > 100);
    CHECK(p.value().insns.size() <= BPF_MAXINSNS);
    // Adding to it keeps it valid: a container with CAP_SYS_ADMIN may be allowed mount.
    CHECK(SeccompFilter::container_default().allow("mount").compile());
  }

  TEST_CASE("compile: kept for the filter and its copies until one is changed") {
    SeccompFilter f = SeccompFilter::deny_list().deny("mkdir");
    auto a = f.compile();
    REQUIRE(a);
    SeccompFilter copy = f;
    auto b = copy.compile();
    REQUIRE(b);
    CHECK(b.value().insns.size() == a.value().insns.size());
    copy.deny("rmdir");
    auto c = copy.compile();
    REQUIRE(c);
    CHECK(c.value().insns.size() > a.value().insns.size());
    auto again = f.compile();  // the original is unchanged
    REQUIRE(again);
    CHECK(again.value().insns.size() == a.value().insns.size());
    // A change that makes the filter invalid is seen too.
    copy.deny("no_such_call");
    CHECK_FALSE(copy.compile());
  }
}

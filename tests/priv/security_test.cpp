// SPDX-License-Identifier: MIT
// nsfun tests – the child side of spawn's capability and seccomp settings
// (detail::security: drop_bounding, apply_sets, set_no_new_privs, load_seccomp), each in a
// forked child, read back from the kernel (/proc/self/status) and compared with setpriv(1),
// which sets the same capability sets; as root and as an unprivileged user in a user namespace.

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/detail/security.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/seccomp.hpp>

#include "test_support.hpp"

using nsfun::Capabilities;
using nsfun::CapSet;
using nsfun::NsType;
using nsfun::NsTypeSet;
using nsfun::SeccompArg;
using nsfun::SeccompFilter;
namespace security = nsfun::detail::security;

namespace {

// A field of /proc/self/status ("CapBnd"), its text after the tab; "" when missing. Read with
// plain stdio (the tests' own reading, not nsfun's).
std::string status_field(std::string_view name) {
  std::string text = nsfun::test::read_text("/proc/self/status");
  std::string key = std::string(name) + ":\t";
  std::size_t at = text.find(key);
  if (at == std::string::npos) {
    return {};
  }
  at += key.size();
  return text.substr(at, text.find('\n', at) - at);
}

std::uint64_t status_caps(std::string_view name) {
  return std::strtoull(status_field(name).c_str(), nullptr, 16);
}

// The same field as a shell run by `prefix` sees it: "CapBnd:\t00000000a80425fb".
std::string tool_field(const std::string& prefix, std::string_view name) {
  auto r = nsfun::test::run(prefix + " grep '^" + std::string(name) + ":' /proc/self/status");
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

// setpriv's capability list for a set: "+chown,+kill".
std::string setpriv_list(CapSet s) {
  std::string out = "-all";
  for (int c = 0; c <= CapSet::max_cap; ++c) {
    if (s.contains(c)) {
      out += ",+" + CapSet::name(c).substr(4);
    }
  }
  return out;
}

bool can_user_ns() {
  static const bool ok = nsfun::test::can_drop_privileges() &&
                         nsfun::test::can_unshare_unprivileged(NsTypeSet{NsType::user});
  return ok;
}

const CapSet keep = CapSet::container_default();

}  // namespace

TEST_SUITE("security") {
  TEST_CASE("drop_bounding: CapBnd is the kept set, as setpriv --bounding-set makes it") {
    NSFUN_REQUIRE((status_caps("CapEff") >> CAP_SETPCAP & 1U) != 0, "needs CAP_SETPCAP");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT_OK(security::drop_bounding(Capabilities::only(keep)));
      NSFUN_EXPECT(status_caps("CapBnd") == keep.bits());
      // The other sets are untouched: the bounding set limits only what exec may give.
      NSFUN_EXPECT(status_caps("CapEff") != keep.bits());
      return 0;
    });
    NSFUN_REQUIRE(nsfun::test::have_program("setpriv"), "setpriv is not installed");
    char expect[40];
    std::snprintf(expect, sizeof(expect), "CapBnd:\t%016llx",
                  static_cast<unsigned long long>(keep.bits()));
    CHECK(tool_field("setpriv --bounding-set " + setpriv_list(keep), "CapBnd") == expect);
  }

  TEST_CASE("apply_sets: effective, permitted, inheritable and ambient as asked, across exec") {
    NSFUN_REQUIRE((status_caps("CapEff") >> CAP_SETPCAP & 1U) != 0, "needs CAP_SETPCAP");
    // Root: the sets as given.
    NSFUN_CHECK_CHILD([] {
      Capabilities c = Capabilities::only(keep);
      NSFUN_EXPECT_OK(security::drop_bounding(c));
      NSFUN_EXPECT_OK(security::apply_sets(c));
      NSFUN_EXPECT(status_caps("CapEff") == keep.bits());
      NSFUN_EXPECT(status_caps("CapPrm") == keep.bits());
      NSFUN_EXPECT(status_caps("CapInh") == 0);
      NSFUN_EXPECT(status_caps("CapAmb") == 0);
      return 0;
    });
    // Another uid keeps what the ambient set carries across execve, the way spawn uses it:
    // PR_SET_KEEPCAPS, setresuid, then apply_sets.
    NSFUN_CHECK_CHILD([] {
      CapSet amb = CapSet{}.add(CAP_NET_BIND_SERVICE);
      Capabilities c = Capabilities::only(keep);
      c.inheritable = amb;
      c.ambient = amb;
      NSFUN_EXPECT_OK(security::drop_bounding(c));
      NSFUN_EXPECT(::prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) == 0);
      NSFUN_EXPECT(::setresgid(65534, 65534, 65534) == 0);
      NSFUN_EXPECT(::setresuid(65534, 65534, 65534) == 0);
      NSFUN_EXPECT_OK(security::apply_sets(c));
      NSFUN_EXPECT(status_caps("CapAmb") == amb.bits());
      // After exec: permitted and effective are the ambient set (grep matches only then).
      char want[64];
      std::snprintf(want, sizeof(want), "CapEff:\t%016llx",
                    static_cast<unsigned long long>(amb.bits()));
      ::execl("/bin/grep", "grep", "-q", want, "/proc/self/status", nullptr);
      return 99;
    });
  }

  TEST_CASE("apply_sets: a set beyond what the process holds is refused with capset's EPERM") {
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto r = security::apply_sets(Capabilities::only(CapSet{}.add(CAP_SYS_ADMIN)));
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(r.error().message() == "capset: Operation not permitted");
      return 0;
    });
  }

  TEST_CASE("set_no_new_privs: NoNewPrivs 1, as setpriv --no-new-privs") {
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(status_field("NoNewPrivs") == "0");
      NSFUN_EXPECT_OK(security::set_no_new_privs());
      NSFUN_EXPECT(status_field("NoNewPrivs") == "1");
      return 0;
    });
    if (nsfun::test::have_program("setpriv")) {
      CHECK(tool_field("setpriv --no-new-privs", "NoNewPrivs") == "NoNewPrivs:\t1");
    }
  }

  TEST_CASE("load_seccomp: a denied call fails with the chosen errno, others run") {
    auto prog = SeccompFilter::deny_list().deny("mkdir", EXDEV).deny("mkdirat", EXDEV).compile();
    REQUIRE(prog);
    NSFUN_CHECK_CHILD([&prog] {
      NSFUN_EXPECT(status_field("Seccomp") == "0");
      NSFUN_EXPECT_OK(security::set_no_new_privs());
      NSFUN_EXPECT_OK(security::load_seccomp(prog.value()));
      NSFUN_EXPECT(status_field("Seccomp") == "2");
      NSFUN_EXPECT(status_field("Seccomp_filters") == "1");
      errno = 0;
      NSFUN_EXPECT(::mkdir("/nonexistent-nsfun-test/x", 0700) == -1 && errno == EXDEV);
      errno = 0;
      NSFUN_EXPECT(::mkdirat(AT_FDCWD, "/nonexistent-nsfun-test/x", 0700) == -1 && errno == EXDEV);
      // Not denied: rmdir reaches the kernel, which says ENOENT.
      NSFUN_EXPECT(::rmdir("/nonexistent-nsfun-test/x") == -1 && errno == ENOENT);
      return 0;
    });
  }

  TEST_CASE("load_seccomp: the kill action kills the process with SIGSYS") {
    auto prog = SeccompFilter::deny_list().kill("getppid").compile();
    REQUIRE(prog);
    int st = nsfun::test::in_child([&prog] {
      if (!security::set_no_new_privs() || !security::load_seccomp(prog.value())) {
        return 1;
      }
      (void)::syscall(SYS_getppid);
      return 2;  // not reached
    });
    CHECK(st == 128 + SIGSYS);
  }

  TEST_CASE("load_seccomp: argument conditions") {
    // socket(AF_VSOCK, …) denied, socket(AF_UNIX, …) allowed: the container default's rule.
    auto prog = SeccompFilter::deny_list()
                    .deny("socket", EAFNOSUPPORT, {SeccompArg{0, SeccompArg::Op::eq, 40, 0}})
                    .compile();
    REQUIRE(prog);
    NSFUN_CHECK_CHILD([&prog] {
      NSFUN_EXPECT_OK(security::set_no_new_privs());
      NSFUN_EXPECT_OK(security::load_seccomp(prog.value()));
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      NSFUN_EXPECT(fd >= 0);
      ::close(fd);
      errno = 0;
      NSFUN_EXPECT(::socket(40, SOCK_STREAM | SOCK_CLOEXEC, 0) == -1 && errno == EAFNOSUPPORT);
      return 0;
    });
  }

  TEST_CASE("load_seccomp: without no_new_privs or CAP_SYS_ADMIN, EACCES with the reason") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    auto prog = SeccompFilter::deny_list().deny("mkdir").compile();
    REQUIRE(prog);
    NSFUN_CHECK_CHILD([&prog] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto r = security::load_seccomp(prog.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::permission_denied);
      NSFUN_EXPECT(r.error().message() ==
                   "seccomp SECCOMP_SET_MODE_FILTER: needs no_new_privs or CAP_SYS_ADMIN");
      NSFUN_EXPECT(status_field("Seccomp") == "0");
      return 0;
    });
  }

  TEST_CASE("container_default: what the profile denies fails with EPERM, the rest runs") {
    auto prog = SeccompFilter::container_default().compile();
    REQUIRE(prog);
    NSFUN_CHECK_CHILD([&prog] {
      NSFUN_EXPECT_OK(security::set_no_new_privs());
      NSFUN_EXPECT_OK(security::load_seccomp(prog.value()));
      errno = 0;
      NSFUN_EXPECT(::unshare(CLONE_NEWUTS) == -1 && errno == EPERM);
      errno = 0;
      // A target that does not exist: were the call let through, it would fail with ENOENT.
      NSFUN_EXPECT(::mount("none", "/nonexistent-nsfun-test", "tmpfs", 0, nullptr) == -1 &&
                   errno == EPERM);
      errno = 0;
      NSFUN_EXPECT(::syscall(SYS_clone3, nullptr, 0) == -1 && errno == ENOSYS);
      errno = 0;
      NSFUN_EXPECT(::personality(0x0008 | 0x0400000) == -1 && errno == EPERM);
      // fork (clone without namespace flags), a pipe and exec still work.
      pid_t pid = ::fork();
      if (pid == 0) {
        ::execl("/bin/true", "true", nullptr);
        ::_exit(127);
      }
      int status = 0;
      NSFUN_EXPECT(pid > 0 && ::waitpid(pid, &status, 0) == pid && status == 0);
      NSFUN_EXPECT(status_field("Seccomp") == "2");
      return 0;
    });
  }

  TEST_CASE("rootless: all four steps in a user namespace, as an unprivileged user") {
    NSFUN_REQUIRE(can_user_ns(), "cannot unshare a user namespace unprivileged");
    auto prog = SeccompFilter::container_default().compile();
    REQUIRE(prog);
    NSFUN_CHECK_CHILD([&prog] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      NSFUN_EXPECT(::unshare(CLONE_NEWUSER) == 0);
      Capabilities c = Capabilities::only(keep);
      NSFUN_EXPECT_OK(security::drop_bounding(c));
      NSFUN_EXPECT_OK(security::apply_sets(c));
      NSFUN_EXPECT_OK(security::set_no_new_privs());
      NSFUN_EXPECT_OK(security::load_seccomp(prog.value()));
      NSFUN_EXPECT(status_caps("CapBnd") == keep.bits());
      NSFUN_EXPECT(status_caps("CapEff") == keep.bits());
      NSFUN_EXPECT(status_field("NoNewPrivs") == "1");
      NSFUN_EXPECT(status_field("Seccomp") == "2");
      errno = 0;
      NSFUN_EXPECT(::unshare(CLONE_NEWUTS) == -1 && errno == EPERM);
      return 0;
    });
  }
}

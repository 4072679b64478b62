// SPDX-License-Identifier: MIT
// nsfun tests – acquire.hpp and unshare(): creating namespaces, with and without entering them.

#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/format.hpp>
#include <nsfun/ns_fd.hpp>

#include "test_support.hpp"

using nsfun::NsFd;
using nsfun::NsType;
using nsfun::NsTypeSet;

namespace {

const NsTypeSet acquirable = NsTypeSet::all() - NsTypeSet{NsType::user, NsType::pid};

bool current_is(const NsFd& ns) {
  auto r = ns.is_current();
  return r && r.value();
}

}  // namespace

TEST_SUITE("acquire") {
  TEST_CASE("acquire makes new namespaces of every type and leaves the caller where it was") {
    NSFUN_REQUIRE(nsfun::test::can_unshare(acquirable), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto before = nsfun::NsFdSet::current(NsTypeSet::all());
      NSFUN_EXPECT_OK(before);
      std::size_t fds = nsfun::test::open_fd_count();
      {
        auto made = nsfun::acquire(acquirable);
        NSFUN_EXPECT_OK(made);
        NSFUN_EXPECT(made.value().types() == acquirable);
        for (NsType t : acquirable) {
          const NsFd* ns = made.value().get(t);
          NSFUN_EXPECT(ns != nullptr);
          NSFUN_EXPECT(ns->type() == t);
          NSFUN_EXPECT(ns->identity() != before.value().get(t)->identity());
          NSFUN_EXPECT(!current_is(*ns));
        }
        for (NsType t : NsTypeSet::all()) {
          NSFUN_EXPECT(current_is(*before.value().get(t)));
        }
      }
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("acquire with a user namespace owns the other new namespaces") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::net}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto my_user = NsFd::current(NsType::user);
      NSFUN_EXPECT(my_user);
      auto made = nsfun::acquire({NsType::user, NsType::net, NsType::uts});
      NSFUN_EXPECT_OK(made);
      const NsFd& user = *made.value().get(NsType::user);
      NSFUN_EXPECT(user.identity() != my_user.value().identity());
      auto parent = user.parent();
      NSFUN_EXPECT_OK(parent);
      NSFUN_EXPECT(parent.value().identity() == my_user.value().identity());
      auto uid = user.owner_uid();
      NSFUN_EXPECT_OK(uid);
      NSFUN_EXPECT(uid.value() == ::geteuid());
      for (NsType t : {NsType::net, NsType::uts}) {
        auto owner = made.value().get(t)->owner();
        NSFUN_EXPECT_OK(owner);
        NSFUN_EXPECT(owner.value().identity() == user.identity());
      }
      NSFUN_EXPECT(current_is(my_user.value()));
      return 0;
    });
  }

  TEST_CASE("issue #13: acquire with a user namespace leaves no child, zombie or fd behind") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::net}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      // From a multithreaded caller, which the kernel never lets unshare a user namespace.
      int gate[2];
      NSFUN_EXPECT(::pipe2(gate, O_CLOEXEC) == 0);
      std::thread other([fd = gate[0]] {
        char c = 0;
        (void)!::read(fd, &c, 1);
      });
      const std::size_t fds = nsfun::test::open_fd_count();
      {
        auto made = nsfun::acquire({NsType::user, NsType::net, NsType::time});
        NSFUN_EXPECT_OK(made);
        NSFUN_EXPECT(made.value().types() == (NsTypeSet{NsType::user, NsType::net, NsType::time}));
        // The process that made them is gone and reaped: no child of ours is left, not even a
        // zombie, and the namespaces live on through the fds.
        NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD);
        auto owner = made.value().get(NsType::net)->owner();
        NSFUN_EXPECT_OK(owner);
        NSFUN_EXPECT(owner.value().identity() == made.value().get(NsType::user)->identity());
      }
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      (void)!::write(gate[1], "x", 1);
      other.join();
      ::close(gate[0]);
      ::close(gate[1]);
      return 0;
    });
  }

  TEST_CASE("typed acquire returns the typed handle") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(net.value().identity().type() == NsType::net);
      auto time = nsfun::acquire<NsType::time>();
      NSFUN_EXPECT_OK(time);
      auto mine = NsFd::current(NsType::time);
      NSFUN_EXPECT(time.value().identity() != mine.value().identity());
      return 0;
    });
  }

  TEST_CASE("acquire refuses a pid namespace which needs a process") {
    auto pid = nsfun::acquire<NsType::pid>();
    REQUIRE_FALSE(pid);
    CHECK(pid.error() == nsfun::errc::pid_namespace_needs_process);
    auto set = nsfun::acquire({NsType::net, NsType::pid});
    REQUIRE_FALSE(set);
    CHECK(set.error() == nsfun::errc::pid_namespace_needs_process);
    // The error names the types asked for.
    CHECK(fmt::format("{}", set.error()) ==
          "acquire pid,net: A new pid namespace needs a process in it (spawn one)");
  }

  TEST_CASE("acquire and unshare refuse an empty set") {
    auto a = nsfun::acquire(NsTypeSet{});
    REQUIRE_FALSE(a);
    CHECK(a.error() == nsfun::errc::empty_namespace_type_list);
    auto u = nsfun::unshare(NsTypeSet{});
    REQUIRE_FALSE(u);
    CHECK(u.error() == nsfun::errc::empty_namespace_type_list);
  }

  TEST_CASE("unshare moves the calling thread") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto before = NsFd::current(NsType::net);
      NSFUN_EXPECT(nsfun::unshare({NsType::net, NsType::uts}));
      NSFUN_EXPECT(!current_is(before.value()));
      return 0;
    });
  }

  TEST_CASE("an unprivileged caller gets EPERM") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs to switch to uid 65534");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto made = nsfun::acquire({NsType::net});
      NSFUN_EXPECT(!made);
      NSFUN_EXPECT(made.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(made.error().what == "unshare");
      NSFUN_EXPECT(fmt::format("{}", made.error()) == "unshare net: Operation not permitted");
      auto two = nsfun::acquire({NsType::uts, NsType::ipc});
      NSFUN_EXPECT(!two);
      NSFUN_EXPECT(two.error().message() == "unshare uts,ipc: Operation not permitted");
      auto u = nsfun::unshare({NsType::uts});
      NSFUN_EXPECT(!u);
      NSFUN_EXPECT(u.error() == std::errc::operation_not_permitted);
      return 0;
    });
  }
}

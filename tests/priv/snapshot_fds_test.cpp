// SPDX-License-Identifier: MIT
// nsfun tests – snapshot.hpp: namespaces held by an fd or a socket (SnapshotOptions::fds), the
// NSFS list of every bind mount, and open_namespace().
//
// Every case works in a forked child, in namespaces it made; pins live in a private /run. What
// holds the namespaces is the child itself (an fd or a socket it keeps open), so the holder is
// a known pid and everything is gone when the child exits.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/snapshot.hpp>
#include <nsfun/unique_fd.hpp>

#include "test_support.hpp"

using nsfun::Namespace;
using nsfun::NsSummary;
using nsfun::NsType;
using nsfun::NsTypeSet;
using nsfun::Snapshot;
using nsfun::SnapshotOptions;

namespace {

constexpr const char* no_admin = "needs CAP_SYS_ADMIN";

SnapshotOptions with_fds() {
  SnapshotOptions o;
  o.fds = true;
  return o;
}

// The uid USER shows for a namespace no process is in, made by this process: the creator of
// the user namespace this process is in.
uid_t own_userns_owner() {
  auto user = nsfun::NsFd::current(NsType::user);
  if (!user) {
    return static_cast<uid_t>(-1);
  }
  auto uid = user.value().owner_uid();
  return uid ? uid.value() : static_cast<uid_t>(-1);
}

}  // namespace

TEST_SUITE("snapshot fds") {
  TEST_CASE("a network namespace held only by an fd: nprocs 0, its holder, USER from its owner") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), no_admin);
    NSFUN_CHECK_CHILD([] {
      auto made = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(made);
      nsfun::NetNs net = std::move(made).value();
      const Namespace held = net.identity();
      const std::size_t fds_before = nsfun::test::open_fd_count();
      auto snap = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(snap);
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds_before);  // nothing left open
      const NsSummary* s = snap.value().find(held);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->nprocs == 0);
      NSFUN_EXPECT(s->pid == 0);
      NSFUN_EXPECT(s->command.empty());
      NSFUN_EXPECT(s->holder == ::getpid());
      NSFUN_EXPECT(s->holder_fd == net.get());
      NSFUN_EXPECT(!s->holder_socket);
      NSFUN_EXPECT(s->nsfs.empty() && s->path.empty());
      NSFUN_EXPECT(s->uid == own_userns_owner());

      // Sorted with the others, by inode.
      const auto& all = snap.value().namespaces();
      NSFUN_EXPECT(std::is_sorted(
          all.begin(), all.end(),
          [](const NsSummary& a, const NsSummary& b) { return a.ns.ino() < b.ns.ino(); }));

      // open_namespace reaches it through the holder's fd.
      {
        auto again = nsfun::open_namespace(*s);
        NSFUN_EXPECT_OK(again);
        NSFUN_EXPECT(again.value().identity() == held);
      }

      // PNS/ONS through the same fd.
      SnapshotOptions deep = with_fds();
      deep.hierarchy = true;
      auto detailed = Snapshot::take(deep);
      NSFUN_EXPECT_OK(detailed);
      const NsSummary* d = detailed.value().find(held);
      NSFUN_EXPECT(d != nullptr);
      NSFUN_EXPECT(d->owner == nsfun::test::link_ino(::getpid(), "user"));

      // Not without fds, nor when net is not asked for.
      auto plain = Snapshot::take();
      NSFUN_EXPECT_OK(plain);
      NSFUN_EXPECT(plain.value().find(held) == nullptr);
      SnapshotOptions uts_only = with_fds();
      uts_only.types = NsTypeSet{NsType::uts};
      auto other = Snapshot::take(uts_only);
      NSFUN_EXPECT_OK(other);
      NSFUN_EXPECT(other.value().find(held) == nullptr);

      // Once the fd is closed the namespace is gone, and so is the way to it: the fd number is
      // reused by open_namespace's own /proc, which the inode check refuses.
      NsSummary copy = *s;
      { nsfun::NetNs drop = std::move(net); }
      auto gone = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(gone);
      NSFUN_EXPECT(gone.value().find(held) == nullptr);
      auto stale = nsfun::open_namespace(copy);
      NSFUN_EXPECT(!stale);
      NSFUN_EXPECT(stale.error().code == std::errc::no_such_process);
      return 0;
    });
  }

  TEST_CASE("a namespace whose bind mount was detached is still found through the fd on it") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN for a private /run");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      const std::string first = "/run/" + nsfun::test::unique_name();
      const std::string second = "/run/" + nsfun::test::unique_name();
      Namespace pinned;
      {
        auto net = nsfun::acquire<NsType::net>();
        NSFUN_EXPECT_OK(net);
        pinned = net.value().identity();
        // The second path sorts first: NSFS keeps the mount order, as lsns does.
        NSFUN_EXPECT_OK(nsfun::pin(net.value(), second.c_str()));
        NSFUN_EXPECT_OK(nsfun::pin(net.value(), first.c_str()));
      }
      auto snap = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(snap);
      const NsSummary* s = snap.value().find(pinned);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT((s->nsfs == std::vector<std::string>{second, first}));
      NSFUN_EXPECT(s->path == second);
      NSFUN_EXPECT(s->holder == 0);  // no fd holds it yet
      NSFUN_EXPECT(s->uid == own_userns_owner());

      // Opened through a mount: /proc/PID/fd shows the mount's path, then "/" once detached.
      auto through = nsfun::NsFd::open_path(second.c_str(), NsType::net);
      NSFUN_EXPECT_OK(through);
      NSFUN_EXPECT_OK(nsfun::unpin(second.c_str()));
      NSFUN_EXPECT_OK(nsfun::unpin(first.c_str()));
      auto after = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(after);
      s = after.value().find(pinned);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->nsfs.empty() && s->path.empty());
      NSFUN_EXPECT(s->nprocs == 0);
      NSFUN_EXPECT(s->holder == ::getpid());
      NSFUN_EXPECT(s->holder_fd == through.value().get());
      auto again = nsfun::open_namespace(*s);
      NSFUN_EXPECT_OK(again);
      NSFUN_EXPECT(again.value().identity() == pinned);
      return 0;
    });
  }

  TEST_CASE("a network namespace held only by a socket is found through the socket") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), no_admin);
    NSFUN_CHECK_CHILD([] {
      Namespace held;
      nsfun::UniqueFd sock;
      {
        auto net = nsfun::acquire<NsType::net>();
        NSFUN_EXPECT_OK(net);
        held = net.value().identity();
        auto made = nsfun::run_in(net.value(),
                                  [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
        NSFUN_EXPECT_OK(made);
        NSFUN_EXPECT(made.value() >= 0);
        sock = nsfun::UniqueFd::adopt(made.value());  // owns: the socket just made
      }  // the namespace fd is closed: only the socket holds the namespace
      // Several processes hold the socket: the lowest is the holder.
      nsfun::test::PausedChild also([] { return true; });
      NSFUN_EXPECT(also);
      auto snap = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(snap);
      const NsSummary* s = snap.value().find(held);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->ns.type() == NsType::net);
      NSFUN_EXPECT(s->nprocs == 0);
      NSFUN_EXPECT(s->pid == 0);
      NSFUN_EXPECT(s->holder == std::min(::getpid(), also.pid()));
      NSFUN_EXPECT(s->holder_socket);
      NSFUN_EXPECT(s->holder_fd == sock.get());
      NSFUN_EXPECT(s->uid == own_userns_owner());
      {
        auto again = nsfun::open_namespace(*s);
        NSFUN_EXPECT_OK(again);
        NSFUN_EXPECT(again.value().identity() == held);
      }

      // Sockets are looked at only when net is asked for.
      SnapshotOptions no_net = with_fds();
      no_net.types = NsTypeSet::all() - NsTypeSet{NsType::net};
      auto other = Snapshot::take(no_net);
      NSFUN_EXPECT_OK(other);
      NSFUN_EXPECT(other.value().find(held) == nullptr);

      also.stop();
      sock = nsfun::UniqueFd();
      auto gone = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(gone);
      NSFUN_EXPECT(gone.value().find(held) == nullptr);
      return 0;
    });
  }

  TEST_CASE("an fd past a thousand others is found (the fd directory takes several reads)") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), no_admin);
    NSFUN_CHECK_CHILD([] {
      std::vector<nsfun::UniqueFd> filler;
      for (int i = 0; i < 1500; ++i) {
        int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        NSFUN_EXPECT(fd >= 0);
        filler.push_back(nsfun::UniqueFd::adopt(fd));  // owns: just opened
      }
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(net.value().get() > 1500);
      auto snap = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(snap);
      const NsSummary* s = snap.value().find(net.value().identity());
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->holder == ::getpid());
      NSFUN_EXPECT(s->holder_fd == net.value().get());
      return 0;
    });
  }

  TEST_CASE("a held user namespace shows its creator as USER") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto user = nsfun::acquire<NsType::user>();
      NSFUN_EXPECT_OK(user);
      auto snap = Snapshot::take(with_fds());
      NSFUN_EXPECT_OK(snap);
      const NsSummary* s = snap.value().find(user.value().identity());
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->nprocs == 0);
      NSFUN_EXPECT(s->holder == ::getpid());
      NSFUN_EXPECT(s->uid == ::geteuid());  // NS_GET_OWNER_UID: its creator, this process
      return 0;
    });
  }

  TEST_CASE("fds the caller may not read are skipped, not errors") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), no_admin);
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot become nobody");
    NSFUN_CHECK_CHILD([] {
      // This (root) process holds the namespace; a child of it that became nobody looks.
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      const Namespace held = net.value().identity();
      int looked = nsfun::test::in_child([&] {
        { nsfun::NetNs inherited = std::move(net).value(); }  // this child's copy of the fd
        NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
        auto snap = Snapshot::take(with_fds());
        NSFUN_EXPECT_OK(snap);
        NSFUN_EXPECT(snap.value().find(held) == nullptr);  // root's fds are not ours to read
        // Its own namespaces are still listed.
        NSFUN_EXPECT(snap.value().find(Namespace(NsType::net, snap.value().nsfs_dev(),
                                                 nsfun::test::link_ino(::getpid(), "net"))) !=
                     nullptr);
        return 0;
      });
      NSFUN_EXPECT(looked == 0);
      return 0;
    });
  }
}

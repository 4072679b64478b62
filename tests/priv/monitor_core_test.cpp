// SPDX-License-Identifier: MIT
// NsMonitor's shared parts: names, option checks, the nsfs-handle liveness check and LiveSet.
// The backends have their own suites (monitor_test.cpp, monitor_bpf_test.cpp).
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/detail/monitor_source.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/ns_fd.hpp>

#include "test_support.hpp"

using namespace std::chrono_literals;

namespace {

// The namespace behind an nsfs fd, with its id.
nsfun::Namespace ns_of_fd(int fd, nsfun::NsType type) {
  struct stat st {};

  REQUIRE(::fstat(fd, &st) == 0);
  return nsfun::Namespace(type, st.st_dev, st.st_ino, nsfun::detail::ns_id_of(fd));
}

}  // namespace

TEST_CASE("monitor: backend and event names round-trip") {
  using nsfun::MonitorBackend;
  for (MonitorBackend b : {MonitorBackend::automatic, MonitorBackend::bpf,
                           MonitorBackend::connector, MonitorBackend::poll}) {
    auto parsed = nsfun::monitor_backend_from_name(nsfun::name(b));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == b);
  }
  CHECK(nsfun::name(MonitorBackend::automatic) == "auto");
  CHECK_FALSE(nsfun::monitor_backend_from_name("automatic").has_value());
  CHECK_FALSE(nsfun::monitor_backend_from_name("").has_value());
  CHECK(nsfun::name(nsfun::NsEventKind::appeared) == "NEW");
  CHECK(nsfun::name(nsfun::NsEventKind::gone) == "GONE");
  CHECK(nsfun::name(nsfun::NsEventKind::join) == "JOIN");
  CHECK(nsfun::name(nsfun::NsEventKind::leave) == "LEAVE");
  CHECK(nsfun::name(nsfun::NsEventKind::lost) == "LOST");
}

TEST_CASE("monitor: open refuses options it cannot keep, naming the option") {
  nsfun::MonitorOptions o;
  o.backend = nsfun::MonitorBackend::poll;

  SUBCASE("no type") {
    o.types = nsfun::NsTypeSet{};
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error() == nsfun::errc::empty_namespace_type_list);
  }
  SUBCASE("interval 0") {
    o.interval = 0ms;
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().code == std::errc::invalid_argument);
    CHECK(m.error().message().find("interval 0 ms") != std::string::npos);
  }
  SUBCASE("negative interval") {
    o.interval = -5ms;
    CHECK_FALSE(nsfun::NsMonitor::open(o).has_value());
  }
  SUBCASE("ring not a power of two") {
    o.ring_bytes = 3 * 4096;
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().message().find("ring_bytes 12288") != std::string::npos);
  }
  SUBCASE("ring smaller than a page") {
    o.ring_bytes = 64;
    CHECK_FALSE(nsfun::NsMonitor::open(o).has_value());
  }
}

TEST_CASE("monitor: a poll monitor says what it is, times out empty and leaks no fd") {
  std::size_t fds = nsfun::test::open_fd_count();
  {
    nsfun::MonitorOptions o;
    o.backend = nsfun::MonitorBackend::poll;
    o.interval = 20ms;
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE(m.has_value());
    CHECK(m.value().backend() == nsfun::MonitorBackend::poll);
    CHECK(m.value().why() == "using (as asked) poll");
    CHECK(m.value().fd() >= 0);
    CHECK(::fcntl(m.value().fd(), F_GETFD) == FD_CLOEXEC);
    auto start = std::chrono::steady_clock::now();
    // Whatever other processes do meanwhile, next() returns within its timeout.
    for (int i = 0; i < 3; ++i) {
      auto e = m.value().next(30ms);
      REQUIRE(e.has_value());
    }
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(m.value().stats().rescans >= 2);
    nsfun::NsMonitor moved = std::move(m).value();
    CHECK(moved.backend() == nsfun::MonitorBackend::poll);
  }
  CHECK(nsfun::test::open_fd_count() == fds);
}

TEST_CASE("monitor: ns_liveness answers alive for a held namespace and gone once it is freed") {
  NSFUN_REQUIRE(nsfun::test::can_unshare({nsfun::NsType::uts}), "needs CAP_SYS_ADMIN");
  auto own = nsfun::NsFd::open(::getpid(), nsfun::NsType::uts);
  REQUIRE(own.has_value());
  nsfun::Namespace self = ns_of_fd(own.value().get(), nsfun::NsType::uts);
  NSFUN_REQUIRE(self.id() != 0, "the kernel has no namespace ids (NS_GET_ID, Linux 6.18)");
  NSFUN_REQUIRE(nsfun::detail::ns_liveness(self) != nsfun::detail::Liveness::unknown,
                "the kernel has no nsfs file handles");
  CHECK(nsfun::detail::ns_liveness(self) == nsfun::detail::Liveness::alive);
  // No id: the kernel cannot be asked.
  CHECK(nsfun::detail::ns_liveness(nsfun::Namespace(nsfun::NsType::uts, 0, self.ino())) ==
        nsfun::detail::Liveness::unknown);

  // A child's new uts namespace: alive while it lives, gone after it exited.
  int ready[2];
  int go[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    char c = ::unshare(CLONE_NEWUTS) == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(go[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto fd = nsfun::NsFd::open(child, nsfun::NsType::uts);
  REQUIRE(fd.has_value());
  nsfun::Namespace made = ns_of_fd(fd.value().get(), nsfun::NsType::uts);
  CHECK(made.id() != self.id());
  CHECK(nsfun::detail::ns_liveness(made) == nsfun::detail::Liveness::alive);
  ::close(go[1]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(ready[0]);
  // Still held by our fd.
  CHECK(nsfun::detail::ns_liveness(made) == nsfun::detail::Liveness::alive);
  fd = nsfun::NsFd{};
  // Freed once the fd is closed; the final put may trail by an RCU grace period.
  nsfun::detail::Liveness lv = nsfun::detail::Liveness::alive;
  for (int i = 0; i < 200 && lv == nsfun::detail::Liveness::alive; ++i) {
    lv = nsfun::detail::ns_liveness(made);
    if (lv == nsfun::detail::Liveness::alive) {
      ::usleep(5000);
    }
  }
  CHECK(lv == nsfun::detail::Liveness::gone);
  // The same inode with another id (a recycled inode) is not the live one either.
  CHECK(nsfun::detail::ns_liveness(
            nsfun::Namespace(nsfun::NsType::uts, 0, self.ino(), self.id() + 1'000'000'000)) !=
        nsfun::detail::Liveness::alive);
}

TEST_CASE("monitor: LiveSet keys by id, so a recycled inode is another namespace") {
  nsfun::detail::LiveSet set;
  nsfun::Namespace a(nsfun::NsType::net, 4, 4026532000, 100);
  nsfun::Namespace b(nsfun::NsType::net, 4, 4026532000, 101);  // same inode, new id
  nsfun::Namespace c(nsfun::NsType::uts, 4, 4026532000, 100);  // same id, other type
  CHECK(set.add(a, 10));
  CHECK_FALSE(set.add(a, 20));
  CHECK(set.add(b, 30));
  CHECK(set.add(c, 40));
  CHECK(set.size() == 3);
  REQUIRE(set.find(b) != nullptr);
  CHECK(set.find(b)->born == 30);
  auto gone = set.remove(a);
  REQUIRE(gone.has_value());
  CHECK(gone->born == 10);
  nsfun::NsEvent e = nsfun::detail::LiveSet::gone_event(*gone, 1'010);
  CHECK(e.kind == nsfun::NsEventKind::gone);
  CHECK(e.ns.id() == 100);
  REQUIRE(e.lived.has_value());
  CHECK(e.lived->count() == 1'000);
  CHECK_FALSE(set.remove(a).has_value());
  // A namespace that was there before the monitor started has no known lifetime.
  nsfun::detail::LiveSet::Entry old{b, 0, true};
  CHECK_FALSE(nsfun::detail::LiveSet::gone_event(old, 5'000).lived.has_value());
  // Without ids, inodes key.
  nsfun::Namespace d(nsfun::NsType::ipc, 4, 4026532999);
  CHECK(set.add(d, 1));
  CHECK_FALSE(set.add(nsfun::Namespace(nsfun::NsType::ipc, 4, 4026532999), 2));
  set.erase_if(
      [](const nsfun::detail::LiveSet::Entry& en) { return en.ns.type() == nsfun::NsType::ipc; });
  CHECK(set.find(d) == nullptr);
  CHECK(set.size() == 2);
}

namespace {

// A field of /proc/thread-self/sched ("se.slice"), or -1.
long long sched_field(const char* name) {
  std::string text = nsfun::test::read_text("/proc/thread-self/sched");
  std::vector<std::string> words = nsfun::test::split_words(text);
  for (std::size_t i = 0; i + 2 < words.size(); ++i) {
    if (words[i] == name && words[i + 1] == ":") {
      return std::stoll(words[i + 2]);
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("monitor: favor_monitor_thread raises the priority where permitted, the slice always") {
  // In children: it changes the calling thread, which must not be the test runner's.
  CHECK(nsfun::test::in_child([] {
          auto r = nsfun::favor_monitor_thread(42);
          NSFUN_EXPECT(!r);
          NSFUN_EXPECT(r.error().code == std::errc::invalid_argument);
          NSFUN_EXPECT(r.error().message().find("nice 42") != std::string::npos);
          return 0;
        }) == 0);
  if (::geteuid() == 0) {
    CHECK(nsfun::test::in_child([] {
            auto r = nsfun::favor_monitor_thread();
            NSFUN_EXPECT_OK(r);
            NSFUN_EXPECT(r.value().nice == -10);
            NSFUN_EXPECT(::getpriority(PRIO_PROCESS, 0) == -10);
            NSFUN_EXPECT(r.value().slice == std::chrono::microseconds(100));
            const long long slice = sched_field("se.slice");
            // Kernels before 6.12 (no custom slices) show their own default.
            NSFUN_EXPECT(slice == 100'000 || slice == -1 || slice > 100'000);
            return 0;
          }) == 0);
  }
  if (!nsfun::test::can_drop_privileges()) {
    nsfun::test::skip("cannot drop to nobody here");
    return;
  }
  CHECK(nsfun::test::in_child([] {
          NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
          const int own = ::getpriority(PRIO_PROCESS, 0);
          auto r = nsfun::favor_monitor_thread();
          NSFUN_EXPECT_OK(r);
          NSFUN_EXPECT(r.value().nice == own);  // not permitted to lower it: its own
          NSFUN_EXPECT(::getpriority(PRIO_PROCESS, 0) == own);
          NSFUN_EXPECT(r.value().slice == std::chrono::microseconds(100));
          return 0;
        }) == 0);
}

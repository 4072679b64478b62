// SPDX-License-Identifier: MIT
// nsfun tests – enter.hpp: setns, ScopedEnter and run_in against the real kernel.

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>

#include "test_support.hpp"

using nsfun::NsFd;
using nsfun::NsType;
using nsfun::NsTypeSet;

namespace {

bool current_is(const NsFd& ns) {
  auto r = ns.is_current();
  return r && r.value();
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  ::gethostname(buf, sizeof(buf));
  return buf;
}

// Everything of the calling thread a function run on it could change: its namespace links,
// root, working directory and umask, as one text.
std::string thread_state() {
  std::string out;
  char buf[PATH_MAX];
  for (const char* l : {"user", "mnt", "uts", "ipc", "pid", "net", "cgroup", "time",
                        "pid_for_children", "time_for_children"}) {
    std::string path = std::string("/proc/thread-self/ns/") + l;
    ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
    out.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0).append("\n");
  }
  for (const char* l : {"/proc/thread-self/root", "/proc/thread-self/cwd"}) {
    ssize_t n = ::readlink(l, buf, sizeof(buf));
    out.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0).append("\n");
  }
  mode_t mask = ::umask(0);
  ::umask(mask);
  return out + std::to_string(mask);
}

}  // namespace

TEST_SUITE("enter") {
  TEST_CASE("enter moves the thread into an acquired namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(!current_is(net.value()));
      auto entered = nsfun::enter(net.value());
      NSFUN_EXPECT_OK(entered);
      NSFUN_EXPECT(current_is(net.value()));
      return 0;
    });
  }

  TEST_CASE("enter a mount namespace from a multithreaded process") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto mnt = nsfun::acquire<NsType::mnt>();
      NSFUN_EXPECT_OK(mnt);
      int status = 1;
      // Every pthread shares fs_struct: the kernel refuses setns(CLONE_NEWNS) unless enter()
      // unshares CLONE_FS first.
      std::thread t([&] {
        auto r = nsfun::enter(mnt.value());
        status = r && current_is(mnt.value()) ? 0 : 2;
      });
      t.join();
      NSFUN_EXPECT(status == 0);
      auto mine = NsFd::current(NsType::mnt);
      NSFUN_EXPECT(!current_is(mnt.value()));  // the main thread did not move
      return 0;
    });
  }

  TEST_CASE("enter several namespaces of a process through its pidfd at once") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      // A child holding new net and uts namespaces with its own hostname, killed at the end.
      nsfun::test::PausedChild holder([] {
        constexpr std::string_view host = "nsfun-test-host";
        return nsfun::unshare({NsType::net, NsType::uts}) &&
               ::sethostname(host.data(), host.size()) == 0;
      });
      NSFUN_EXPECT(holder);
      auto pidfd = nsfun::pidfd_open(holder.pid());
      auto theirs = NsFd::open(holder.pid(), NsType::net);
      int rc = 0;
      if (!pidfd || !theirs) {
        rc = 3;
      } else if (!nsfun::enter(pidfd.value(), {NsType::net, NsType::uts, NsType::user})) {
        rc = 4;  // user is the caller's own: left out, not an error
      } else if (hostname() != "nsfun-test-host" || !current_is(theirs.value())) {
        rc = 5;
      }
      holder.stop();
      return rc;
    });
  }

  TEST_CASE("enter through the pidfd of an exited process is ESRCH") {
    NSFUN_CHECK_CHILD([] {
      pid_t child = ::fork();
      if (child == 0) {
        ::_exit(0);
      }
      auto pidfd = nsfun::pidfd_open(child);
      NSFUN_EXPECT_OK(pidfd);
      ::waitpid(child, nullptr, 0);
      auto r = nsfun::enter(pidfd.value(), {NsType::net});
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::no_such_process);
      return 0;
    });
  }

  TEST_CASE("entering the own user namespace is a named error") {
    NSFUN_CHECK_CHILD([] {
      auto user = NsFd::current(NsType::user);
      NSFUN_EXPECT_OK(user);
      auto r = nsfun::enter(user.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == nsfun::errc::own_user_namespace);
      return 0;
    });
  }

  TEST_CASE("entering a user namespace with threads running is a named error") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto user = nsfun::acquire<NsType::user>();
      NSFUN_EXPECT_OK(user);
      std::atomic<bool> stop{false};
      std::thread other([&] {
        while (!stop) {
          ::usleep(1000);
        }
      });
      auto r = nsfun::enter(user.value());
      stop = true;
      other.join();
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == nsfun::errc::threaded_user_namespace);
      // Single-threaded again: now it works.
      NSFUN_EXPECT_OK(nsfun::enter(user.value()));
      return 0;
    });
  }

  TEST_CASE("an unprivileged caller cannot enter with EPERM") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs to switch to uid 65534");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto r = nsfun::enter(net.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(r.error().what == "setns");
      NSFUN_EXPECT(!current_is(net.value()));
      return 0;
    });
  }
}

TEST_SUITE("scoped_enter") {
  TEST_CASE("ScopedEnter restores every namespace and the working directory") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts, NsType::mnt}),
                  "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto made = nsfun::acquire({NsType::net, NsType::uts, NsType::mnt});
      NSFUN_EXPECT_OK(made);
      auto before = nsfun::NsFdSet::current({NsType::net, NsType::uts, NsType::mnt});
      NSFUN_EXPECT_OK(before);
      NSFUN_EXPECT(::chdir("/proc/self") == 0);
      struct stat cwd_before {};
      ::stat(".", &cwd_before);
      std::size_t fds = nsfun::test::open_fd_count();
      {
        nsfun::ScopedEnter in_ns;
        NSFUN_EXPECT_OK(in_ns.enter(made.value()));
        for (NsType t : {NsType::net, NsType::uts, NsType::mnt}) {
          NSFUN_EXPECT(current_is(*made.value().get(t)));
        }
        // Entering again, a type already saved: the original stays what is restored.
        NSFUN_EXPECT_OK(in_ns.enter(*made.value().get(NsType::net)));
      }
      for (NsType t : {NsType::net, NsType::uts, NsType::mnt}) {
        NSFUN_EXPECT(current_is(*before.value().get(t)));
      }
      struct stat cwd_after {};
      ::stat(".", &cwd_after);
      NSFUN_EXPECT(cwd_after.st_ino == cwd_before.st_ino);
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("ScopedEnter restores when an exception leaves the scope") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      auto before = NsFd::current(NsType::net);
      bool threw = false;
      try {
        nsfun::ScopedEnter in_ns;
        auto entered = in_ns.enter(net.value());
        NSFUN_EXPECT_OK(entered);
        NSFUN_EXPECT(current_is(net.value()));
        throw std::runtime_error("boom");
      } catch (const std::runtime_error&) {
        threw = true;
      }
      NSFUN_EXPECT(threw);
      NSFUN_EXPECT(current_is(before.value()));
      return 0;
    });
  }

  TEST_CASE("ScopedEnter restore is explicit and idempotent") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto uts = nsfun::acquire<NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      nsfun::ScopedEnter in_ns;
      NSFUN_EXPECT_OK(in_ns.enter(uts.value()));
      NSFUN_EXPECT(current_is(uts.value()));
      NSFUN_EXPECT_OK(in_ns.restore());
      NSFUN_EXPECT(!current_is(uts.value()));
      NSFUN_EXPECT_OK(in_ns.restore());
      return 0;
    });
  }

  TEST_CASE("issue #12: ScopedEnter restore from another thread is refused and moves nothing") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto uts = nsfun::acquire<NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      nsfun::ScopedEnter in_ns;
      NSFUN_EXPECT_OK(in_ns.enter(uts.value()));
      bool refused = false;
      bool other_moved = true;
      std::thread other([&] {
        // A new thread starts in its creator's namespaces: the entered uts.
        std::string before = thread_state();
        auto r = in_ns.restore();
        refused = !r && r.error() == std::errc::operation_not_permitted &&
                  r.error().message().find("made on thread") != std::string::npos;
        other_moved = thread_state() != before;
      });
      other.join();
      NSFUN_EXPECT(refused);
      NSFUN_EXPECT(!other_moved);
      // Still entered here, and restorable by its own thread.
      NSFUN_EXPECT(current_is(uts.value()));
      NSFUN_EXPECT_OK(in_ns.restore());
      NSFUN_EXPECT(!current_is(uts.value()));
      return 0;
    });
  }

  TEST_CASE("ScopedEnter refuses a user namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto user = nsfun::acquire<NsType::user>();
      NSFUN_EXPECT_OK(user);
      nsfun::ScopedEnter in_ns;
      auto r = in_ns.enter(user.value());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == nsfun::errc::user_namespace_not_restorable);
      return 0;
    });
  }

  TEST_CASE("ScopedEnter on many threads at once keeps each thread in its own namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      constexpr int threads = 8;
      constexpr int rounds = 200;
      std::vector<NsFd> nets;
      for (int i = 0; i < threads; ++i) {
        auto net = nsfun::acquire<NsType::net>();
        NSFUN_EXPECT_OK(net);
        nets.push_back(std::move(net).value().ns());
      }
      auto home = NsFd::current(NsType::net);
      std::atomic<int> failures{0};
      std::vector<std::thread> pool;
      pool.reserve(static_cast<std::size_t>(threads));
      for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&, i] {
          for (int r = 0; r < rounds; ++r) {
            nsfun::ScopedEnter in_ns;
            if (!in_ns.enter(nets[static_cast<std::size_t>(i)]) ||
                !current_is(nets[static_cast<std::size_t>(i)])) {
              ++failures;
            }
          }
          if (!current_is(home.value())) {
            ++failures;
          }
        });
      }
      for (auto& t : pool) {
        t.join();
      }
      NSFUN_EXPECT(failures == 0);
      return 0;
    });
  }
}

TEST_SUITE("run_in") {
  TEST_CASE("run_in runs fn inside and returns its value") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      auto before = NsFd::current(NsType::net);
      std::size_t fds = nsfun::test::open_fd_count();
      auto inside = nsfun::run_in(net.value(), [&] { return current_is(net.value()); });
      NSFUN_EXPECT_OK(inside);
      NSFUN_EXPECT(inside.value());
      NSFUN_EXPECT(current_is(before.value()));
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      // void functions give result<void>.
      bool ran = false;
      auto v = nsfun::run_in(net.value(), [&] { ran = true; });
      NSFUN_EXPECT_OK(v);
      NSFUN_EXPECT(ran);
      return 0;
    });
  }

  TEST_CASE("issue #12: run_in runs fn on a thread of its own for every type, acquire may not") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts, NsType::ipc}),
                  "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      const NsTypeSet three{NsType::net, NsType::uts, NsType::ipc};
      auto before = nsfun::NsFdSet::current(three);
      NSFUN_EXPECT_OK(before);
      std::size_t fds = nsfun::test::open_fd_count();
      auto made = nsfun::acquire(three);
      NSFUN_EXPECT_OK(made);
      for (NsType t : three) {
        NSFUN_EXPECT(current_is(*before.value().get(t)));
      }
      const pid_t caller = ::gettid();
      auto here = [&](NsType t) {
        return current_is(*made.value().get(t));
      };
      // The user's fn: never on the caller's thread, not even for net and uts.
      auto inside = nsfun::run_in(*made.value().get(NsType::net), [&] {
        return ::gettid() != caller && here(NsType::net) && !here(NsType::uts);
      });
      NSFUN_EXPECT_OK(inside);
      NSFUN_EXPECT(inside.value());
      auto all = nsfun::run_in(made.value(), [&] {
        return ::gettid() != caller && here(NsType::net) && here(NsType::uts) && here(NsType::ipc);
      });
      NSFUN_EXPECT_OK(all);
      NSFUN_EXPECT(all.value());
      // nsfun's own functions (opening a netlink socket, a /proc/sys file) may run on the
      // calling thread for net and uts, which comes back afterwards.
      auto known = nsfun::detail::run_in_known(*made.value().get(NsType::net), [&] {
        return ::gettid() == caller && here(NsType::net);
      });
      NSFUN_EXPECT_OK(known);
      NSFUN_EXPECT(known.value());
      for (NsType t : three) {
        NSFUN_EXPECT(current_is(*before.value().get(t)));
      }
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds + 3);  // only the three acquired
      return 0;
    });
  }

  TEST_CASE("issue #12: whatever fn does to its thread, the caller's thread stays as it was") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts, NsType::mnt}),
                  "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      auto uts = nsfun::acquire<NsType::uts>();
      auto other_net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT_OK(uts);
      NSFUN_EXPECT_OK(other_net);
      const std::string before = thread_state();
      NSFUN_EXPECT(!before.empty());
      // Each hostile fn changes the thread it runs on in another way, then returns or throws.
      std::vector<std::function<void()>> hostile = {
          [] { (void)!::unshare(CLONE_NEWNS); },
          [] { (void)!::unshare(CLONE_FS | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC); },
          [] { (void)!::unshare(CLONE_NEWNET); },
          [&] { (void)!::setns(other_net.value().get(), CLONE_NEWNET); },
          [&] { (void)!::setns(uts.value().get(), CLONE_NEWUTS); },
          [] {
            (void)!::unshare(CLONE_FS);
            (void)!::chdir("/tmp");
            (void)!::chroot("/tmp");
            ::umask(0077);
          },
          [] {
            (void)!::unshare(CLONE_NEWNS);
            throw std::runtime_error("hostile");
          },
      };
      for (std::size_t i = 0; i < hostile.size(); ++i) {
        try {
          (void)nsfun::run_in(net.value(), hostile[i]);
          (void)nsfun::run_in(uts.value(), hostile[i]);
        } catch (const std::runtime_error&) {
        }
        if (thread_state() != before) {
          std::fprintf(stderr, "hostile fn %zu moved the caller:\n%s\nvs\n%s\n", i,
                       thread_state().c_str(), before.c_str());
          return 1;
        }
      }
      return 0;
    });
  }

  TEST_CASE("run_in and acquire use a thread when the caller could not come back") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::net}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto host_net = NsFd::current(NsType::net);
      NSFUN_EXPECT_OK(host_net);
      // In a new user namespace this process may make network namespaces, but not re-enter the
      // one it is in (owned by the initial user namespace).
      NSFUN_EXPECT(::unshare(CLONE_NEWUSER) == 0);
      NSFUN_EXPECT(::setns(host_net.value().get(), CLONE_NEWNET) < 0);
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(current_is(host_net.value()));
      const pid_t caller = ::gettid();
      auto tid = nsfun::run_in(net.value(),
                               [&] { return current_is(net.value()) ? ::gettid() : pid_t{0}; });
      NSFUN_EXPECT_OK(tid);
      NSFUN_EXPECT(tid.value() != 0 && tid.value() != caller);
      NSFUN_EXPECT(current_is(host_net.value()));
      return 0;
    });
  }

  TEST_CASE("run_in passes a failed result through and leaves the caller unchanged") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::mnt}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto made = nsfun::acquire({NsType::net, NsType::mnt});
      NSFUN_EXPECT_OK(made);
      auto before = nsfun::NsFdSet::current({NsType::net, NsType::mnt});
      auto r = nsfun::run_in(made.value(), []() -> nsfun::result<int> {
        return nsfun::errno_error(ENOENT, "inner step");
      });
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error().what == "inner step");
      NSFUN_EXPECT(current_is(*before.value().get(NsType::net)));
      NSFUN_EXPECT(current_is(*before.value().get(NsType::mnt)));
      return 0;
    });
  }

  TEST_CASE("run_in rethrows what fn throws and leaves the caller unchanged") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto uts = nsfun::acquire<NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      bool caught = false;
      try {
        (void)nsfun::run_in(uts.value(), []() -> int { throw std::runtime_error("inside"); });
      } catch (const std::runtime_error& e) {
        caught = std::strcmp(e.what(), "inside") == 0;
      }
      NSFUN_EXPECT(caught);
      NSFUN_EXPECT(!current_is(uts.value()));
      return 0;
    });
  }

  TEST_CASE("run_in sees the namespace hostname and mounts") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto uts = nsfun::acquire<NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      std::string mine = hostname();
      auto set = nsfun::run_in(uts.value(), [] {
        const char name[] = "nsfun-test-runin";
        return ::sethostname(name, sizeof(name) - 1) == 0 ? hostname() : std::string();
      });
      NSFUN_EXPECT_OK(set);
      NSFUN_EXPECT(set.value() == "nsfun-test-runin");
      NSFUN_EXPECT(hostname() == mine);
      auto again = nsfun::run_in(uts.value(), [] { return hostname(); });
      NSFUN_EXPECT(again.value() == "nsfun-test-runin");
      return 0;
    });
  }

  TEST_CASE("run_in refuses a user namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto user = nsfun::acquire<NsType::user>();
      NSFUN_EXPECT_OK(user);
      bool ran = false;
      auto r = nsfun::run_in(user.value(), [&] { ran = true; });
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == nsfun::errc::threaded_user_namespace);
      NSFUN_EXPECT(!ran);
      return 0;
    });
  }

  TEST_CASE("run_in reports an enter failure and never runs fn") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs to switch to uid 65534");
    NSFUN_CHECK_CHILD([] {
      auto net = nsfun::acquire<NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      bool ran = false;
      auto r = nsfun::run_in(net.value(), [&] { ran = true; });
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(!ran);
      return 0;
    });
  }
}

// SPDX-License-Identifier: MIT
// NsMonitor's connector and poll backends against the real kernel: namespaces this test makes
// (other processes on the machine make some too, so events are matched by inode and id), held
// namespaces, recycled inodes, pull and push delivery, counters, JOIN/LEAVE, overruns, and the
// automatic choice of an unprivileged caller.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

// monitor.hpp first: header-only, it brings the implementation, which needs monitor_source.hpp.
#include <nsfun/monitor.hpp>
#include <nsfun/spawn.hpp>
// clang-format off
#include <nsfun/detail/monitor_source.hpp>
#include <nsfun/detail/task_iter.hpp>
// clang-format on

#include "test_support.hpp"

using namespace std::chrono_literals;
using nsfun::MonitorBackend;
using nsfun::Namespace;
using nsfun::NsEvent;
using nsfun::NsEventKind;
using nsfun::NsType;

namespace {

// The link that shows a namespace of `t` its maker is not in itself (pid, time), else t's own.
nsfun::NsLink link_for(NsType t) {
  if (t == NsType::pid) {
    return nsfun::NsLink::pid_for_children;
  }
  if (t == NsType::time) {
    return nsfun::NsLink::time_for_children;
  }
  return nsfun::link_of(t);
}

// What /proc/PID/ns/LINK is, with its id (the test's own reading: open, fstat, NS_GET_ID).
Namespace ns_at(pid_t pid, nsfun::NsLink link) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + std::string(nsfun::name(link));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return {};
  }

  struct stat st {};

  Namespace ns;
  if (::fstat(fd, &st) == 0) {
    ns = Namespace(nsfun::type_of(link), st.st_dev, st.st_ino, nsfun::detail::ns_id_of(fd));
  }
  ::close(fd);
  return ns;
}

bool same(const Namespace& a, const Namespace& b) {
  return a.type() == b.type() && a.ino() == b.ino() && a.id() == b.id();
}

// A child of ours in a namespace of its own: it unshares `type` and execs /bin/sleep.
struct Made {
  pid_t pid = -1;
  Namespace ns;

  Made() = default;
  Made(const Made&) = delete;
  Made& operator=(const Made&) = delete;

  Made(Made&& o) noexcept : pid(o.pid), ns(o.ns) { o.pid = -1; }

  ~Made() { kill(); }

  void kill() noexcept {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
};

Made make_ns(NsType type, const char* seconds = "30") {
  Made m;
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c = ::unshare(nsfun::clone_flag(type)) == 0 ? 'y' : 'n';
    if (c == 'y' && type == NsType::pid) {
      // A pid namespace shows (pid_for_children opens) once its first process exists: a
      // grandchild, pid 1 there, killed when the child dies.
      // It says so once its death signal is set, so that it never outlives a quick kill.
      int q[2];
      if (::pipe2(q, O_CLOEXEC) < 0) {
        ::_exit(127);
      }
      pid_t init = ::fork();
      if (init == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)!::write(q[1], "i", 1);
        ::execl("/bin/sleep", "sleep", seconds, static_cast<char*>(nullptr));
        ::_exit(127);
      }
      ::close(q[1]);
      char i = 0;
      c = init > 0 && ::read(q[0], &i, 1) == 1 ? 'y' : 'n';
      ::close(q[0]);
    }
    (void)!::write(p[1], &c, 1);
    if (c == 'y') {
      ::execl("/bin/sleep", "sleep", seconds, static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
  ::close(p[1]);
  char c = 0;
  (void)!::read(p[0], &c, 1);
  // Then EOF, once the child has exec'd sleep (the pipe is O_CLOEXEC): a poll that sees the
  // namespace sees comm "sleep", however slow the exec (ThreadSanitizer, a loaded machine).
  for (char rest = 0; c == 'y' && ::read(p[0], &rest, 1) > 0;) {
  }
  ::close(p[0]);
  m.pid = pid;
  REQUIRE(c == 'y');
  m.ns = ns_at(pid, link_for(type));
  REQUIRE_FALSE(m.ns.empty());
  return m;
}

// A monitor with what it delivered so far.
struct Watch {
  nsfun::NsMonitor m;
  std::vector<NsEvent> log;

  // The first event (delivered before or within `timeout`) that `pred` accepts.
  std::optional<NsEvent> wait(const std::function<bool(const NsEvent&)>& pred,
                              std::chrono::milliseconds timeout) {
    for (const NsEvent& e : log) {
      if (pred(e)) {
        return e;
      }
    }
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() < 0) {
        return std::nullopt;
      }
      auto e = m.next(left);
      REQUIRE(e.has_value());
      if (!e.value()) {
        continue;
      }
      log.push_back(*e.value());
      if (pred(log.back())) {
        return log.back();
      }
    }
  }

  std::optional<NsEvent> wait(NsEventKind k,
                              const Namespace& ns,
                              std::chrono::milliseconds timeout = 5s) {
    return wait([&](const NsEvent& e) { return e.kind == k && same(e.ns, ns); }, timeout);
  }

  // Reads what comes for `d` (all of it), without looking for anything.
  void drain(std::chrono::milliseconds d) {
    (void)wait([](const NsEvent&) { return false; }, d);
  }
};

nsfun::MonitorOptions options_for(MonitorBackend b) {
  nsfun::MonitorOptions o;
  o.backend = b;
  o.interval = b == MonitorBackend::poll ? 50ms : 1000ms;
  return o;
}

Watch watch(const nsfun::MonitorOptions& o) {
  auto m = nsfun::NsMonitor::open(o);
  REQUIRE_MESSAGE(m.has_value(), m.error().message());
  return Watch{std::move(m).value(), {}};
}

// Skips unless this kernel and caller can make every type and ask namespaces' liveness by id.
bool need_ids_and_root() {
  // Each type alone (all of them at once succeed unprivileged too: the new user namespace
  // gives the rest).
  for (NsType t : nsfun::all_ns_types) {
    if (!nsfun::test::can_unshare(nsfun::NsTypeSet{t})) {
      nsfun::test::skip("needs CAP_SYS_ADMIN (unshare of each namespace type)");
      return false;
    }
  }
  Namespace self = ns_at(::getpid(), nsfun::NsLink::net);
  if (self.id() == 0 || nsfun::detail::ns_liveness(self) != nsfun::detail::Liveness::alive) {
    nsfun::test::skip("the kernel has no namespace ids or nsfs file handles (Linux 6.18)");
    return false;
  }
  return true;
}

void new_and_gone_every_type(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  Watch w = watch(options_for(b));
  std::vector<Namespace> made;
  for (NsType t : nsfun::all_ns_types) {
    CAPTURE(nsfun::name(t));
    Made child = make_ns(t);
    made.push_back(child.ns);
    auto born = w.wait(NsEventKind::appeared, child.ns);
    REQUIRE(born.has_value());
    CHECK(born->ns.id() == child.ns.id());
    CHECK(born->ns.ino() == child.ns.ino());
    CHECK(born->ns.type() == t);
    if (b == MonitorBackend::poll) {
      CHECK(born->pid == child.pid);  // the process that shows it
      CHECK(born->comm == "sleep");
    } else {
      // It made it (seen at its exec), or its parent did (seen at the fork, read when the child
      // had unshared already: for a clone with CLONE_NEW*, the parent makes it).
      CHECK((born->pid == child.pid || born->pid == ::getpid()));
      CHECK_FALSE(born->comm.empty());
    }
    CHECK(born->monotonic_ns != 0);
    if (b == MonitorBackend::connector) {
      // The owning user namespace: ours (for a user namespace, its parent: ours too).
      CHECK(born->owner == nsfun::test::link_ino(::getpid(), "user"));
    }
    child.kill();
    auto gone = w.wait(NsEventKind::gone, child.ns, nsfun::test::gone_wait(t));
    // When it fails: did the kernel still hold the namespace, or did the monitor miss its end?
    REQUIRE_MESSAGE(gone.has_value(),
                    "the kernel says it is "
                        << (nsfun::detail::ns_liveness(child.ns) == nsfun::detail::Liveness::alive
                                ? "alive"
                                : "gone or unknown"));
    CHECK(gone->ns.id() == child.ns.id());
    REQUIRE(gone->lived.has_value());
    CHECK(gone->lived->count() > 0);
    CHECK(gone->monotonic_ns >= born->monotonic_ns);
    CHECK(gone->pid == 0);
  }
  // Each of ours reported once (other processes' namespaces come and go meanwhile too).
  for (const Namespace& ns : made) {
    for (NsEventKind k : {NsEventKind::appeared, NsEventKind::gone}) {
      CAPTURE(ns.to_string());
      CHECK(std::count_if(w.log.begin(), w.log.end(),
                          [&](const NsEvent& e) { return e.kind == k && same(e.ns, ns); }) == 1);
    }
  }
  CHECK(w.m.stats().lost == 0);
}

void held_until_released(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  Watch w = watch(options_for(b));
  Made made = make_ns(NsType::net);
  REQUIRE(w.wait(NsEventKind::appeared, made.ns).has_value());
  std::string path = "/proc/" + std::to_string(made.pid) + "/ns/net";
  int hold = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(hold >= 0);
  made.kill();
  // No process shows it, but the fd keeps it alive: no GONE (poll: several rescans; connector:
  // the rechecks after the exit).
  CHECK_FALSE(w.wait(NsEventKind::gone, made.ns, 700ms).has_value());
  ::close(hold);
  auto gone = w.wait(NsEventKind::gone, made.ns, 10s);
  CHECK(gone.has_value());
}

void held_by_bind_mount(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs a private mount namespace");
  Watch w = watch(options_for(b));
  Made made = make_ns(NsType::uts);
  REQUIRE(w.wait(NsEventKind::appeared, made.ns).has_value());
  std::string src = "/proc/" + std::to_string(made.pid) + "/ns/uts";
  // The holder's private /run (never the host's): a file there with the namespace bound on it.
  nsfun::test::PausedChild holder([&] {
    if (nsfun::test::private_run() != 0) {
      return false;
    }
    int fd = ::open("/run/nsfun-test-uts", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
      return false;
    }
    ::close(fd);
    return ::mount(src.c_str(), "/run/nsfun-test-uts", nullptr, MS_BIND, nullptr) == 0;
  });
  REQUIRE(holder);
  made.kill();
  CHECK_FALSE(w.wait(NsEventKind::gone, made.ns, 700ms).has_value());
  // The holder's mount namespace goes with it, and the bind mount with that.
  holder.stop();
  CHECK(w.wait(NsEventKind::gone, made.ns, 10s).has_value());
}

void recycled_inode(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  Watch w = watch(options_for(b));
  std::vector<Namespace> made_ns;
  bool repeated = false;
  for (int i = 0; i < 40 && !repeated; ++i) {
    Made made = make_ns(NsType::uts);
    REQUIRE(w.wait(NsEventKind::appeared, made.ns).has_value());
    made.kill();
    REQUIRE(w.wait(NsEventKind::gone, made.ns, 10s).has_value());
    for (const Namespace& old : made_ns) {
      if (old.ino() == made.ns.ino()) {
        CHECK(old.id() != made.ns.id());
        repeated = true;
      }
    }
    made_ns.push_back(made.ns);
  }
  NSFUN_REQUIRE(repeated, "no inode came back in 40 namespaces");
  // Every one of them, the recycled inode's included, had its own NEW and GONE.
  for (const Namespace& ns : made_ns) {
    auto is = [&](NsEventKind k) {
      return std::count_if(w.log.begin(), w.log.end(),
                           [&](const NsEvent& e) { return e.kind == k && same(e.ns, ns); });
    };
    CHECK(is(NsEventKind::appeared) == 1);
    CHECK(is(NsEventKind::gone) == 1);
  }
}

// An eventfd to stop run() with, which a watchdog thread also fires after 10 s, so that a
// missing event fails the test rather than hangs it.
struct StopFd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::atomic<bool> done{false};
  std::thread watchdog{[this] {
    for (int i = 0; i < 200 && !done; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    fire();
  }};

  StopFd() { REQUIRE(fd >= 0); }

  StopFd(const StopFd&) = delete;
  StopFd& operator=(const StopFd&) = delete;

  ~StopFd() { finish(); }

  void fire() const {
    std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof(one));
  }

  // Stops the watchdog and closes the fd.
  void finish() {
    done = true;
    if (watchdog.joinable()) {
      watchdog.join();
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

void pull_and_push(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  auto opened = nsfun::NsMonitor::open(options_for(b));
  REQUIRE(opened.has_value());
  nsfun::NsMonitor m = std::move(opened).value();

  // Pull: the fd polls readable, and next(0) then has the event (perhaps after others).
  {
    Made made = make_ns(NsType::ipc);
    bool seen = false;
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!seen && std::chrono::steady_clock::now() < until) {
      pollfd pfd{m.fd(), POLLIN, 0};
      int n = ::poll(&pfd, 1, 5000);
      REQUIRE(n >= 0);
      for (;;) {
        auto e = m.next(0ms);
        REQUIRE(e.has_value());
        if (!e.value()) {
          break;
        }
        seen = seen || (e.value()->kind == NsEventKind::appeared && same(e.value()->ns, made.ns));
      }
    }
    CHECK(seen);
  }

  // Push, stopped by fn (a watchdog's stop_fd ends it should the event never come).
  {
    StopFd stop;
    Made made = make_ns(NsType::uts);
    bool seen = false;
    auto r = m.run(
        [&](const NsEvent& e) {
          seen = e.kind == NsEventKind::appeared && same(e.ns, made.ns);
          return !seen;
        },
        stop.fd);
    stop.finish();
    CHECK(r.has_value());
    CHECK(seen);
  }

  // Push, stopped by an eventfd that fn writes once it has what it waits for (a watchdog
  // writes it too, so that a missing event fails rather than hangs).
  {
    StopFd stop;
    Made made = make_ns(NsType::cgroup);
    bool seen = false;
    auto r = m.run(
        [&](const NsEvent& e) {
          if (e.kind == NsEventKind::appeared && same(e.ns, made.ns)) {
            seen = true;
            stop.fire();
          }
          return true;
        },
        stop.fd);
    stop.finish();
    CHECK(r.has_value());
    CHECK(seen);
  }
}

void stats_why_and_fds(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  std::size_t fds = nsfun::test::open_fd_count();
  {
    Watch w = watch(options_for(b));
    CHECK(w.m.backend() == b);
    CHECK(w.m.why() == "using (as asked) " + std::string(nsfun::name(b)));
    CHECK(::fcntl(w.m.fd(), F_GETFD) == FD_CLOEXEC);
    Made made = make_ns(NsType::uts);
    REQUIRE(w.wait(NsEventKind::appeared, made.ns).has_value());
    made.kill();
    REQUIRE(w.wait(NsEventKind::gone, made.ns, 10s).has_value());
    nsfun::MonitorStats s = w.m.stats();
    CHECK(s.events == w.log.size());
    CHECK(s.lost == 0);
    CHECK(s.rescans >= 1);   // the first one, at the start
    CHECK(s.rechecks >= 1);  // the GONE was asked of the kernel
  }
  CHECK(nsfun::test::open_fd_count() == fds);
}

void join_and_leave(MonitorBackend b) {
  if (!need_ids_and_root()) {
    return;
  }
  nsfun::MonitorOptions o = options_for(b);
  o.types = nsfun::NsTypeSet{NsType::uts};
  o.processes = true;
  Watch w = watch(o);
  Made made = make_ns(NsType::uts);
  pid_t pid = made.pid;
  auto joined = w.wait(
      [&](const NsEvent& e) {
        return e.kind == NsEventKind::join && e.pid == pid && e.ns.type() == NsType::uts &&
               e.ns.ino() == made.ns.ino();
      },
      5s);
  REQUIRE(joined.has_value());
  CHECK_FALSE(joined->comm.empty());  // "sleep", or its parent's before the exec
  made.kill();
  auto left = w.wait(
      [&](const NsEvent& e) {
        return e.kind == NsEventKind::leave && e.pid == pid && e.ns.ino() == made.ns.ino();
      },
      5s);
  CHECK(left.has_value());
  // Only the types asked for.
  for (const NsEvent& e : w.log) {
    CHECK(e.ns.type() == NsType::uts);
  }
}

}  // namespace

TEST_CASE("monitor poll: NEW and GONE for each of the eight types, matching inode and id") {
  new_and_gone_every_type(MonitorBackend::poll);
}

TEST_CASE("monitor connector: NEW and GONE for each of the eight types, matching inode and id") {
  new_and_gone_every_type(MonitorBackend::connector);
}

TEST_CASE("monitor poll: a namespace an fd holds is not GONE until the fd is closed") {
  held_until_released(MonitorBackend::poll);
}

TEST_CASE("monitor connector: a namespace an fd holds is not GONE until the fd is closed") {
  held_until_released(MonitorBackend::connector);
}

TEST_CASE("monitor poll: a namespace a bind mount holds is not GONE until it is unmounted") {
  held_by_bind_mount(MonitorBackend::poll);
}

TEST_CASE("monitor connector: a namespace a bind mount holds is not GONE until it is unmounted") {
  held_by_bind_mount(MonitorBackend::connector);
}

TEST_CASE("monitor poll: a recycled inode is a new namespace, both reported") {
  recycled_inode(MonitorBackend::poll);
}

TEST_CASE("monitor connector: a recycled inode is a new namespace, both reported") {
  recycled_inode(MonitorBackend::connector);
}

TEST_CASE("monitor poll: pull (fd, next) and push (run, stop_fd, fn false)") {
  pull_and_push(MonitorBackend::poll);
}

TEST_CASE("monitor connector: pull (fd, next) and push (run, stop_fd, fn false)") {
  pull_and_push(MonitorBackend::connector);
}

TEST_CASE("monitor poll: stats, why, and no fd left behind") {
  stats_why_and_fds(MonitorBackend::poll);
}

TEST_CASE("monitor connector: stats, why, and no fd left behind") {
  stats_why_and_fds(MonitorBackend::connector);
}

TEST_CASE("monitor poll: JOIN and LEAVE with processes, of the types asked for only") {
  join_and_leave(MonitorBackend::poll);
}

TEST_CASE("monitor connector: JOIN and LEAVE with processes, of the types asked for only") {
  join_and_leave(MonitorBackend::connector);
}

TEST_CASE("monitor connector: every namespace of a process living 50 ms is NEW and GONE") {
  if (!need_ids_and_root()) {
    return;
  }
  // The rescan (1 s) is not what finds them: the exec event is, read as it comes (a thread
  // waits on the monitor meanwhile, as a caller's event loop would).
  Watch w = watch(options_for(MonitorBackend::connector));
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<NsEvent> got;
  bool failed = false;
  std::thread reader([&] {
    while (!stop) {
      auto e = w.m.next(50ms);
      if (!e) {
        failed = true;
        return;
      }
      if (e.value()) {
        std::lock_guard<std::mutex> lock(mu);
        got.push_back(*e.value());
      }
    }
  });

  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::thread& thread;

    StopAndJoin(std::atomic<bool>& s, std::thread& t) : stop(s), thread(t) {}

    StopAndJoin(const StopAndJoin&) = delete;
    StopAndJoin& operator=(const StopAndJoin&) = delete;

    ~StopAndJoin() {
      stop = true;
      if (thread.joinable()) {
        thread.join();
      }
    }
  } join_on_failure(stop, reader);

  std::vector<Namespace> made_ns;
  for (int round = 0; round < 3; ++round) {
    for (NsType t : nsfun::all_ns_types) {
      Made made = make_ns(t, "0.05");
      made_ns.push_back(made.ns);
      int status = 0;
      REQUIRE(::waitpid(made.pid, &status, 0) == made.pid);  // it ran its 50 ms
      CHECK(WIFEXITED(status));
      made.pid = -1;
    }
  }
  auto count = [&](NsEventKind k, const Namespace& ns) {
    std::lock_guard<std::mutex> lock(mu);
    return std::count_if(got.begin(), got.end(),
                         [&](const NsEvent& e) { return e.kind == k && same(e.ns, ns); });
  };
  // The last GONEs trail the exits (work queues, RCU, the reaping of a pid namespace's init;
  // the user namespaces' the longest: gone_wait()).
  const auto until = std::chrono::steady_clock::now() + nsfun::test::gone_wait(NsType::user);
  while (std::chrono::steady_clock::now() < until &&
         !std::all_of(made_ns.begin(), made_ns.end(),
                      [&](const Namespace& ns) { return count(NsEventKind::gone, ns) != 0; })) {
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  reader.join();
  REQUIRE_FALSE(failed);  // (read after the join)
  for (const Namespace& ns : made_ns) {
    CAPTURE(ns.to_string());
    REQUIRE(ns.id() != 0);
    CHECK(count(NsEventKind::appeared, ns) == 1);
    CHECK(count(NsEventKind::gone, ns) == 1);
  }
  CHECK(w.m.stats().lost == 0);
  CHECK(w.m.stats().rescans <= 1 + 20);  // about one a second, not one a namespace
}

TEST_CASE("monitor connector: unshare without exec is found by the rescan") {
  if (!need_ids_and_root()) {
    return;
  }
  nsfun::MonitorOptions o = options_for(MonitorBackend::connector);
  o.interval = 100ms;
  Watch w = watch(o);
  // A child that unshares when told, after the monitor has read its fork.
  int go[2];
  int ready[2];
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c = 0;
    (void)!::read(go[0], &c, 1);
    c = ::unshare(CLONE_NEWUTS) == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  Made child;
  child.pid = pid;
  ::close(go[0]);
  ::close(ready[1]);
  w.drain(300ms);
  std::uint64_t rescans = w.m.stats().rescans;
  char c = 'g';
  REQUIRE(::write(go[1], &c, 1) == 1);
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(go[1]);
  ::close(ready[0]);
  REQUIRE(c == 'y');
  Namespace ns = ns_at(pid, nsfun::NsLink::uts);
  auto born = w.wait(NsEventKind::appeared, ns, 3s);
  REQUIRE(born.has_value());
  CHECK(born->pid == pid);  // the rescan saw it there
  CHECK(born->owner == nsfun::test::link_ino(::getpid(), "user"));
  CHECK(w.m.stats().rescans > rescans);
  child.kill();
  CHECK(w.wait(NsEventKind::gone, ns, 10s).has_value());
}

TEST_CASE("monitor connector: an overrun of the socket is a LOST event, counted, and rescanned") {
  if (!need_ids_and_root()) {
    return;
  }
  NSFUN_REQUIRE(!nsfun::test::under_tsan(),
                "ThreadSanitizer makes each vfork a full fork of its large process: the 10000 "
                "take minutes");
  Watch w = watch(options_for(MonitorBackend::connector));
  std::uint64_t rescans = w.m.stats().rescans;
  // Many more fork and exit events than the socket holds, while nobody reads it.
  for (int i = 0; i < 10000; ++i) {
    pid_t pid = ::vfork();  // cheap: no copy of the address space
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
  }
  auto lost = w.wait([](const NsEvent& e) { return e.kind == NsEventKind::lost; }, 5s);
  REQUIRE(lost.has_value());
  CHECK(lost->lost >= 1);
  CHECK(lost->ns.empty());
  w.drain(200ms);
  nsfun::MonitorStats s = w.m.stats();
  CHECK(s.lost >= 1);
  CHECK(s.rescans > rescans);
  // It still works afterwards.
  Made made = make_ns(NsType::uts);
  CHECK(w.wait(NsEventKind::appeared, made.ns).has_value());
}

TEST_CASE("monitor: open refuses bad options for the connector too") {
  nsfun::MonitorOptions o;
  o.backend = MonitorBackend::connector;
  SUBCASE("no type") {
    o.types = nsfun::NsTypeSet{};
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().message().find("types") != std::string::npos);
  }
  SUBCASE("interval 0") {
    o.interval = 0ms;
    auto m = nsfun::NsMonitor::open(o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().code == std::errc::invalid_argument);
  }
  SUBCASE("negative interval") {
    o.interval = -1ms;
    CHECK_FALSE(nsfun::NsMonitor::open(o).has_value());
  }
}

namespace {

// In a child dropped to nobody with no capabilities (and, with `own_userns`, in a user namespace
// of its own): the backend the automatic choice took and why(), "backend\nwhy".
std::string unprivileged_choice(bool own_userns) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  int status = nsfun::test::in_child([&] {
    ::close(p[0]);
    ::prctl(PR_SET_KEEPCAPS, 0);
    if (nsfun::test::drop_privileges() != 0) {
      return 2;
    }
    if (nsfun::test::read_text("/proc/self/status").find("CapEff:\t0000000000000000") ==
        std::string::npos) {
      return 3;
    }
    if (own_userns && ::unshare(CLONE_NEWUSER) != 0) {
      return 4;
    }
    auto m = nsfun::NsMonitor::open();
    std::string out = m ? std::string(nsfun::name(m.value().backend())) + "\n" + m.value().why()
                        : "error\n" + m.error().message();
    (void)!::write(p[1], out.data(), out.size());
    return 0;
  });
  ::close(p[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof(buf))) > 0;) {
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  REQUIRE(status == 0);
  return got;
}

}  // namespace

TEST_CASE("monitor: unprivileged, the automatic choice skips BPF and says why") {
  NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs root to drop to nobody");
  std::string got = unprivileged_choice(false);
  INFO(got);
  CHECK(got.find("bpf unavailable (") != std::string::npos);
  // Current kernels (6.18 here) let anyone in the initial user and pid namespaces listen to the
  // proc connector; older ones wanted CAP_NET_ADMIN, and there the choice is poll.
  if (got.rfind("connector\n", 0) == 0) {
    CHECK(got.find("using connector") != std::string::npos);
  } else {
    CHECK(got.rfind("poll\n", 0) == 0);
    CHECK(got.find("connector unavailable (") != std::string::npos);
    CHECK(got.find("using poll") != std::string::npos);
  }
}

TEST_CASE("monitor: in a user namespace of its own, the automatic choice is poll, and why") {
  NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                "needs root to drop to nobody, and unprivileged user namespaces");
  std::string got = unprivileged_choice(true);
  INFO(got);
  CHECK(got.rfind("poll\n", 0) == 0);
  CHECK(got.find("bpf unavailable (") != std::string::npos);
  // The connector serves the initial user namespace only, and does not answer others.
  CHECK(got.find("connector unavailable (PROC_CN_MCAST_LISTEN") != std::string::npos);
  CHECK(got.find("using poll") != std::string::npos);
}

TEST_CASE("monitor connector: unprivileged, it reports the caller's own new namespaces") {
  NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                "needs root to drop to nobody, and unprivileged user namespaces");
  NSFUN_CHECK_CHILD([] {
    ::prctl(PR_SET_KEEPCAPS, 0);
    NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
    nsfun::MonitorOptions o;
    o.backend = MonitorBackend::connector;
    auto opened = nsfun::NsMonitor::open(o);
    if (!opened && opened.error().message().find("PROC_CN_MCAST_LISTEN: Operation not permitted") !=
                       std::string::npos) {
      return 0;  // an older kernel: the connector wants CAP_NET_ADMIN (the test above covers it)
    }
    NSFUN_EXPECT_OK(opened);
    nsfun::NsMonitor m = std::move(opened).value();
    int p[2];
    NSFUN_EXPECT(::pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    NSFUN_EXPECT(pid >= 0);
    if (pid == 0) {
      char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
      (void)!::write(p[1], &c, 1);
      ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[1]);
    char c = 0;
    (void)!::read(p[0], &c, 1);
    ::close(p[0]);
    Namespace made = ns_at(pid, nsfun::NsLink::user);
    bool born = false;
    bool gone = false;
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!gone && std::chrono::steady_clock::now() < until) {
      auto e = m.next(100ms);
      NSFUN_EXPECT_OK(e);
      if (!e.value()) {
        continue;
      }
      if (e.value()->kind == NsEventKind::appeared && same(e.value()->ns, made)) {
        born = true;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      gone = born && e.value()->kind == NsEventKind::gone && same(e.value()->ns, made);
    }
    if (!born) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    NSFUN_EXPECT(c == 'y');
    NSFUN_EXPECT(made.id() != 0);
    NSFUN_EXPECT(born);
    NSFUN_EXPECT(gone);
    return 0;
  });
}

namespace {

// The BPF links this process holds fds of, by id (from /proc/self/fdinfo).
std::set<std::string> bpf_links_of_self() {
  std::set<std::string> ids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::vector<std::string> words =
        nsfun::test::split_words(nsfun::test::read_text(entry.path().string()));
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "link_id:") {
        ids.insert(words[i + 1]);
      }
    }
  }
  return ids;
}

bool need_task_iter() {
  if (!nsfun::detail::task_iter_built()) {
    nsfun::test::skip("built without the BPF task iterator");
    return false;
  }
  if (!nsfun::detail::TaskIterLink::open()) {
    nsfun::test::skip("the BPF task iterator cannot be loaded here (needs CAP_BPF, CAP_PERFMON)");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("task iterator link: each pass reads the processes again, as a fresh load does") {
  if (!need_task_iter()) {
    return;
  }
  nsfun::UniqueFd proc = nsfun::UniqueFd::adopt(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(proc);
  const std::size_t fds = nsfun::test::open_fd_count();
  {
    nsfun::detail::TaskIterLink link = nsfun::detail::TaskIterLink::open();
    REQUIRE(static_cast<bool>(link));
    for (int pass = 0; pass < 3; ++pass) {
      CAPTURE(pass);
      nsfun::detail::TaskNsTable once = nsfun::detail::TaskNsTable::read(proc.get(), 256);
      nsfun::detail::TaskNsTable kept = link.read(proc.get(), 256);
      REQUIRE(!once.empty());
      REQUIRE(!kept.empty());
      // This process, as its own links say, in both.
      const nsfun::detail::TaskNs* me = kept.find(::getpid());
      REQUIRE(me != nullptr);
      REQUIRE(once.find(::getpid()) != nullptr);
      for (nsfun::NsLink l : nsfun::all_ns_links) {
        auto i = static_cast<std::size_t>(l);
        CHECK(me->ino[i] == nsfun::test::link_ino(::getpid(), nsfun::name(l)));
        CHECK(me->ino[i] == once.find(::getpid())->ino[i]);
      }
      // This process's parent too, and as many processes as a fresh load finds, give or take
      // those that started or ended between the two passes. (Neither has pid 1 here: the
      // kernel's iterator begins after it; the scanner reads what a pass lacks from /proc.)
      CHECK(kept.find(::getppid()) != nullptr);
      const auto n_once = std::distance(once.begin(), once.end());
      const auto n_kept = std::distance(kept.begin(), kept.end());
      CHECK(n_kept > 2);
      CHECK(n_kept <= n_once + 20);
      CHECK(n_once <= n_kept + 20);
    }
    // A process started after the link was made is in its next pass.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    nsfun::detail::TaskNsTable later = link.read(proc.get(), 256);
    CHECK(later.find(pid) != nullptr);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  CHECK(nsfun::test::open_fd_count() == fds);
}

TEST_CASE("monitor poll and connector: as root, rescans keep one iterator link, gone on close") {
  if (!need_ids_and_root() || !need_task_iter()) {
    return;
  }
  for (MonitorBackend b : {MonitorBackend::poll, MonitorBackend::connector}) {
    CAPTURE(static_cast<int>(b));
    const std::set<std::string> before = bpf_links_of_self();
    const std::size_t fds = nsfun::test::open_fd_count();
    std::set<std::string> ours;
    {
      nsfun::MonitorOptions o = options_for(b);
      o.interval = 20ms;
      Watch w = watch(o);
      w.drain(200ms);
      CHECK(w.m.stats().rescans >= 3);
      for (const std::string& id : bpf_links_of_self()) {
        if (before.count(id) == 0) {
          ours.insert(id);
        }
      }
      CHECK(ours.size() == 1);  // one link for every rescan, not one a rescan
      // The rescans it makes through the link still see what appears.
      Made child = make_ns(NsType::ipc);
      const Namespace ns = child.ns;
      REQUIRE(!ns.empty());
      CHECK(w.wait(NsEventKind::appeared, ns, 3s).has_value());
      child.kill();
      CHECK(w.wait(NsEventKind::gone, ns, 5s).has_value());
    }
    CHECK(nsfun::test::open_fd_count() == fds);
    for (const std::string& id : ours) {
      CHECK_MESSAGE(bpf_links_of_self().count(id) == 0, "link " << id);
    }
  }
}

TEST_CASE(
    "monitor connector: a backlog of forks and execs still gives every NEW, made by the parent") {
  if (!need_ids_and_root()) {
    return;
  }
  Watch w = watch(options_for(MonitorBackend::connector));
  w.drain(100ms);
  // While nobody reads the monitor, 20 processes start in new uts namespaces (clone3, then exec)
  // and live on: their forks and execs wait in the socket and are read as one batch.
  std::vector<nsfun::Child> kids;
  std::vector<Namespace> made;
  for (int i = 0; i < 20; ++i) {
    auto c = nsfun::spawn(nsfun::Command("/bin/sleep").arg("30").namespaces({NsType::uts}));
    REQUIRE_MESSAGE(c.has_value(), c.error().message());
    kids.push_back(std::move(c).value());
  }
  for (const nsfun::Child& k : kids) {
    // After the exec: sleep's comm shows once it runs the program.
    for (int i = 0; i < 200 && nsfun::test::read_text("/proc/" + std::to_string(k.pid()) +
                                                      "/comm") != "sleep\n";
         ++i) {
      ::usleep(1000);
    }
    made.push_back(ns_at(k.pid(), nsfun::NsLink::uts));
    REQUIRE(!made.back().empty());
  }
  for (const Namespace& ns : made) {
    auto e = w.wait(NsEventKind::appeared, ns, 3s);
    REQUIRE(e.has_value());
    CHECK(e->pid == ::getpid());  // the clone's parent, not the child after its exec
  }
  kids.clear();  // killed and reaped
  for (const Namespace& ns : made) {
    CHECK(w.wait(NsEventKind::gone, ns, 5s).has_value());
  }
  CHECK(w.m.stats().lost == 0);
}

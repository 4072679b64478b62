// SPDX-License-Identifier: MIT
// NsMonitor's bpf backend, on the real kernel: NEW and GONE of each type, namespaces that live
// microseconds, recycled inodes, ring-buffer overflow, JOIN/LEAVE, and nothing left behind.
// Other processes on the machine make namespaces too: every check matches what the test made
// (by id, inode or the pid that made it).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/detail/sys.hpp>
#include <nsfun/monitor.hpp>

#include "test_support.hpp"

using namespace std::chrono_literals;
using nsfun::NsEvent;
using nsfun::NsEventKind;
using nsfun::NsType;

namespace {

// A bpf monitor, or a skip (not root, or BPF not permitted or not built here).
struct BpfMonitor {
  std::optional<nsfun::NsMonitor> m;
  std::string why;

  explicit BpfMonitor(nsfun::MonitorOptions o = {}) {
    o.backend = nsfun::MonitorBackend::bpf;
    auto r = nsfun::NsMonitor::open(o);
    if (r) {
      m.emplace(std::move(r).value());
    } else {
      why = r.error().message();
    }
  }
};

#define NSFUN_REQUIRE_BPF(mon)                                          \
  NSFUN_REQUIRE(::geteuid() == 0, "needs root (CAP_BPF, CAP_PERFMON)"); \
  NSFUN_REQUIRE((mon).m.has_value(), ("bpf monitor unavailable: " + (mon).why).c_str())

// What a child made: the namespace's inode and id, read from its /proc/self/ns link.
struct Made {
  pid_t pid = 0;
  std::uint64_t ino = 0;
  std::uint64_t id = 0;
};

// The link that shows the namespace unshare(type) makes for the caller (or its children).
std::string made_link(NsType t) {
  switch (t) {
    case NsType::pid:
      return "pid";  // read in a grandchild, the new namespace's init
    case NsType::time:
      return "time_for_children";
    default:
      return std::string(nsfun::name(nsfun::link_of(t)));
  }
}

struct IdIno {
  std::uint64_t ino;
  std::uint64_t id;
};

IdIno read_self(const std::string& link) {
  IdIno r{0, 0};
  std::string path = "/proc/self/ns/" + link;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return r;
  }

  struct stat st {};

  if (::fstat(fd, &st) == 0) {
    r.ino = st.st_ino;
    std::uint64_t id = 0;
    r.id = ::ioctl(fd, nsfun::detail::sys::ns_get_id, &id) == 0 ? id : 0;
  }
  ::close(fd);
  return r;
}

// A child unshares `t`, reports the new namespace and exits, so the namespace dies with it.
Made make_and_drop(NsType t) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(p[0]);
    IdIno r{0, 0};
    if (::unshare(nsfun::clone_flag(t)) == 0) {
      if (t == NsType::pid) {
        pid_t init = ::fork();
        if (init == 0) {
          r = read_self("pid");
          (void)!::write(p[1], &r, sizeof(r));
          ::_exit(0);
        }
        int st = 0;
        ::waitpid(init, &st, 0);
        ::_exit(0);
      }
      r = read_self(made_link(t));
    }
    (void)!::write(p[1], &r, sizeof(r));
    ::_exit(0);
  }
  ::close(p[1]);
  IdIno r{0, 0};
  ssize_t n = ::read(p[0], &r, sizeof(r));
  ::close(p[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(n == static_cast<ssize_t>(sizeof(r)));
  REQUIRE(r.ino != 0);
  return Made{child, r.ino, r.id};
}

// Reads events until `done` says so (true) or `limit` passes; every event read is kept.
bool read_until(nsfun::NsMonitor& m,
                std::vector<NsEvent>& seen,
                const std::function<bool()>& done,
                std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    auto e = m.next(20ms);
    REQUIRE(e.has_value());
    if (e.value()) {
      seen.push_back(std::move(*e.value()));
    }
  }
  return true;
}

const NsEvent* find(const std::vector<NsEvent>& seen, NsEventKind k, NsType t, std::uint64_t id) {
  for (const NsEvent& e : seen) {
    if (e.kind == k && e.ns.type() == t && e.ns.id() == id) {
      return &e;
    }
  }
  return nullptr;
}

// The ids of the BPF objects (prog_id, link_id, map_id) this process holds fds of.
std::set<std::string> bpf_objects_of_self() {
  std::set<std::string> ids;
  DIR* d = ::opendir("/proc/self/fdinfo");
  REQUIRE(d != nullptr);
  while (dirent* ent = ::readdir(d)) {
    if (ent->d_name[0] == '.') {
      continue;
    }
    std::string text = nsfun::test::read_text(std::string("/proc/self/fdinfo/") + ent->d_name);
    for (const char* key : {"prog_id:", "link_id:", "map_id:"}) {
      auto pos = text.find(key);
      if (pos == std::string::npos) {
        continue;
      }
      auto words = nsfun::test::split_words(text.substr(pos + std::strlen(key)));
      if (!words.empty()) {
        std::string kind(key, std::strlen(key) - 4);  // "prog", "link", "map"
        ids.insert(kind + " " + words.front());
      }
    }
  }
  ::closedir(d);
  return ids;
}

}  // namespace

TEST_CASE("monitor bpf: the backend says what it is") {
  BpfMonitor mon;
  NSFUN_REQUIRE_BPF(mon);
  CHECK(mon.m->backend() == nsfun::MonitorBackend::bpf);
  CHECK(mon.m->why() == "using (as asked) bpf");
  CHECK(mon.m->fd() >= 0);
  auto automatic = nsfun::NsMonitor::open();
  REQUIRE(automatic.has_value());
  CHECK(automatic.value().backend() == nsfun::MonitorBackend::bpf);
  CHECK(automatic.value().why() == "using bpf");
}

TEST_CASE(
    "monitor bpf: unprivileged, bpf is refused with the kernel's reason and auto falls back") {
  NSFUN_REQUIRE(::geteuid() == 0 && nsfun::test::can_drop_privileges(), "needs root to drop");
  NSFUN_CHECK_CHILD([] {
    NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
    nsfun::MonitorOptions o;
    o.backend = nsfun::MonitorBackend::bpf;
    auto r = nsfun::NsMonitor::open(o);
    NSFUN_EXPECT(!r.has_value());
    std::string msg = r.error().message();
    NSFUN_EXPECT(msg.find("bpf") != std::string::npos);
    NSFUN_EXPECT(msg.find("BPF programs") != std::string::npos);
    auto a = nsfun::NsMonitor::open();
    NSFUN_EXPECT(a.has_value());
    NSFUN_EXPECT(a.value().backend() != nsfun::MonitorBackend::bpf);
    NSFUN_EXPECT(a.value().why().find("bpf unavailable (") == 0);
    return 0;
  });
}

TEST_CASE("monitor bpf: NEW and GONE for each of the eight types, with the task that made it") {
  BpfMonitor mon;
  NSFUN_REQUIRE_BPF(mon);
  std::vector<NsEvent> seen;
  std::vector<std::int64_t> latency_us;
  for (NsType t : nsfun::all_ns_types) {
    CAPTURE(nsfun::name(t));
    Made made = make_and_drop(t);
    NSFUN_REQUIRE(made.id != 0, "the kernel has no namespace ids (Linux 6.18)");
    bool both = read_until(
        *mon.m, seen, [&] { return find(seen, NsEventKind::gone, t, made.id) != nullptr; },
        nsfun::test::gone_wait(t));
    const NsEvent* n = find(seen, NsEventKind::appeared, t, made.id);
    REQUIRE(n != nullptr);
    CHECK(n->ns.ino() == made.ino);
    CHECK(n->pid == made.pid);
    CHECK(n->tid == made.pid);
    CHECK_FALSE(n->comm.empty());
    CHECK(n->monotonic_ns != 0);
    if (t != NsType::user) {
      CHECK(n->owner == nsfun::test::link_ino(::getpid(), "user"));
    } else {
      CHECK(n->owner == nsfun::test::link_ino(::getpid(), "user"));  // its parent: ours
    }
    REQUIRE(both);
    const NsEvent* g = find(seen, NsEventKind::gone, t, made.id);
    REQUIRE(g != nullptr);
    CHECK(g->ns.ino() == made.ino);
    REQUIRE(g->lived.has_value());
    CHECK(g->monotonic_ns >= n->monotonic_ns);
    CHECK(g->lived->count() == static_cast<std::int64_t>(g->monotonic_ns - n->monotonic_ns));
    latency_us.push_back(g->lived->count() / 1000);
  }
  std::sort(latency_us.begin(), latency_us.end());
  MESSAGE("lived (NEW to GONE, child exits at once), us: " << latency_us.front() << " .. "
                                                           << latency_us.back());
}

TEST_CASE("monitor bpf: namespaces that live microseconds are each reported NEW and GONE") {
  BpfMonitor mon;
  NSFUN_REQUIRE_BPF(mon);
  constexpr int flags = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  std::vector<pid_t> kids;
  for (int i = 0; i < 20; ++i) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::_exit(::unshare(flags) == 0 ? 0 : 1);  // made and dropped at once
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    kids.push_back(child);
  }
  std::vector<NsEvent> seen;
  auto count = [&](NsEventKind k) {
    std::set<std::uint64_t> ids;
    for (const NsEvent& e : seen) {
      if (e.kind == NsEventKind::appeared &&
          std::find(kids.begin(), kids.end(), e.pid) != kids.end()) {
        ids.insert(e.ns.id());
      }
    }
    if (k == NsEventKind::appeared) {
      return ids.size();
    }
    std::size_t gone = 0;
    for (const NsEvent& e : seen) {
      gone += e.kind == NsEventKind::gone && ids.count(e.ns.id()) != 0 ? 1U : 0U;
    }
    return gone;
  };
  bool all = read_until(
      *mon.m, seen, [&] { return count(NsEventKind::gone) == 80; }, 8000ms);
  CHECK(count(NsEventKind::appeared) == 80);
  CHECK(count(NsEventKind::gone) == 80);
  CHECK(all);
  for (const NsEvent& e : seen) {
    if (e.kind == NsEventKind::gone && e.lived) {
      CHECK(e.lived->count() > 0);
    }
  }
}

TEST_CASE("monitor bpf: a recycled inode is reported as a new namespace, not the old one") {
  BpfMonitor mon;
  NSFUN_REQUIRE_BPF(mon);
  // The kernel hands a freed inode number out again soon: make namespaces until one repeats.
  std::vector<Made> made;
  std::optional<std::pair<Made, Made>> pair;
  for (int i = 0; i < 300 && !pair; ++i) {
    Made m = make_and_drop(NsType::uts);
    NSFUN_REQUIRE(m.id != 0, "the kernel has no namespace ids (Linux 6.18)");
    for (const Made& old : made) {
      if (old.ino == m.ino) {
        pair.emplace(old, m);
      }
    }
    made.push_back(m);
    ::usleep(2000);  // let the last one's free land
  }
  NSFUN_REQUIRE(pair.has_value(), "no uts inode was recycled within 300 namespaces");
  CHECK(pair->first.id != pair->second.id);
  std::vector<NsEvent> seen;
  auto both = [&](const Made& m) {
    return find(seen, NsEventKind::appeared, NsType::uts, m.id) != nullptr &&
           find(seen, NsEventKind::gone, NsType::uts, m.id) != nullptr;
  };
  CHECK(read_until(*mon.m, seen, [&] { return both(pair->first) && both(pair->second); }));
  for (const Made& m : {pair->first, pair->second}) {
    const NsEvent* n = find(seen, NsEventKind::appeared, NsType::uts, m.id);
    REQUIRE(n != nullptr);
    CHECK(n->ns.ino() == m.ino);
    CHECK(n->pid == m.pid);
    const NsEvent* g = find(seen, NsEventKind::gone, NsType::uts, m.id);
    REQUIRE(g != nullptr);
    CHECK(g->ns.ino() == m.ino);
    // Each GONE comes after its own NEW.
    CHECK(g - seen.data() > n - seen.data());
  }
  // Exactly one NEW and one GONE per id, however often the inode came back.
  for (const Made& m : made) {
    auto per_id = std::count_if(seen.begin(), seen.end(), [&](const NsEvent& e) {
      return e.ns.type() == NsType::uts && e.ns.id() == m.id;
    });
    CHECK(per_id <= 2);
  }
}

TEST_CASE("monitor bpf: a full ring buffer is reported as lost events, never silently") {
  nsfun::MonitorOptions o;
  o.ring_bytes = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));  // room for ~60 records
  o.types = {NsType::uts};
  BpfMonitor mon(o);
  NSFUN_REQUIRE_BPF(mon);
  // A burst while nobody reads: 500 uts namespaces, each replacing the last.
  NSFUN_CHECK_CHILD([] {
    for (int i = 0; i < 500; ++i) {
      NSFUN_EXPECT(::unshare(CLONE_NEWUTS) == 0);
    }
    return 0;
  });
  std::vector<NsEvent> seen;
  std::uint64_t lost = 0;
  read_until(*mon.m, seen, [&] {
    lost = 0;
    for (const NsEvent& e : seen) {
      if (e.kind == NsEventKind::lost) {
        CHECK(e.ns.empty());
        lost += e.lost;
      }
    }
    return lost > 0;
  });
  CHECK(lost >= 400);
  CHECK(mon.m->stats().lost == lost);
  // The monitor goes on after the loss.
  Made after = make_and_drop(NsType::uts);
  CHECK(read_until(*mon.m, seen, [&] {
    return find(seen, NsEventKind::appeared, NsType::uts, after.id) != nullptr;
  }));
}

TEST_CASE("monitor bpf: JOIN and LEAVE at fork, unshare, setns and exit") {
  nsfun::MonitorOptions o;
  o.processes = true;
  o.types = {NsType::uts, NsType::net};
  BpfMonitor mon(o);
  NSFUN_REQUIRE_BPF(mon);
  std::uint64_t our_uts = nsfun::test::link_ino(::getpid(), "uts");
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int old = ::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    IdIno made{0, 0};
    if (old >= 0 && ::unshare(CLONE_NEWUTS) == 0) {
      made = read_self("uts");
      if (::setns(old, CLONE_NEWUTS) != 0) {
        made.ino = 0;
      }
    }
    (void)!::write(p[1], &made, sizeof(made));
    ::_exit(0);
  }
  ::close(p[1]);
  IdIno made{0, 0};
  REQUIRE(::read(p[0], &made, sizeof(made)) == static_cast<ssize_t>(sizeof(made)));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(made.ino != 0);
  std::vector<NsEvent> seen;
  auto of_child = [&](NsEventKind k, std::uint64_t ino) {
    return std::count_if(seen.begin(), seen.end(), [&](const NsEvent& e) {
      return e.kind == k && e.pid == child && e.ns.type() == NsType::uts && e.ns.ino() == ino;
    });
  };
  // fork: JOIN ours; unshare: LEAVE ours, JOIN new; setns: LEAVE new, JOIN ours; exit: LEAVE ours.
  bool done = read_until(*mon.m, seen, [&] {
    return of_child(NsEventKind::join, our_uts) == 2 &&
           of_child(NsEventKind::leave, our_uts) == 2 &&
           of_child(NsEventKind::join, made.ino) == 1 &&
           of_child(NsEventKind::leave, made.ino) == 1;
  });
  CHECK(of_child(NsEventKind::join, our_uts) == 2);
  CHECK(of_child(NsEventKind::leave, our_uts) == 2);
  CHECK(of_child(NsEventKind::join, made.ino) == 1);
  CHECK(of_child(NsEventKind::leave, made.ino) == 1);
  CHECK(done);
  read_until(
      *mon.m, seen, [] { return false; }, 200ms);  // the rest of the exit's events
  // The child's net namespace never changed: one JOIN at fork, one LEAVE at exit.
  auto net = std::count_if(seen.begin(), seen.end(), [&](const NsEvent& e) {
    return e.pid == child && e.ns.type() == NsType::net;
  });
  CHECK(net == 2);
  for (const NsEvent& e : seen) {
    if (e.pid == child) {
      CHECK(e.ns.id() != 0);
      CHECK_FALSE(e.comm.empty());
    }
  }
}

TEST_CASE("monitor bpf: closing the monitor leaves no program, link, map or fd behind") {
  NSFUN_REQUIRE(::geteuid() == 0, "needs root");
  NSFUN_REQUIRE(nsfun::test::have_program("bpftool"), "needs bpftool");
  std::size_t fds = nsfun::test::open_fd_count();
  std::set<std::string> before = bpf_objects_of_self();
  std::set<std::string> ours;
  {
    BpfMonitor mon;
    NSFUN_REQUIRE_BPF(mon);
    for (const std::string& o : bpf_objects_of_self()) {
      if (before.count(o) == 0) {
        ours.insert(o);
      }
    }
    // bpftool sees them while the monitor runs, under the nsfun_ names.
    std::string progs = nsfun::test::run("bpftool prog list 2>/dev/null").out;
    for (const char* n : {"nsfun_newtask", "nsfun_sys_exit", "nsfun_kfree"}) {
      CHECK(progs.find(n) != std::string::npos);
    }
  }
  CHECK(nsfun::test::open_fd_count() == fds);
  std::size_t progs = 0;
  std::size_t links = 0;
  for (const std::string& o : ours) {
    progs += o.rfind("prog ", 0) == 0 ? 1U : 0U;
    links += o.rfind("link ", 0) == 0 ? 1U : 0U;
  }
  CHECK(progs >= 7);
  CHECK(links >= 7);
  // Freed by the kernel once the last fd went (maps after an RCU grace period: wait a little).
  for (const std::string& o : ours) {
    CAPTURE(o);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = nsfun::test::run("bpftool " + o.substr(0, o.find(' ')) + " show id " +
                              o.substr(o.find(' ') + 1) + " >/dev/null 2>&1")
                 .status != 0;
      if (!gone) {
        ::usleep(20000);
      }
    }
    CHECK(gone);
  }
}

namespace {

// A pipe whose ends the test closes itself (both of them on every path).
struct Pipe {
  int fd[2] = {-1, -1};

  Pipe() { REQUIRE(::pipe2(fd, O_CLOEXEC) == 0); }

  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) {
        ::close(f);
      }
    }
  }
};

// CLOCK_MONOTONIC in ns, the clock of NsEvent::monotonic_ns.
std::uint64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

template <class T>
bool put(int fd, const T& v) {
  return ::write(fd, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v));
}

template <class T>
bool get(int fd, T& v) {
  return ::read(fd, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v));
}

// No GONE for `id` in the next `ms`, and its NEW seen.
void expect_alive(nsfun::NsMonitor& m, std::vector<NsEvent>& seen, std::uint64_t id) {
  read_until(
      m, seen, [] { return false; }, 300ms);
  CHECK(find(seen, NsEventKind::appeared, NsType::uts, id) != nullptr);
  CHECK(find(seen, NsEventKind::gone, NsType::uts, id) == nullptr);
}

}  // namespace

TEST_CASE(
    "monitor bpf: a namespace held by an fd or a bind mount is GONE right after the close "
    "or the unmount") {
  BpfMonitor mon;
  NSFUN_REQUIRE_BPF(mon);
  NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs a private mount namespace");

  SUBCASE("an nsfs fd") {
    Pipe up;
    Pipe down;
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      IdIno r{0, 0};
      if (::unshare(CLONE_NEWUTS) == 0) {
        r = read_self("uts");
      }
      char c = 0;
      ::_exit(put(up.fd[1], r) && get(down.fd[0], c) ? 0 : 1);
    }
    IdIno made{0, 0};
    REQUIRE(get(up.fd[0], made));
    REQUIRE(made.id != 0);
    int fd = ::open(("/proc/" + std::to_string(child) + "/ns/uts").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(put(down.fd[1], 'x'));
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    std::vector<NsEvent> seen;
    expect_alive(*mon.m, seen, made.id);  // the child is gone, our fd holds it
    std::uint64_t closed = mono_ns();
    ::close(fd);
    REQUIRE(read_until(*mon.m, seen, [&] {
      return find(seen, NsEventKind::gone, NsType::uts, made.id) != nullptr;
    }));
    const NsEvent* g = find(seen, NsEventKind::gone, NsType::uts, made.id);
    // Found after the close's HINT, not by the once-a-second recheck.
    CHECK(g->monotonic_ns - closed < 100'000'000U);
  }

  SUBCASE("a bind mount (ip netns delete's way)") {
    Pipe up;
    Pipe down;
    pid_t holder = ::fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
      // In a private mount namespace with its own /run: the host's mounts are never touched.
      if (nsfun::test::private_run() != 0) {
        ::_exit(1);
      }
      const char* target = "/run/nsfun-test-uts";
      int f = ::open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (f < 0) {
        ::_exit(2);
      }
      ::close(f);
      Pipe inner;
      pid_t maker = ::fork();
      if (maker == 0) {
        IdIno r{0, 0};
        if (::unshare(CLONE_NEWUTS) == 0) {
          r = read_self("uts");
        }
        char c = 0;
        ::_exit(put(up.fd[1], r) && get(inner.fd[0], c) ? 0 : 1);
      }
      // Bind the maker's uts namespace, then let the maker go.
      char c = 0;
      if (!get(down.fd[0], c) || ::mount(("/proc/" + std::to_string(maker) + "/ns/uts").c_str(),
                                         target, nullptr, MS_BIND, nullptr) != 0) {
        ::_exit(3);
      }
      int st = 0;
      if (!put(inner.fd[1], 'x') || ::waitpid(maker, &st, 0) != maker) {
        ::_exit(4);
      }
      std::uint64_t t = 1;
      if (!put(up.fd[1], t) || !get(down.fd[0], c)) {
        ::_exit(5);
      }
      t = mono_ns();
      if (::umount2(target, 0) != 0) {
        ::_exit(6);
      }
      // Stays until the test has its GONE: the mount namespace's own end would free it too.
      ::_exit(put(up.fd[1], t) && get(down.fd[0], c) ? 0 : 7);
    }
    IdIno made{0, 0};
    REQUIRE(get(up.fd[0], made));
    REQUIRE(made.id != 0);
    REQUIRE(put(down.fd[1], 'm'));  // mount it
    std::uint64_t step = 0;
    REQUIRE(get(up.fd[0], step));  // mounted, and its maker exited
    std::vector<NsEvent> seen;
    expect_alive(*mon.m, seen, made.id);
    REQUIRE(put(down.fd[1], 'u'));  // unmount it
    std::uint64_t unmounted = 0;
    REQUIRE(get(up.fd[0], unmounted));
    bool gone = read_until(*mon.m, seen, [&] {
      return find(seen, NsEventKind::gone, NsType::uts, made.id) != nullptr;
    });
    REQUIRE(put(down.fd[1], 'q'));
    int status = 0;
    REQUIRE(::waitpid(holder, &status, 0) == holder);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    REQUIRE(gone);
    const NsEvent* g = find(seen, NsEventKind::gone, NsType::uts, made.id);
    CHECK(g->monotonic_ns - unmounted < 100'000'000U);
  }
}

TEST_CASE(
    "monitor bpf: a namespace only a bind mount held when the monitor started is GONE at "
    "its unmount") {
  NSFUN_REQUIRE(::geteuid() == 0, "needs root (CAP_BPF, CAP_PERFMON)");
  NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs a private mount namespace");
  {
    BpfMonitor probe;
    NSFUN_REQUIRE_BPF(probe);
  }
  // All in a child with a private mount namespace and /run: the host's mounts are never touched.
  NSFUN_CHECK_CHILD([] {
    NSFUN_EXPECT(nsfun::test::private_run() == 0);
    const char* target = "/run/nsfun-test-uts";
    int f = ::open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    NSFUN_EXPECT(f >= 0);
    ::close(f);
    int p[2];
    NSFUN_EXPECT(::pipe2(p, O_CLOEXEC) == 0);
    pid_t maker = ::fork();
    if (maker == 0) {
      ::close(p[1]);
      char c = 0;
      ::_exit(::unshare(CLONE_NEWUTS) == 0 && ::read(p[0], &c, 1) == 0 ? 0 : 1);
    }
    ::close(p[0]);
    // Bound once the maker is in its new namespace; then the maker goes.
    std::string link = "/proc/" + std::to_string(maker) + "/ns/uts";
    std::uint64_t ours = nsfun::test::link_ino(::getpid(), "uts");
    for (int i = 0; i < 1000 && nsfun::test::link_ino(maker, "uts") == ours; ++i) {
      ::usleep(1000);
    }
    NSFUN_EXPECT(::mount(link.c_str(), target, nullptr, MS_BIND, nullptr) == 0);
    ::close(p[1]);
    int st = 0;
    NSFUN_EXPECT(::waitpid(maker, &st, 0) == maker);
    IdIno bound{0, 0};
    int fd = ::open(target, O_RDONLY | O_CLOEXEC);
    NSFUN_EXPECT(fd >= 0);
    NSFUN_EXPECT(::ioctl(fd, nsfun::detail::sys::ns_get_id, &bound.id) == 0);
    ::close(fd);
    NSFUN_EXPECT(bound.id != 0);

    nsfun::MonitorOptions o;
    o.backend = nsfun::MonitorBackend::bpf;
    o.types = {NsType::uts};
    auto m = nsfun::NsMonitor::open(o);
    NSFUN_EXPECT(m.has_value());
    NSFUN_EXPECT(::umount2(target, 0) == 0);
    auto end = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < end) {
      auto e = m.value().next(50ms);
      NSFUN_EXPECT(e.has_value());
      if (e.value() && e.value()->kind == NsEventKind::gone && e.value()->ns.id() == bound.id) {
        NSFUN_EXPECT(!e.value()->lived.has_value());  // born before the monitor
        return 0;
      }
    }
    std::fprintf(stderr, "no GONE for the unmounted namespace %llu\n",
                 static_cast<unsigned long long>(bound.id));
    return 1;
  });
}

TEST_CASE("monitor bpf: only the types asked for are reported") {
  nsfun::MonitorOptions o;
  o.types = {NsType::net};
  BpfMonitor mon(o);
  NSFUN_REQUIRE_BPF(mon);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::_exit(::unshare(CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC) == 0 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::vector<NsEvent> seen;
  std::uint64_t net_id = 0;
  CHECK(read_until(*mon.m, seen, [&] {
    for (const NsEvent& e : seen) {
      if (e.kind == NsEventKind::appeared && e.pid == child) {
        net_id = e.ns.id();
      }
    }
    return net_id != 0 && find(seen, NsEventKind::gone, NsType::net, net_id) != nullptr;
  }));
  read_until(
      *mon.m, seen, [] { return false; }, 100ms);
  for (const NsEvent& e : seen) {
    CHECK(e.ns.type() == NsType::net);
  }
}

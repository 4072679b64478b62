// SPDX-License-Identifier: MIT
// nsfun tests – proc_scan.hpp and snapshot.hpp: the /proc scanner against lsns and a live load.
//
// Every case works in a forked child. The processes a case starts are forked from that child,
// die with it (PR_SET_PDEATHSIG), and are killed by pid and reaped before it returns; the child
// is a subreaper, so grandchildren are reaped there too. Pins live in a private /run.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/acquire.hpp>
#include <nsfun/detail/task_iter.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>
#include <nsfun/unique_fd.hpp>

#include "test_support.hpp"

using nsfun::Namespace;
using nsfun::NsFd;
using nsfun::NsLink;
using nsfun::NsSummary;
using nsfun::NsType;
using nsfun::NsTypeSet;
using nsfun::ProcEntry;
using nsfun::ProcScan;
using nsfun::ProcScanOptions;
using nsfun::Snapshot;
using nsfun::SnapshotOptions;
using nsfun::test::link_ino;

namespace {

constexpr const char* no_admin = "needs CAP_SYS_ADMIN";

std::uint64_t ns_ino(pid_t pid, NsLink l) {
  return link_ino(pid, nsfun::name(l));
}

std::uint64_t ns_ino(pid_t pid, NsType t) {
  return ns_ino(pid, nsfun::link_of(t));
}

std::uint64_t ino_of(const ProcEntry& e, NsLink l) {
  return e.ino[static_cast<std::size_t>(l)];
}

std::uint64_t ino_of(const ProcEntry& e, NsType t) {
  return ino_of(e, nsfun::link_of(t));
}

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void hold() {
  for (;;) {
    ::pause();
  }
}

// Processes that pause until killed, each in the caller's namespaces or in new ones, optionally
// with a grandchild born into the same namespaces (so that a namespace holds two processes, or a
// new pid namespace gets its first process). The caller becomes a child subreaper, so orphaned
// grandchildren come back to it; everything is killed by pid and reaped in stop().
class Holders {
 public:
  struct Held {
    pid_t pid = -1;  ///< the child, or -1 when it could not be started
    pid_t grandchild = 0;
  };

  Holders() noexcept { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

  ~Holders() { stop(); }

  Holders(const Holders&) = delete;
  Holders& operator=(const Holders&) = delete;

  Held start(NsTypeSet types, bool grandchild = false) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0) {
      return {};
    }
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(ready[0]);
      if (::getppid() != parent || (!types.empty() && !nsfun::unshare(types))) {
        ::_exit(1);
      }
      pid_t gc = 0;
      if (grandchild) {
        gc = ::fork();
        if (gc == 0) {
          ::prctl(PR_SET_PDEATHSIG, SIGKILL);
          ::close(ready[1]);
          hold();
        }
        if (gc < 0) {
          ::_exit(2);
        }
      }
      (void)!::write(ready[1], &gc, sizeof(gc));
      ::close(ready[1]);
      hold();
    }
    ::close(ready[1]);
    if (pid < 0) {
      ::close(ready[0]);
      return {};
    }
    children_.push_back(pid);
    pid_t gc = 0;
    bool ok = ::read(ready[0], &gc, sizeof(gc)) == static_cast<ssize_t>(sizeof(gc));
    ::close(ready[0]);
    if (!ok) {
      return {};  // stop() still kills and reaps the child
    }
    if (gc > 0) {
      grandchildren_.push_back(gc);
    }
    return {pid, gc};
  }

  // Every process started, children then grandchildren.
  [[nodiscard]] std::vector<pid_t> all() const {
    std::vector<pid_t> pids = children_;
    pids.insert(pids.end(), grandchildren_.begin(), grandchildren_.end());
    return pids;
  }

  void stop() {
    // A dead grandchild stays a zombie until its (paused) parent dies, so its pid is not reused
    // before it is reaped here.
    for (pid_t p : grandchildren_) {
      ::kill(p, SIGKILL);
    }
    for (pid_t p : children_) {
      ::kill(p, SIGKILL);
    }
    for (pid_t p : children_) {
      reap(p);
    }
    for (pid_t p : grandchildren_) {
      reap(p);  // reparented to us, the subreaper, when its parent died
    }
    children_.clear();
    grandchildren_.clear();
  }

 private:
  std::vector<pid_t> children_;
  std::vector<pid_t> grandchildren_;
};

// A command forked now and started (exec'd) later, when finish() is called. A snapshot taken in
// between sees the process already, as a copy of this one in the same namespaces, and the command
// sees itself: both count it.
class Deferred {
 public:
  explicit Deferred(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    int go[2];
    int out[2];
    if (::pipe2(go, O_CLOEXEC) < 0) {
      return;
    }
    if (::pipe2(out, O_CLOEXEC) < 0) {
      ::close(go[0]);
      ::close(go[1]);
      return;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(go[1]);
      ::close(out[0]);
      char c = 0;
      if (::dup2(out[1], STDOUT_FILENO) == STDOUT_FILENO && ::read(go[0], &c, 1) == 1) {
        ::execvp(args[0], args.data());
      }
      ::_exit(127);
    }
    ::close(go[0]);
    ::close(out[1]);
    go_ = nsfun::UniqueFd::adopt(go[1]);
    out_ = nsfun::UniqueFd::adopt(out[0]);
    pid_ = pid;
  }

  ~Deferred() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(pid_);
    }
  }

  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

  [[nodiscard]] bool forked() const noexcept { return pid_ > 0; }

  // Runs the command to its end: its exit status and what it printed.
  nsfun::test::CommandResult finish() {
    nsfun::test::CommandResult r;
    if (pid_ <= 0) {
      return r;
    }
    (void)!::write(go_.get(), "x", 1);
    go_.reset();
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(out_.get(), buf, sizeof(buf));
      if (n > 0) {
        r.out.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    out_.reset();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
  }

 private:
  pid_t pid_ = -1;
  nsfun::UniqueFd go_;
  nsfun::UniqueFd out_;
};

// One line of `lsns -o NS,TYPE,NPROCS,PID`.
struct Row {
  std::uint64_t ns = 0;
  std::string type;
  std::uint64_t nprocs = 0;
  std::int64_t pid = 0;

  friend auto operator<=>(const Row&, const Row&) = default;
};

using Rows = std::set<Row>;

std::string to_string(const Row& r) {
  return r.type + ":[" + std::to_string(r.ns) + "] nprocs " + std::to_string(r.nprocs) + " pid " +
         std::to_string(r.pid);
}

std::uint64_t json_uint(const nlohmann::json& v) {
  return v.is_number() ? v.get<std::uint64_t>() : 0;
}

// lsns's namespaces with at least one process; nullopt when the output is not what lsns -J
// prints.
std::optional<Rows> parse_lsns(const std::string& text) {
  try {
    Rows rows;
    nlohmann::json doc = nlohmann::json::parse(text);
    for (const auto& n : doc.at("namespaces")) {
      Row r{json_uint(n.at("ns")), n.at("type").get<std::string>(), json_uint(n.at("nprocs")),
            static_cast<std::int64_t>(json_uint(n.at("pid")))};
      if (r.nprocs != 0) {
        rows.insert(std::move(r));
      }
    }
    return rows;
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "cannot parse lsns output: %s\n%s\n", e.what(), text.c_str());
    return std::nullopt;
  }
}

// The same columns from a snapshot, leaving out namespaces held only by bind mounts (lsns 2.38
// does not list those).
Rows rows_of(const Snapshot& snap) {
  Rows rows;
  for (const NsSummary& s : snap.namespaces()) {
    if (s.nprocs != 0) {
      rows.insert(Row{s.ns.ino(), std::string(nsfun::name(s.ns.type())), s.nprocs, s.pid});
    }
  }
  return rows;
}

// The rows naming one of `inos` (type name, inode).
Rows only(const Rows& rows, const std::set<std::pair<std::string, std::uint64_t>>& inos) {
  Rows out;
  for (const Row& r : rows) {
    if (inos.count({r.type, r.ns}) != 0) {
      out.insert(r);
    }
  }
  return out;
}

// "only in lsns: …" / "only in nsfun: …", one line each.
std::string difference(const Rows& lsns, const Rows& ours) {
  std::string text;
  for (const Row& r : lsns) {
    if (ours.count(r) == 0) {
      text += "  only in lsns:  " + to_string(r) + "\n";
    }
  }
  for (const Row& r : ours) {
    if (lsns.count(r) == 0) {
      text += "  only in nsfun: " + to_string(r) + "\n";
    }
  }
  return text;
}

// What lsns shows in USER: the name, or the number when the uid has none.
std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

// What every bare scan (no threads) must hold: ascending pids, each once, every link read, and
// every pid listed accounted for exactly once.
bool well_formed(const ProcScan& scan) {
  pid_t last = 0;
  for (const ProcEntry& e : scan.procs) {
    if (e.tid != e.pid || e.pid <= last) {
      return false;
    }
    last = e.pid;
    // The user link is read first and decides whether a process is listed; a process that
    // exits (or is a zombie) mid-read keeps what was read before, as lsns counts it.
    if (ino_of(e, NsType::user) == 0) {
      return false;
    }
  }
  return scan.stats.seen == scan.procs.size() + scan.stats.vanished + scan.stats.denied;
}

// The same for a snapshot: sorted by inode, and per type the processes add up to those listed.
bool well_formed(const Snapshot& snap) {
  const auto& all = snap.namespaces();
  if (!std::is_sorted(all.begin(), all.end(), [](const NsSummary& a, const NsSummary& b) {
        return a.ns.ino() < b.ns.ino();
      })) {
    return false;
  }
  const auto& st = snap.stats();
  std::size_t listed = st.seen - st.vanished - st.denied;
  for (NsType t : nsfun::all_ns_types) {
    std::size_t n = 0;
    for (const NsSummary& s : all) {
      n += s.ns.type() == t ? s.nprocs : 0;
    }
    if (t == NsType::user ? n != listed : n > listed) {
      return false;
    }
  }
  return true;
}

// The entry of process `pid` in a scan, or nullptr.
const ProcEntry* entry_of(const ProcScan& scan, pid_t pid) {
  auto it = std::find_if(scan.procs.begin(), scan.procs.end(),
                         [pid](const ProcEntry& e) { return e.pid == pid; });
  return it != scan.procs.end() ? &*it : nullptr;
}

bool listed(const ProcScan& scan, pid_t pid) {
  return entry_of(scan, pid) != nullptr;
}

// A child that exits at once and is left a zombie (waited for with WNOWAIT) until reap() or
// the end of the object.
class Zombie {
 public:
  Zombie() noexcept : pid_(::fork()) {
    if (pid_ == 0) {
      ::_exit(0);
    }
    siginfo_t info{};
    if (pid_ > 0 && ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0) {
      reap();
    }
  }

  ~Zombie() { reap(); }

  Zombie(const Zombie&) = delete;
  Zombie& operator=(const Zombie&) = delete;

  // The zombie's pid; -1 when it could not be made.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  void reap() noexcept {
    if (pid_ > 0) {
      ::reap(pid_);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

// A pid no process can have: pids stay below /proc/sys/kernel/pid_max.
pid_t impossible_pid() {
  long max = 0;
  std::ifstream("/proc/sys/kernel/pid_max") >> max;
  return max > 0 ? static_cast<pid_t>(max) : 4194304;
}

// A thread that unshares its own uts namespace and waits until the object goes away.
class UtsThread {
 public:
  UtsThread() : thread_([this] { run(); }) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return ready_; });
  }

  ~UtsThread() {
    {
      std::lock_guard lock(mutex_);
      release_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  UtsThread(const UtsThread&) = delete;
  UtsThread& operator=(const UtsThread&) = delete;

  [[nodiscard]] pid_t tid() const noexcept { return tid_; }

  [[nodiscard]] bool unshared() const noexcept { return unshared_; }

 private:
  void run() {
    pid_t tid = ::gettid();
    bool unshared = static_cast<bool>(nsfun::unshare({NsType::uts}));
    std::unique_lock lock(mutex_);
    tid_ = tid;
    unshared_ = unshared;
    ready_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return release_; });
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  bool ready_ = false;
  bool release_ = false;
  bool unshared_ = false;
  pid_t tid_ = 0;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

TEST_SUITE("snapshot") {
  TEST_CASE("Snapshot take agrees with lsns on a load of processes in new namespaces") {
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "needs lsns (util-linux)");
    NSFUN_REQUIRE(nsfun::test::can_unshare(
                      {NsType::net, NsType::uts, NsType::ipc, NsType::cgroup, NsType::pid}),
                  no_admin);
    NSFUN_CHECK_CHILD([] {
      Holders load;
      for (int i = 0; i < 4; ++i) {
        NSFUN_EXPECT(load.start({}).pid > 0);
      }
      NSFUN_EXPECT(load.start({NsType::net, NsType::uts}).pid > 0);
      NSFUN_EXPECT(load.start({NsType::ipc}).pid > 0);
      NSFUN_EXPECT(load.start({NsType::cgroup}).pid > 0);
      NSFUN_EXPECT(load.start({NsType::uts}).pid > 0);
      auto shared = load.start({NsType::net}, true);  // two processes in one net namespace
      NSFUN_EXPECT(shared.pid > 0 && shared.grandchild > 0);
      auto pid_ns = load.start({NsType::pid}, true);  // the grandchild is init of a new pid ns
      NSFUN_EXPECT(pid_ns.pid > 0 && pid_ns.grandchild > 0);
      NSFUN_EXPECT(load.all().size() == 12);

      // The namespaces the load made: every link of a load process that differs from ours.
      std::set<std::pair<std::string, std::uint64_t>> made;
      for (pid_t p : load.all()) {
        for (NsType t : nsfun::all_ns_types) {
          std::uint64_t ino = ns_ino(p, t);
          NSFUN_EXPECT(ino != 0);
          if (ino != ns_ino(::getpid(), t)) {
            made.insert({std::string(nsfun::name(t)), ino});
          }
        }
      }
      NSFUN_EXPECT(made.size() == 7);  // net, uts, ipc, cgroup, uts, net (shared), pid
      Row shared_net{ns_ino(shared.pid, NsType::net), "net", 2, shared.pid};
      Row new_pid{ns_ino(pid_ns.grandchild, NsType::pid), "pid", 1, pid_ns.grandchild};

      // Other processes on the machine come and go between the two scans (and during lsns's
      // scan, which takes a while with many processes): retry the pair, after a random pause so
      // that a retry does not fall in step with something that restarts periodically.
      bool same = false;
      std::string last_difference;
      std::minstd_rand jitter(static_cast<unsigned>(::getpid()));
      for (int attempt = 0; attempt < 3 && !same; ++attempt) {
        if (attempt != 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50 + jitter() % 300));
        }
        Deferred lsns({"lsns", "-J", "-o", "NS,TYPE,NPROCS,PID"});
        NSFUN_EXPECT(lsns.forked());
        auto snap = Snapshot::take();
        NSFUN_EXPECT_OK(snap);
        auto out = lsns.finish();
        NSFUN_EXPECT(out.status == 0);
        auto theirs = parse_lsns(out.out);
        NSFUN_EXPECT(theirs.has_value());
        Rows ours = rows_of(snap.value());
        Rows made_theirs = only(*theirs, made);
        Rows made_ours = only(ours, made);
        if (made_ours != made_theirs || made_ours.size() != made.size()) {
          std::fprintf(stderr, "the load's namespaces differ:\n%s",
                       difference(made_theirs, made_ours).c_str());
          return 2;
        }
        NSFUN_EXPECT(made_ours.count(shared_net) == 1);
        NSFUN_EXPECT(made_ours.count(new_pid) == 1);
        same = ours == *theirs;
        if (!same) {
          last_difference = difference(*theirs, ours);
        }
      }
      if (!same) {
        std::fprintf(stderr, "lsns and nsfun differ three times; the last time:\n%s",
                     last_difference.c_str());
        return 3;
      }

      // USER and COMMAND of the load's namespaces.
      Deferred lsns({"lsns", "-J", "-o", "NS,USER,COMMAND"});
      NSFUN_EXPECT(lsns.forked());
      SnapshotOptions with_ppid;
      with_ppid.ppid = true;
      auto snap = Snapshot::take(with_ppid);
      NSFUN_EXPECT_OK(snap);
      auto out = lsns.finish();
      NSFUN_EXPECT(out.status == 0);
      std::map<std::uint64_t, std::pair<std::string, std::string>> theirs;
      try {
        nlohmann::json doc = nlohmann::json::parse(out.out);
        for (const auto& n : doc.at("namespaces")) {
          theirs[json_uint(n.at("ns"))] = {n.at("user").get<std::string>(),
                                           n.at("command").get<std::string>()};
        }
      } catch (const nlohmann::json::exception& e) {
        std::fprintf(stderr, "cannot parse lsns output: %s\n%s\n", e.what(), out.out.c_str());
        return 4;
      }
      for (const auto& [type, ino] : made) {
        auto t = nsfun::parse_ns_type(type);
        NSFUN_EXPECT_OK(t);
        const NsSummary* s = snap.value().find(Namespace(t.value(), snap.value().nsfs_dev(), ino));
        NSFUN_EXPECT(s != nullptr);
        auto it = theirs.find(ino);
        NSFUN_EXPECT(it != theirs.end());
        if (it->second != std::pair(user_name(s->uid), s->command)) {
          std::fprintf(stderr, "%s:[%llu]: lsns says %s \"%s\", nsfun %s \"%s\"\n", type.c_str(),
                       static_cast<unsigned long long>(ino), it->second.first.c_str(),
                       it->second.second.c_str(), user_name(s->uid).c_str(), s->command.c_str());
          return 5;
        }
        NSFUN_EXPECT(s->ppid == ::getpid() || s->pid == pid_ns.grandchild);
      }
      return 0;
    });
  }

  TEST_CASE("scans never fail while processes exit during them") {
    NSFUN_CHECK_CHILD([] {
      // Enough processes that, as root, every other scan takes the task iterator: processes
      // then exit between the iterator's pass and the listing of /proc too.
      Holders many;
      for (int i = 0; i < 320; ++i) {
        NSFUN_EXPECT(many.start({}).pid > 0);
      }
      std::atomic<bool> stop{false};
      std::atomic<int> calls{0};
      std::atomic<int> failures{0};
      std::atomic<int> malformed{0};
      std::atomic<int> iterated{0};
      std::thread scanner([&] {
        for (unsigned round = 0; !stop || calls < 10; ++round) {
          ProcScanOptions o;
          o.workers = round % 2 == 0 ? 1 : 4;  // also the parallel path
          o.task_iter = round % 4 < 2;
          auto scan = nsfun::scan_procs(o);
          SnapshotOptions so;
          so.workers = o.workers;
          so.task_iter = o.task_iter;
          auto snap = Snapshot::take(so);
          ++calls;
          if (!scan || !snap) {
            ++failures;
            continue;
          }
          iterated += scan.value().stats.task_iter ? 1 : 0;
          // Also: every pid listed is either read, vanished or denied, exactly once.
          if (!well_formed(scan.value()) || !well_formed(snap.value())) {
            ++malformed;
          }
        }
      });
      for (int round = 0; round < 50; ++round) {
        std::vector<pid_t> kids;
        for (int i = 0; i < 20; ++i) {
          pid_t pid = ::fork();
          if (pid == 0) {
            ::_exit(0);
          }
          if (pid > 0) {
            kids.push_back(pid);
          }
        }
        for (pid_t pid : kids) {
          reap(pid);
        }
      }
      stop = true;
      scanner.join();
      NSFUN_EXPECT(calls >= 10);
      NSFUN_EXPECT(failures == 0);
      NSFUN_EXPECT(malformed == 0);
      if (nsfun::detail::task_iter_built() && ::geteuid() == 0) {
        NSFUN_EXPECT(iterated > 0);
      }
      return 0;
    });
  }

  TEST_CASE("a zombie is listed in its user and pid namespaces only as lsns counts it") {
    NSFUN_CHECK_CHILD([] {
      Zombie dead;
      const pid_t zombie = dead.pid();
      NSFUN_EXPECT(zombie > 0);

      ProcScanOptions o;
      o.pids = std::vector<pid_t>{zombie};
      auto one = nsfun::scan_procs(o);
      NSFUN_EXPECT_OK(one);
      NSFUN_EXPECT(one.value().procs.size() == 1);
      NSFUN_EXPECT(one.value().stats.seen == 1);
      NSFUN_EXPECT(one.value().stats.vanished == 0);
      const ProcEntry& z = one.value().procs[0];
      for (NsType t : nsfun::all_ns_types) {
        bool kept = t == NsType::user || t == NsType::pid;
        NSFUN_EXPECT((ino_of(z, t) != 0) == kept);
      }

      auto all = nsfun::scan_procs();
      NSFUN_EXPECT_OK(all);
      NSFUN_EXPECT(listed(all.value(), zombie));
      NSFUN_EXPECT(listed(all.value(), ::getpid()));

      // Reaped, it is gone: counted as vanished, and scan_proc says so.
      dead.reap();
      auto gone = nsfun::scan_procs(o);
      NSFUN_EXPECT_OK(gone);
      NSFUN_EXPECT(gone.value().procs.empty());
      NSFUN_EXPECT(gone.value().stats.vanished == 1);
      auto single = nsfun::scan_proc(zombie);
      NSFUN_EXPECT(!single);
      NSFUN_EXPECT(single.error() == std::errc::no_such_process);
      return 0;
    });
  }

  TEST_CASE("an unprivileged scan skips what it cannot read and lists itself") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs to switch to uid 65534");
    NSFUN_CHECK_CHILD([] {
      pid_t runner = ::getppid();  // the test runner, owned by root
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto scan = nsfun::scan_procs();
      NSFUN_EXPECT_OK(scan);
      NSFUN_EXPECT(scan.value().stats.denied > 0);
      NSFUN_EXPECT(listed(scan.value(), ::getpid()));
      NSFUN_EXPECT(!listed(scan.value(), runner));
      NSFUN_EXPECT(well_formed(scan.value()));
      auto theirs = nsfun::scan_proc(runner);
      NSFUN_EXPECT(!theirs);
      NSFUN_EXPECT(theirs.error() == std::errc::permission_denied);

      auto snap = Snapshot::take();
      NSFUN_EXPECT_OK(snap);
      NSFUN_EXPECT(snap.value().stats().denied > 0);
      const NsSummary* mine = snap.value().find(
          Namespace(NsType::net, snap.value().nsfs_dev(), ns_ino(::getpid(), NsType::net)));
      NSFUN_EXPECT(mine != nullptr && mine->nprocs >= 1);
      return 0;
    });
  }

  TEST_CASE("a namespace held only by a bind mount is listed without a process") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN for a private /run");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      std::string path = "/run/" + nsfun::test::unique_name();
      Namespace pinned;
      {
        auto net = nsfun::acquire<NsType::net>();
        NSFUN_EXPECT_OK(net);
        pinned = net.value().identity();
        NSFUN_EXPECT_OK(nsfun::pin(net.value(), path.c_str()));
      }  // the fd is closed: only the bind mount holds it

      auto snap = Snapshot::take();
      NSFUN_EXPECT_OK(snap);
      const NsSummary* s = snap.value().find(pinned);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->nprocs == 0);
      NSFUN_EXPECT(s->pid == 0);
      NSFUN_EXPECT(s->ppid == 0);
      // USER: the creator of its owning user namespace, as lsns 2.40 shows one (root here).
      auto own_user = NsFd::current(NsType::user);
      NSFUN_EXPECT_OK(own_user);
      auto owner_uid = own_user.value().owner_uid();
      NSFUN_EXPECT_OK(owner_uid);
      NSFUN_EXPECT(s->uid == owner_uid.value());
      NSFUN_EXPECT(s->command.empty());
      NSFUN_EXPECT(s->path == path);
      NSFUN_EXPECT(s->nsfs == std::vector<std::string>{path});
      NSFUN_EXPECT(s->holder == 0);

      auto mounts = nsfun::nsfs_mounts();
      NSFUN_EXPECT_OK(mounts);
      NSFUN_EXPECT(
          std::any_of(mounts.value().begin(), mounts.value().end(),
                      [&](const nsfun::NsfsMount& m) { return m.ns == pinned && m.path == path; }));

      // Through the bind mount the hierarchy and the id can still be read.
      SnapshotOptions deep;
      deep.hierarchy = true;
      deep.ids = true;
      auto detailed = Snapshot::take(deep);
      NSFUN_EXPECT_OK(detailed);
      s = detailed.value().find(pinned);
      NSFUN_EXPECT(s != nullptr);
      NSFUN_EXPECT(s->owner == ns_ino(::getpid(), NsType::user));
      NSFUN_EXPECT(s->ns.id() == pinned.id());

      NSFUN_EXPECT_OK(nsfun::unpin(path.c_str()));
      auto after = Snapshot::take();
      NSFUN_EXPECT_OK(after);
      NSFUN_EXPECT(after.value().find(pinned) == nullptr);
      auto mounts_after = nsfun::nsfs_mounts();
      NSFUN_EXPECT_OK(mounts_after);
      NSFUN_EXPECT(std::none_of(mounts_after.value().begin(), mounts_after.value().end(),
                                [&](const nsfun::NsfsMount& m) { return m.ns == pinned; }));
      return 0;
    });
  }

  TEST_CASE("a thread in its own uts namespace is listed only when threads are asked for") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), no_admin);
    NSFUN_CHECK_CHILD([] {
      UtsThread thread;
      NSFUN_EXPECT(thread.unshared());
      // A thread after it, in the leader's namespaces: not listed, and compared with the leader
      // after the uts thread's entry was added (which may move the entries already there).
      std::promise<void> done;
      std::thread plain([gone = done.get_future()] { gone.wait(); });
      struct Joiner {
        std::promise<void>& done;
        std::thread& t;
        ~Joiner() {
          done.set_value();
          t.join();
        }
      } joiner{done, plain};
      pid_t self = ::getpid();
      std::string task = "/proc/" + std::to_string(self) + "/task/" + std::to_string(thread.tid());
      std::uint64_t thread_uts = link_ino(task, "uts");
      NSFUN_EXPECT(thread_uts != 0 && thread_uts != ns_ino(self, NsType::uts));

      ProcScanOptions o;
      o.threads = true;
      o.pids = std::vector<pid_t>{self};
      auto scan = nsfun::scan_procs(o);
      NSFUN_EXPECT_OK(scan);
      const auto& procs = scan.value().procs;
      NSFUN_EXPECT(procs.size() == 2);
      const ProcEntry& leader = procs[0];
      const ProcEntry& other = procs[1];
      NSFUN_EXPECT(leader.pid == self && leader.tid == self);
      NSFUN_EXPECT(other.pid == self && other.tid == thread.tid());
      NSFUN_EXPECT(ino_of(other, NsType::uts) == thread_uts);
      NSFUN_EXPECT(ino_of(leader, NsType::uts) == ns_ino(self, NsType::uts));
      for (NsType t : NsTypeSet::all() - NsTypeSet{NsType::uts}) {
        NSFUN_EXPECT(ino_of(other, t) == ino_of(leader, t));
      }

      o.threads = false;
      auto bare = nsfun::scan_procs(o);
      NSFUN_EXPECT_OK(bare);
      NSFUN_EXPECT(bare.value().procs.size() == 1);
      NSFUN_EXPECT(bare.value().procs[0].tid == self);
      return 0;
    });
  }

  TEST_CASE("diff and isolated_from name exactly the namespaces a holder made") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts}), no_admin);
    NSFUN_CHECK_CHILD([] {
      Holders holders;
      pid_t holder = holders.start({NsType::net, NsType::uts}).pid;
      NSFUN_EXPECT(holder > 0);
      pid_t self = ::getpid();

      auto d = nsfun::diff(self, holder);
      NSFUN_EXPECT_OK(d);
      NSFUN_EXPECT(d.value().size() == nsfun::ns_link_count);
      for (std::size_t i = 0; i < d.value().size(); ++i) {
        const nsfun::NsDiffEntry& e = d.value()[i];
        NsLink l = nsfun::all_ns_links[i];
        NSFUN_EXPECT(e.link == l);
        NSFUN_EXPECT(!e.a.empty() && !e.b.empty());
        NSFUN_EXPECT(e.a.type() == nsfun::type_of(l) && e.b.type() == nsfun::type_of(l));
        NSFUN_EXPECT(e.a.ino() == ns_ino(self, l));
        NSFUN_EXPECT(e.b.ino() == ns_ino(holder, l));
        bool made = l == NsLink::net || l == NsLink::uts;
        NSFUN_EXPECT(e.same() == !made);
      }

      pid_t nobody = impossible_pid();
      auto gone = nsfun::diff(self, nobody);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_process);
      auto gone_first = nsfun::diff(nobody, self);
      NSFUN_EXPECT(!gone_first);
      NSFUN_EXPECT(gone_first.error() == std::errc::no_such_process);

      auto isolated = nsfun::isolated_from(holder, self);
      NSFUN_EXPECT_OK(isolated);
      NSFUN_EXPECT((isolated.value().types == NsTypeSet{NsType::net, NsType::uts}));
      NSFUN_EXPECT(isolated.value().unknown.empty());
      NSFUN_EXPECT(isolated.value().reference == nsfun::Isolation::Reference::process);
      NSFUN_EXPECT(isolated.value().reference_pid == self);
      auto none = nsfun::isolated_from(self, self);
      NSFUN_EXPECT_OK(none);
      NSFUN_EXPECT(none.value().types.empty());
      auto isolated_gone = nsfun::isolated_from(nobody, self);
      NSFUN_EXPECT(!isolated_gone);
      NSFUN_EXPECT(isolated_gone.error() == std::errc::no_such_process);
      NSFUN_EXPECT(isolated_gone.error().message() ==
                   "isolated_from: read /proc/" + std::to_string(nobody) + "/ns: No such process");
      return 0;
    });
  }

  TEST_CASE("issue #12: isolated_from(pid) compares with init where readable, else the caller") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts}), no_admin);
    NSFUN_CHECK_CHILD([] {
      Holders holders;
      pid_t holder = holders.start({NsType::net, NsType::uts}).pid;
      NSFUN_EXPECT(holder > 0);
      // Is PID 1 readable here (it is not in many sandboxes, this VM included)?
      char buf[64];
      bool init_readable = true;
      for (NsType t : nsfun::all_ns_types) {
        std::string link = "/proc/1/ns/" + std::string(nsfun::name(t));
        if (::readlink(link.c_str(), buf, sizeof(buf)) < 0) {
          init_readable = false;
        }
      }
      // This test's process is in the namespaces it started in, which are PID 1's when PID 1 is
      // readable (the tests run on the host); either way the holder differs in net and uts.
      auto iso = nsfun::isolated_from(holder);
      NSFUN_EXPECT_OK(iso);
      NSFUN_EXPECT((iso.value().types == NsTypeSet{NsType::net, NsType::uts}));
      NSFUN_EXPECT(iso.value().unknown.empty());
      if (init_readable) {
        NSFUN_EXPECT(iso.value().reference == nsfun::Isolation::Reference::init);
        NSFUN_EXPECT(iso.value().reference_pid == 1);
      } else {
        NSFUN_EXPECT(iso.value().reference == nsfun::Isolation::Reference::caller);
        NSFUN_EXPECT(iso.value().reference_pid == ::gettid());
      }
      // The caller compared with the default reference: nothing, whichever it is.
      auto self = nsfun::isolated_from(::getpid());
      NSFUN_EXPECT_OK(self);
      NSFUN_EXPECT(self.value().types.empty());
      return 0;
    });
  }

  TEST_CASE("Snapshot reads the hierarchy and the ids of a holder in a new user namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::net}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      auto probe = NsFd::current(NsType::net);
      NSFUN_EXPECT_OK(probe);
      bool have_ids = probe.value().identity().id() != 0;

      Holders holders;
      pid_t holder = holders.start({NsType::user, NsType::net}).pid;
      NSFUN_EXPECT(holder > 0);
      pid_t self = ::getpid();
      std::uint64_t own_user = ns_ino(self, NsType::user);
      std::uint64_t holder_user = ns_ino(holder, NsType::user);
      std::uint64_t holder_net = ns_ino(holder, NsType::net);
      NSFUN_EXPECT(holder_user != own_user && holder_net != ns_ino(self, NsType::net));

      SnapshotOptions o;
      o.hierarchy = true;
      o.ids = true;
      auto snap = Snapshot::take(o);
      NSFUN_EXPECT_OK(snap);
      std::uint64_t dev = snap.value().nsfs_dev();

      const NsSummary* user = snap.value().find(Namespace(NsType::user, dev, holder_user));
      NSFUN_EXPECT(user != nullptr);
      NSFUN_EXPECT(user->pid == holder && user->nprocs == 1);
      NSFUN_EXPECT(user->parent == own_user);
      NSFUN_EXPECT(user->owner == own_user);  // a user namespace is owned by its parent

      const NsSummary* net = snap.value().find(Namespace(NsType::net, dev, holder_net));
      NSFUN_EXPECT(net != nullptr);
      NSFUN_EXPECT(net->owner == holder_user);
      NSFUN_EXPECT(net->parent == 0);  // net has no hierarchy

      const NsSummary* mine =
          snap.value().find(Namespace(NsType::net, dev, ns_ino(self, NsType::net)));
      NSFUN_EXPECT(mine != nullptr);
      NSFUN_EXPECT(mine->owner == own_user);

      if (have_ids) {
        auto theirs = NsFd::open(holder, NsType::net);
        NSFUN_EXPECT_OK(theirs);
        NSFUN_EXPECT(net->ns.id() == theirs.value().identity().id());
        for (const NsSummary& s : snap.value().namespaces()) {
          if (s.pid == 0 || s.ns.id() != 0) {
            continue;
          }
          // Only allowed when that process exited (or moved) since the scan.
          if (ns_ino(s.pid, s.ns.type()) == s.ns.ino()) {
            std::fprintf(stderr, "%s has no id, its pid %d is still there\n",
                         s.ns.to_string().c_str(), static_cast<int>(s.pid));
            return 2;
          }
        }
      }
      return 0;
    });
  }

  TEST_CASE("processes_in lists the processes of one namespace when they are kept") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), no_admin);
    NSFUN_CHECK_CHILD([] {
      Holders holders;
      auto held = holders.start({NsType::net}, true);
      NSFUN_EXPECT(held.pid > 0 && held.grandchild > 0);

      SnapshotOptions o;
      o.keep_procs = true;
      auto snap = Snapshot::take(o);
      NSFUN_EXPECT_OK(snap);
      Namespace net(NsType::net, snap.value().nsfs_dev(), ns_ino(held.pid, NsType::net));
      std::vector<pid_t> expected{held.pid, held.grandchild};
      std::sort(expected.begin(), expected.end());
      NSFUN_EXPECT(snap.value().processes_in(net) == expected);
      NSFUN_EXPECT(!snap.value().processes().empty());

      Namespace own(NsType::net, snap.value().nsfs_dev(), ns_ino(::getpid(), NsType::net));
      auto ours = snap.value().processes_in(own);
      NSFUN_EXPECT(std::binary_search(ours.begin(), ours.end(), ::getpid()));
      NSFUN_EXPECT(!std::binary_search(ours.begin(), ours.end(), held.pid));

      auto lean = Snapshot::take();
      NSFUN_EXPECT_OK(lean);
      NSFUN_EXPECT(lean.value().processes().empty());
      NSFUN_EXPECT(lean.value().processes_in(net).empty());
      NSFUN_EXPECT(lean.value().find(net) != nullptr);
      return 0;
    });
  }

  TEST_CASE("a snapshot split in blocks over threads agrees with one thread, across blocks") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid, NsType::mnt, NsType::uts, NsType::ipc}),
                  no_admin);
    // In a new pid namespace with its own /proc, only the processes forked here are listed, in
    // the order they were forked: the blocks of 256 the scan hands to its threads fall on known
    // processes. A uts namespace is made by the 101st child (block 0) and joined by the 301st
    // and 601st (blocks 1 and 2): its lowest pid, count and command must come out the same
    // however the blocks were shared. The 101st also makes an ipc namespace: one command line
    // for two namespaces.
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(::unshare(CLONE_NEWPID | CLONE_NEWNS) == 0);
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
      pid_t init = ::fork();
      NSFUN_EXPECT(init >= 0);
      if (init == 0) {
        // pid 1: its processes die with it.
        NSFUN_EXPECT(::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) ==
                     0);
        constexpr int count = 700;
        std::vector<pid_t> children;
        std::string leader_uts;  // made before the joiners fork: no allocation after fork
        for (int i = 0; i < count; ++i) {
          int ready[2];
          NSFUN_EXPECT(::pipe2(ready, O_CLOEXEC) == 0);
          pid_t pid = ::fork();
          if (pid == 0) {
            if (i == 100) {
              if (::unshare(CLONE_NEWUTS | CLONE_NEWIPC) != 0) {
                ::_exit(1);
              }
              ::close(ready[1]);  // ready: exec closes nothing else of interest
              ::execlp("sleep", "sleep", "3601", static_cast<char*>(nullptr));
              ::_exit(1);
            }
            if (i == 300 || i == 600) {
              int fd = ::open(leader_uts.c_str(), O_RDONLY | O_CLOEXEC);
              if (fd < 0 || ::setns(fd, CLONE_NEWUTS) != 0) {
                ::_exit(1);
              }
              ::close(fd);
            }
            ::close(ready[1]);
            ::pause();
            ::_exit(0);
          }
          // Listed in fork order: the pids of a new pid namespace only go up.
          NSFUN_EXPECT(pid > (children.empty() ? 1 : children.back()));
          children.push_back(pid);
          if (i == 100) {
            leader_uts = "/proc/" + std::to_string(pid) + "/ns/uts";
          }
          ::close(ready[1]);
          char c = 0;
          NSFUN_EXPECT(::read(ready[0], &c, 1) == 0);  // the child got as far as it should
          ::close(ready[0]);
        }
        const pid_t leader = children[100];
        // The leader may still be in exec: wait for its command line to be sleep's.
        std::string cmdline;
        for (int i = 0; i < 500 && cmdline.rfind("sleep", 0) != 0; ++i) {
          std::ifstream f("/proc/" + std::to_string(leader) + "/cmdline");
          std::getline(f, cmdline);
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        NSFUN_EXPECT(cmdline.rfind("sleep", 0) == 0);
        const std::uint64_t span = ns_ino(leader, NsType::uts);
        NSFUN_EXPECT(span != 0 && span != ns_ino(::getpid(), NsType::uts));
        NSFUN_EXPECT(ns_ino(children[300], NsType::uts) == span);
        NSFUN_EXPECT(ns_ino(children[600], NsType::uts) == span);

        std::vector<Snapshot> snaps;
        for (unsigned workers : {1U, 0U, 3U}) {
          SnapshotOptions o;
          o.workers = workers;
          o.ppid = true;
          o.keep_procs = true;
          auto snap = Snapshot::take(o);
          NSFUN_EXPECT_OK(snap);
          snaps.push_back(std::move(snap).value());
        }
        const Snapshot& one = snaps.front();
        // The task iterator's pids are the initial namespace's, not this /proc's: never taken.
        for (const Snapshot& snap : snaps) {
          NSFUN_EXPECT(!snap.stats().task_iter);
        }
        NSFUN_EXPECT(one.stats().seen == count + 1);
        NSFUN_EXPECT(one.processes().size() == count + 1);
        const NsSummary* s = one.find(Namespace(NsType::uts, one.nsfs_dev(), span));
        NSFUN_EXPECT(s != nullptr);
        NSFUN_EXPECT(s->pid == leader);
        NSFUN_EXPECT(s->nprocs == 3);
        NSFUN_EXPECT(s->ppid == 1);
        NSFUN_EXPECT(s->command == "sleep 3601");
        NSFUN_EXPECT(s->uid == ::getuid());
        const NsSummary* ipc =
            one.find(Namespace(NsType::ipc, one.nsfs_dev(), ns_ino(leader, NsType::ipc)));
        NSFUN_EXPECT(ipc != nullptr && ipc != s);
        NSFUN_EXPECT(ipc->pid == leader && ipc->nprocs == 1 && ipc->command == "sleep 3601");
        NSFUN_EXPECT(one.processes_in(s->ns) ==
                     (std::vector<pid_t>{leader, children[300], children[600]}));
        const NsSummary* pid_ns =
            one.find(Namespace(NsType::pid, one.nsfs_dev(), ns_ino(::getpid(), NsType::pid)));
        NSFUN_EXPECT(pid_ns != nullptr);
        NSFUN_EXPECT(pid_ns->pid == 1 && pid_ns->nprocs == count + 1);
        for (const Snapshot& other : snaps) {
          NSFUN_EXPECT(other.stats().seen == one.stats().seen);
          NSFUN_EXPECT(other.namespaces().size() == one.namespaces().size());
          for (std::size_t i = 0; i < one.namespaces().size(); ++i) {
            const NsSummary& a = one.namespaces()[i];
            const NsSummary& b = other.namespaces()[i];
            NSFUN_EXPECT(a.ns == b.ns && a.nprocs == b.nprocs && a.pid == b.pid);
            NSFUN_EXPECT(a.ppid == b.ppid && a.uid == b.uid && a.command == b.command);
            NSFUN_EXPECT(a.path == b.path);
          }
          NSFUN_EXPECT(other.processes().size() == one.processes().size());
          for (std::size_t i = 0; i < one.processes().size(); ++i) {
            NSFUN_EXPECT(other.processes()[i].pid == one.processes()[i].pid);
            NSFUN_EXPECT(other.processes()[i].ino == one.processes()[i].ino);
          }
        }
        ::_exit(0);  // the sleepers die with this pid namespace's init
      }
      int status = 0;
      NSFUN_EXPECT(::waitpid(init, &status, 0) == init);
      NSFUN_EXPECT(WIFEXITED(status));
      return WEXITSTATUS(status);
    });
  }
  TEST_CASE(
      "the task iterator reads what readlinkat reads, also for zombies and a pid namespace without "
      "init") {
    NSFUN_REQUIRE(nsfun::detail::task_iter_built(), "built without the BPF task iterator");
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts, NsType::ipc, NsType::mnt,
                                            NsType::cgroup, NsType::pid, NsType::time}),
                  no_admin);
    NSFUN_CHECK_CHILD([] {
      Holders load;
      // Enough processes for a scan to take the iterator (it pays from a few hundred).
      for (int i = 0; i < 320; ++i) {
        NSFUN_EXPECT(load.start({}).pid > 0);
      }
      // Each kind of link: a new namespace of every type; a pid namespace whose first process
      // is its init; one with no process yet, whose pid_for_children link cannot be read; a
      // time namespace, which only the *_for_children link shows until a child is born.
      NSFUN_EXPECT(
          load.start({NsType::net, NsType::uts, NsType::ipc, NsType::mnt, NsType::cgroup}).pid > 0);
      NSFUN_EXPECT(load.start({NsType::user}).pid > 0);
      auto with_init = load.start({NsType::pid}, true);
      NSFUN_EXPECT(with_init.grandchild > 0);
      auto no_init = load.start({NsType::pid});
      NSFUN_EXPECT(no_init.pid > 0);
      auto time_ns = load.start({NsType::time});
      NSFUN_EXPECT(time_ns.pid > 0);
      Zombie dead;
      const pid_t zombie = dead.pid();
      NSFUN_EXPECT(zombie > 0);

      ProcScanOptions fast;
      fast.for_children = true;
      ProcScanOptions slow = fast;
      slow.task_iter = false;
      auto a = nsfun::scan_procs(fast);
      auto b = nsfun::scan_procs(slow);
      NSFUN_EXPECT_OK(a);
      NSFUN_EXPECT_OK(b);
      NSFUN_EXPECT(a.value().stats.task_iter);
      NSFUN_EXPECT(!b.value().stats.task_iter);
      NSFUN_EXPECT(well_formed(a.value()));

      std::vector<pid_t> ours = load.all();
      ours.push_back(zombie);
      ours.push_back(::getpid());
      for (pid_t pid : ours) {
        const ProcEntry* x = entry_of(a.value(), pid);
        const ProcEntry* y = entry_of(b.value(), pid);
        NSFUN_EXPECT(x != nullptr && y != nullptr);
        if (x->ino != y->ino) {
          std::fprintf(stderr, "pid %d:", pid);
          for (NsLink l : nsfun::all_ns_links) {
            std::fprintf(stderr, " %s %llu/%llu", std::string(nsfun::name(l)).c_str(),
                         static_cast<unsigned long long>(ino_of(*x, l)),
                         static_cast<unsigned long long>(ino_of(*y, l)));
          }
          std::fprintf(stderr, " (iterator/readlinkat)\n");
          return 2;
        }
      }
      // The cases that make a difference, checked against readlink itself.
      const ProcEntry* z = entry_of(a.value(), zombie);
      for (NsLink l : nsfun::all_ns_links) {
        bool kept = l == NsLink::user || l == NsLink::pid;
        NSFUN_EXPECT((ino_of(*z, l) != 0) == kept);
      }
      const ProcEntry* n = entry_of(a.value(), no_init.pid);
      NSFUN_EXPECT(ino_of(*n, NsLink::pid_for_children) == 0);
      NSFUN_EXPECT(ino_of(*n, NsLink::pid) == ns_ino(::getpid(), NsLink::pid));
      const ProcEntry* i = entry_of(a.value(), with_init.grandchild);
      NSFUN_EXPECT(ino_of(*i, NsLink::pid) == ns_ino(with_init.grandchild, NsLink::pid));
      NSFUN_EXPECT(ino_of(*i, NsLink::pid) != ns_ino(::getpid(), NsLink::pid));
      const ProcEntry* t = entry_of(a.value(), time_ns.pid);
      NSFUN_EXPECT(ino_of(*t, NsLink::time) == ns_ino(::getpid(), NsLink::time));
      NSFUN_EXPECT(ino_of(*t, NsLink::time_for_children) ==
                   ns_ino(time_ns.pid, NsLink::time_for_children));
      NSFUN_EXPECT(ino_of(*t, NsLink::time_for_children) != ino_of(*t, NsLink::time));

      // A Snapshot takes the same way, and counts the same.
      SnapshotOptions so;
      so.mounts = false;
      auto fast_snap = Snapshot::take(so);
      so.task_iter = false;
      auto slow_snap = Snapshot::take(so);
      NSFUN_EXPECT_OK(fast_snap);
      NSFUN_EXPECT_OK(slow_snap);
      NSFUN_EXPECT(fast_snap.value().stats().task_iter);
      NSFUN_EXPECT(!slow_snap.value().stats().task_iter);
      for (pid_t pid : {with_init.grandchild, time_ns.pid}) {
        for (NsType type : {NsType::pid, NsType::net}) {
          Namespace ns(type, fast_snap.value().nsfs_dev(), ns_ino(pid, type));
          const NsSummary* f = fast_snap.value().find(ns);
          const NsSummary* s = slow_snap.value().find(ns);
          NSFUN_EXPECT(f != nullptr && s != nullptr);
          NSFUN_EXPECT(f->pid == s->pid);
          NSFUN_EXPECT(f->command == s->command);
          NSFUN_EXPECT(f->uid == s->uid);
        }
      }

      // Without privileges the iterator cannot be loaded: the scan reads /proc, as before.
      if (nsfun::test::can_drop_privileges()) {
        pid_t child = ::fork();
        if (child == 0) {
          if (nsfun::test::drop_privileges() != 0) {
            ::_exit(10);
          }
          auto scan = nsfun::scan_procs();
          ::_exit(!scan                          ? 11
                  : scan.value().stats.task_iter ? 12
                  : !well_formed(scan.value())   ? 13
                                                 : 0);
        }
        NSFUN_EXPECT(child > 0);
        int status = 0;
        NSFUN_EXPECT(::waitpid(child, &status, 0) == child);
        NSFUN_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      }
      return 0;
    });
  }
}

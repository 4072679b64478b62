// SPDX-License-Identifier: MIT
// nsfun tests – proc_scan.hpp and snapshot.hpp without privileges, and the /proc parsers.

#include <algorithm>
#include <atomic>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/detail/work_queue.hpp>
#include <nsfun/format.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

#include "test_support.hpp"

using nsfun::NsLink;
using nsfun::NsType;
using nsfun::test::link_ino;

namespace {

const nsfun::ProcEntry* find_pid(const nsfun::ProcScan& scan, pid_t pid) {
  for (const auto& p : scan.procs) {
    if (p.pid == pid && p.tid == pid) {
      return &p;
    }
  }
  return nullptr;
}

// Children that sleep until killed; killed and reaped by the destructor.
struct Sleepers {
  std::vector<pid_t> pids;

  explicit Sleepers(int n) {
    for (int i = 0; i < n; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::pause();
        ::_exit(0);
      }
      if (pid > 0) {
        pids.push_back(pid);
      }
    }
  }

  Sleepers(const Sleepers&) = delete;
  Sleepers& operator=(const Sleepers&) = delete;

  ~Sleepers() {
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_SUITE("proc_scan") {
  TEST_CASE("scan finds the caller with the inodes of its proc links") {
    auto scan = nsfun::scan_procs();
    REQUIRE(scan);
    CHECK(scan.value().stats.seen >= scan.value().procs.size());
    const nsfun::ProcEntry* self = find_pid(scan.value(), ::getpid());
    REQUIRE(self != nullptr);
    for (NsType t : nsfun::all_ns_types) {
      CHECK(self->ino[static_cast<std::size_t>(t)] == link_ino(::getpid(), nsfun::name(t)));
    }
    // Not asked for: not read.
    CHECK(self->ino[static_cast<std::size_t>(NsLink::pid_for_children)] == 0);
    CHECK(self->comm.empty());
    CHECK(self->ppid == 0);
    CHECK(std::is_sorted(scan.value().procs.begin(), scan.value().procs.end(),
                         [](const auto& a, const auto& b) { return a.pid < b.pid; }));
  }

  TEST_CASE("scan reads the optional fields only when asked") {
    nsfun::ProcScanOptions o;
    o.types = {NsType::net};
    o.ppid = o.uid = o.cmdline = o.nspid = o.for_children = true;
    o.pids = std::vector<pid_t>{::getpid()};
    auto scan = nsfun::scan_procs(o);
    REQUIRE(scan);
    REQUIRE(scan.value().procs.size() == 1);
    const auto& self = scan.value().procs[0];
    CHECK(self.ppid == ::getppid());
    CHECK(self.uid == ::geteuid());
    CHECK(self.comm == "nsfun_unit_test");  // the kernel cuts comm at 15 characters
    CHECK(self.cmdline.find("nsfun_unit_tests") != std::string::npos);
    REQUIRE_FALSE(self.nspid.empty());
    CHECK(self.nspid.front() == ::getpid());
    CHECK(self.ino[static_cast<std::size_t>(NsType::net)] != 0);
    CHECK(self.ino[static_cast<std::size_t>(NsType::uts)] == 0);  // type not asked for
    CHECK(self.ns(NsLink::net, scan.value().nsfs_dev) ==
          nsfun::NsFd::current(NsType::net).value().identity());
  }

  TEST_CASE("pids that do not exist are counted as vanished and zombies keep user and pid") {
    pid_t zombie = ::fork();
    REQUIRE(zombie >= 0);
    if (zombie == 0) {
      ::_exit(0);
    }
    siginfo_t info{};
    REQUIRE(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT) == 0);
    nsfun::ProcScanOptions o;
    o.pids = std::vector<pid_t>{0x3ffffff0, zombie, ::getpid()};
    auto scan = nsfun::scan_procs(o);
    ::waitpid(zombie, nullptr, 0);
    REQUIRE(scan);
    REQUIRE(scan.value().procs.size() == 2);
    CHECK(scan.value().stats.seen == 3);
    CHECK(scan.value().stats.vanished == 1);
    const nsfun::ProcEntry& z = scan.value().procs[0];
    CHECK(z.pid == zombie);
    CHECK(z.ino[static_cast<std::size_t>(NsType::user)] != 0);
    CHECK(z.ino[static_cast<std::size_t>(NsType::pid)] != 0);
    CHECK(z.ino[static_cast<std::size_t>(NsType::net)] == 0);
  }

  TEST_CASE("split across workers the scan gives the same result, in the same order") {
    Sleepers load(40);
    std::vector<pid_t> some = load.pids;
    some.push_back(::getpid());
    std::sort(some.begin(), some.end());
    // Over a thousand entries (each pid many times): several blocks, threads started by count.
    std::vector<pid_t> pids;
    for (int round = 0; round < 25; ++round) {
      pids.insert(pids.end(), some.begin(), some.end());
    }
    nsfun::ProcScanOptions o;
    o.pids = pids;
    o.workers = 1;
    auto one = nsfun::scan_procs(o);
    REQUIRE(one);
    REQUIRE(one.value().procs.size() == pids.size());
    for (unsigned workers : {0U, 2U, 3U}) {
      o.workers = workers;
      auto split = nsfun::scan_procs(o);
      REQUIRE(split);
      CHECK(split.value().stats.seen == pids.size());
      REQUIRE(split.value().procs.size() == pids.size());
      for (std::size_t i = 0; i < pids.size(); ++i) {
        CHECK(split.value().procs[i].pid == pids[i]);
        CHECK(one.value().procs[i].ino == split.value().procs[i].ino);
      }
    }
  }

  TEST_CASE("a failure on a scanning thread reaches the caller once every thread has stopped") {
    // A sink that runs out of memory on its third block, whichever thread scans it.
    class Failing final : public nsfun::detail::BlockSink {
     public:
      std::unique_ptr<Part> take(std::vector<nsfun::ProcEntry>& procs) override {
        if (calls_.fetch_add(1) == 2) {
          throw std::bad_alloc();
        }
        procs.clear();
        return std::make_unique<Part>();
      }

     private:
      std::atomic<int> calls_{0};
    };

    auto threads = [] {
      std::size_t n = 0;
      nsfun::detail::for_each_pid(
          nsfun::UniqueFd::adopt(::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
              .get(),
          [&](pid_t) { ++n; });
      return n;
    };
    const std::size_t fds = nsfun::test::open_fd_count();
    const std::size_t before = threads();
    nsfun::ProcScanOptions o;
    o.pids = std::vector<pid_t>(2000, ::getpid());  // eight blocks
    for (unsigned workers : {1U, 2U, 4U}) {
      o.workers = workers;
      auto proc = nsfun::UniqueFd::adopt(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      Failing sink;
      CHECK_THROWS_AS((void)nsfun::detail::scan_blocks_at(proc.get(), o, sink), std::bad_alloc);
    }
    CHECK(threads() == before);
    CHECK(nsfun::test::open_fd_count() == fds);
  }

  TEST_CASE("scan_proc reads one process with every link") {
    auto self = nsfun::scan_proc(::getpid());
    REQUIRE(self);
    for (NsLink l : nsfun::all_ns_links) {
      CHECK(self.value().ino[static_cast<std::size_t>(l)] == link_ino(::getpid(), nsfun::name(l)));
    }
    auto gone = nsfun::scan_proc(0x3ffffff0);
    REQUIRE_FALSE(gone);
    CHECK(gone.error() == std::errc::no_such_process);
    CHECK(nsfun::scan_proc(0).error() == std::errc::no_such_process);
  }

  TEST_CASE("snapshot groups the caller's namespaces") {
    Sleepers load(5);
    nsfun::SnapshotOptions o;
    o.keep_procs = true;
    auto snap = nsfun::Snapshot::take(o);
    REQUIRE(snap);
    for (NsType t : nsfun::all_ns_types) {
      auto mine = nsfun::NsFd::current(t);
      REQUIRE(mine);
      const nsfun::NsSummary* s = snap.value().find(mine.value().identity());
      REQUIRE(s != nullptr);
      CHECK(s->nprocs >= 6);  // the runner and its five sleepers
      CHECK(s->pid > 0);
      CHECK(s->pid <= ::getpid());
      CHECK_FALSE(s->command.empty());
      auto in = snap.value().processes_in(mine.value().identity());
      CHECK(std::find(in.begin(), in.end(), ::getpid()) != in.end());
      CHECK(in.size() == s->nprocs);
    }
    const auto& all = snap.value().namespaces();
    CHECK(std::is_sorted(all.begin(), all.end(),
                         [](const auto& a, const auto& b) { return a.ns.ino() < b.ns.ino(); }));
  }

  TEST_CASE("snapshot of some types reads only those") {
    nsfun::SnapshotOptions o;
    o.types = {NsType::net, NsType::uts};
    auto snap = nsfun::Snapshot::take(o);
    REQUIRE(snap);
    REQUIRE_FALSE(snap.value().namespaces().empty());
    for (const auto& s : snap.value().namespaces()) {
      CHECK(o.types.contains(s.ns.type()));
    }
  }

  TEST_CASE("diff and isolated_from of the caller with itself") {
    auto d = nsfun::diff(::getpid(), ::getpid());
    REQUIRE(d);
    CHECK(d.value().size() == nsfun::ns_link_count);
    for (const auto& e : d.value()) {
      CHECK(e.same());
    }
    auto iso = nsfun::isolated_from(::getpid(), ::getpid());
    REQUIRE(iso);
    CHECK(iso.value().types.empty());
    CHECK(iso.value().reference_pid == ::getpid());
    auto bad = nsfun::diff(::getpid(), 0x3ffffff0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == std::errc::no_such_process);
  }
}

TEST_SUITE("proc_parse") {
  TEST_CASE("stat with a command name holding parentheses and spaces") {
    pid_t ppid = 0;
    std::string comm;
    nsfun::detail::parse_stat("42 (a) b (c) S 17 42 42 0 -1", ppid, comm);
    CHECK(comm == "a) b (c");
    CHECK(ppid == 17);
    nsfun::detail::parse_stat("garbage", ppid, comm);
    CHECK(comm == "a) b (c");  // untouched
  }

  TEST_CASE("cmdline NULs become spaces and the trailing NUL goes") {
    std::string c(
        "sleep\0"
        "30\0",
        9);
    nsfun::detail::join_cmdline(c);
    CHECK(c == "sleep 30");
    std::string empty;
    nsfun::detail::join_cmdline(empty);
    CHECK(empty.empty());
  }

  TEST_CASE("NSpid lists the pid in each nested namespace") {
    std::vector<pid_t> out;
    nsfun::detail::parse_nspid("Name:\tsh\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\n", out);
    CHECK(out == std::vector<pid_t>{4242, 17, 1});
    nsfun::detail::parse_nspid("Name:\tsh\n", out);
    CHECK(out.empty());
  }

  TEST_CASE("mountinfo paths are unescaped") {
    CHECK(nsfun::detail::unescape_mount_path("/run/netns/a\\040b") == "/run/netns/a b");
    CHECK(nsfun::detail::unescape_mount_path("/x\\134y\\011z\\012") == "/x\\y\tz\n");
    CHECK(nsfun::detail::unescape_mount_path("/trail\\04") == "/trail\\04");
    CHECK(nsfun::detail::unescape_mount_path("/plain") == "/plain");
  }

  TEST_CASE("for_each_pid lists only numeric entries in order") {
    int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(proc >= 0);
    std::vector<pid_t> pids;
    nsfun::detail::for_each_pid(proc, [&](pid_t p) { pids.push_back(p); });
    ::close(proc);
    CHECK(std::find(pids.begin(), pids.end(), ::getpid()) != pids.end());
    CHECK(std::is_sorted(pids.begin(), pids.end()));
  }
  TEST_CASE("PathBuf builds a path, cuts it back to a prefix and stops at its capacity") {
    nsfun::detail::sys::PathBuf path;
    CHECK(std::string(path.c_str()).empty());
    path.add(1234L).add("/");
    const std::size_t base = path.size();
    CHECK(base == 5);
    CHECK(std::string(path.add("ns/net").c_str()) == "1234/ns/net");
    CHECK(std::string(path.truncate(base).add("stat").c_str()) == "1234/stat");
    CHECK(std::string(path.truncate(base).c_str()) == "1234/");
    CHECK(path.truncate(100).size() == base);  // never past what it holds
    nsfun::detail::sys::PathBuf big;
    for (int i = 0; i < 1000; ++i) {
      big.add("/abcdefgh");
    }
    CHECK(big.size() == 4095);
    CHECK(std::string(big.c_str()).size() == 4095);
  }

  TEST_CASE("parallel_for runs every index once, over several threads, and rethrows a failure") {
    for (unsigned workers : {0U, 1U, 3U, 8U}) {
      for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
        std::vector<std::atomic<int>> hits(n);
        nsfun::detail::parallel_for(n, workers, [&](std::size_t i) { ++hits[i]; });
        CHECK(std::all_of(hits.begin(), hits.end(), [](const auto& h) { return h == 1; }));
      }
    }
    std::atomic<int> ran{0};
    CHECK_THROWS_AS(nsfun::detail::parallel_for(1000, 4,
                                                [&](std::size_t i) {
                                                  ++ran;
                                                  if (i == 500) {
                                                    throw std::runtime_error("index 500");
                                                  }
                                                }),
                    std::runtime_error);
    CHECK(ran >= 1);
  }

  TEST_CASE("a WorkQueue hands out items in push order while they are still pushed") {
    nsfun::detail::WorkQueue<int> queue;
    std::atomic<int> sum{0};
    auto loop = [&] {
      while (int* item = queue.take()) {
        sum += *item;
        *item = -*item;  // done
      }
    };
    CHECK(queue.start(3, loop) <= 3);
    for (int i = 1; i <= 100; ++i) {
      queue.push(i);
    }
    queue.finish();
    queue.run(loop);
    queue.join();
    queue.rethrow();
    CHECK(sum == 5050);
    REQUIRE(queue.items().size() == 100);
    for (int i = 0; i < 100; ++i) {
      CHECK(queue.items()[static_cast<std::size_t>(i)] == -(i + 1));
    }
  }
}
